package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// server is a running nn serve.
type server struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr strings.Builder
	done   chan error
}

// startServe starts nn serve with args, listening on a free port, and
// waits for the address it prints; the process is killed at the end of
// the test if still running.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	s, _ := launchServe(t, false, append([]string{"-addr", "127.0.0.1:0"}, args...))
	return s
}

// launchServe starts nn serve with args and waits for the address it
// prints: the gRPC one with grpc, the HTTP one (s.url) otherwise. With
// grpc, s.url is the HTTP address if nn serve printed it first, as it
// does. The process is killed at the end of the test if still running.
func launchServe(t *testing.T, grpc bool, args []string) (s *server, grpcAddr string) {
	t.Helper()
	s = &server{cmd: exec.Command(binary, append([]string{"serve"}, args...)...), done: make(chan error, 1)}
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	httpURL, gaddr := make(chan string, 1), make(chan string, 1)
	go func() {
		httpRE := regexp.MustCompile(`^nn serve: listening on (https?://[0-9.:]+) `)
		grpcRE := regexp.MustCompile(`^nn serve: gRPC listening on ([0-9.:]+) `)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := httpRE.FindStringSubmatch(sc.Text()); m != nil {
				httpURL <- m[1]
			}
			if m := grpcRE.FindStringSubmatch(sc.Text()); m != nil {
				gaddr <- m[1]
			}
		}
		s.done <- s.cmd.Wait()
	}()
	want, what := httpURL, "where it listens"
	if grpc {
		want, what = gaddr, "where it listens for gRPC"
	}
	var addr string
	select {
	case addr = <-want:
	case err := <-s.done:
		s.done <- err
		t.Fatalf("nn serve exited (%v) before listening:\n%s", err, s.log())
	case <-time.After(20 * time.Second):
		t.Fatalf("nn serve did not say %s:\n%s", what, s.log())
	}
	if !grpc {
		s.url = addr
		return s, ""
	}
	select {
	case s.url = <-httpURL:
	default:
	}
	return s, addr
}

// log returns what the server wrote on stderr so far.
func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// wait waits for the server to exit and returns its exit status.
func (s *server) wait(t *testing.T) int {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		t.Fatalf("nn serve did not exit:\n%s", s.log())
		return -1
	}
}

// Requests in flight when SIGTERM comes are answered before nn serve
// exits; new connections are refused after.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	model := trainedIris(t)
	s := startServe(t, "-model", "iris="+model, "-drain-timeout", "10s")
	host := strings.TrimPrefix(s.url, "http://")
	body := `{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.3, 2.9, 5.6, 1.8]]}`
	const n = 6
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Headers and half the body: the request is in flight.
		fmt.Fprintf(c, "POST /invocations HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", host, len(body), body[:len(body)/2])
		conns[i] = c
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	// The listener is closed: no new connections.
	if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		c.Close()
		t.Error("a new connection was accepted after SIGTERM")
	}
	for i, c := range conns {
		io.WriteString(c, body[len(body)/2:])
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Errorf("request %d in flight at SIGTERM: %v", i, err)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(b), `{"predictions":["setosa","virginica"]}`) {
			t.Errorf("request %d in flight at SIGTERM: %d %s", i, resp.StatusCode, b)
		}
	}
	if code := s.wait(t); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0:\n%s", code, s.log())
	}
	if !strings.Contains(s.log(), "shutting down") || !strings.Contains(s.log(), "stopped") {
		t.Errorf("no shutdown in the log:\n%s", s.log())
	}
}

// SIGHUP reloads the model file, with polling off.
func TestServeSIGHUP(t *testing.T) {
	model := trainedIris(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.json")
	other := filepath.Join(dir, "other.json")
	mustRun(t, "", "train", "-data", irisPath, "-target", "species", "-seed", "7", "-hidden", "3", "-epochs", "5", "-o", other, "-quiet")
	b, _ := os.ReadFile(model)
	os.WriteFile(path, b, 0o644)
	s := startServe(t, "-model", path, "-reload-interval", "0") // named m, by the file
	// get returns the probabilities of a row, in which two models differ.
	get := func() string {
		resp, err := http.Post(s.url+"/v2/models/m/infer", "application/json", strings.NewReader(`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[6.0,2.7,5.1,1.6]}],"outputs":[{"name":"probabilities"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	before := get()
	b, _ = os.ReadFile(other)
	os.WriteFile(path+".tmp", b, 0o644)
	os.Rename(path+".tmp", path)
	time.Sleep(100 * time.Millisecond)
	if get() != before {
		t.Fatal("the model changed without SIGHUP, with -reload-interval 0")
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	deadline := time.Now().Add(10 * time.Second)
	for get() == before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if get() == before {
		t.Fatalf("SIGHUP did not reload the model:\n%s", s.log())
	}
	// A broken file on SIGHUP: a warning, and the model keeps serving.
	os.WriteFile(path, []byte("{"), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(10 * time.Second)
	for !strings.Contains(s.log(), "level=WARN") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.log(), "model reload failed") {
		t.Errorf("no warning of the failed reload:\n%s", s.log())
	}
	resp, err := http.Post(s.url+"/invocations", "application/json", strings.NewReader(`{"inputs": [[5.1, 3.5, 1.4, 0.2]]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("after a broken reload: %v %v", resp, err)
	}
}

// A model file replaced by a named pipe, whose open would wait for a
// writer, fails to reload on SIGHUP as not a regular file, at once, and
// SIGTERM then stops nn serve within the drain timeout.
func TestServeSIGHUPFIFO(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPED: named pipes and signals as Linux has them")
	}
	model := trainedIris(t)
	path := filepath.Join(t.TempDir(), "m.json")
	b, _ := os.ReadFile(model)
	os.WriteFile(path, b, 0o644)
	s := startServe(t, "-model", path, "-reload-interval", "0", "-drain-timeout", "5s")
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the failed reload", func() bool { return strings.Contains(s.log(), "reload on SIGHUP: some models failed") })
	if want := path + ": not a regular file but a named pipe"; !strings.Contains(s.log(), want) {
		t.Errorf("the log does not say %q:\n%s", want, s.log())
	}
	// Two more SIGHUPs, the second maybe while the first reloads, and
	// SIGTERM.
	s.cmd.Process.Signal(syscall.SIGHUP)
	s.cmd.Process.Signal(syscall.SIGHUP)
	start := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0:\n%s", code, s.log())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("exited %v after SIGTERM, more than the drain timeout of 5s", d)
	}
}

// Reloads run one at a time off the signal loop: asking for one never
// waits, even while one hangs, and asks made during one make one more.
func TestServeReloadsOneAtATime(t *testing.T) {
	gate := make(chan struct{})
	var calls atomic.Int64
	reloads := startReloads(func() error {
		calls.Add(1)
		<-gate
		return nil
	}, nil, slog.New(slog.DiscardHandler))
	defer close(reloads)
	askReload(reloads)
	waitUntil(t, "the first reload", func() bool { return calls.Load() == 1 })
	start := time.Now()
	for range 100 {
		askReload(reloads) // SIGHUPs while the reload hangs
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("asking for reloads while one hangs took %v", d)
	}
	gate <- struct{}{} // the first ends; one more runs
	waitUntil(t, "the second reload", func() bool { return calls.Load() == 2 })
	gate <- struct{}{}
	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n != 2 {
		t.Errorf("%d reloads for 101 asks, 100 of them during the first; want 2", n)
	}
}

// A request that does not fit under -max-inflight-bytes beside one in
// flight is refused at once with 503 and Retry-After.
func TestServeOverload(t *testing.T) {
	model := trainedIris(t)
	s := startServe(t, "-model", "iris="+model, "-max-body", "64KiB", "-max-inflight-bytes", "64KiB")
	host := strings.TrimPrefix(s.url, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Headers and the start of a body: the request holds the bound.
	fmt.Fprintf(c, "POST /invocations HTTP/1.1\r\nHost: %s\r\nContent-Length: 60000\r\n\r\n{", host)
	waitUntil(t, "the holder", func() bool {
		resp, err := http.Get(s.url + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return regexp.MustCompile(`(?m)^nn_serve_inflight_bytes [1-9]`).Match(b)
	})
	resp, err := http.Post(s.url+"/invocations", "application/json", strings.NewReader(`{"inputs": [[5.1, 3.5, 1.4, 0.2]]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(b), `"error_code":"TEMPORARILY_UNAVAILABLE","message":"overloaded: `) {
		t.Errorf("beside a request that holds the bound: %d, Retry-After %q, %s; want 503, 1 and an MLflow error", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1, of the common
// name cn, and its key into dir, replacing those there.
func writeCert(t *testing.T, dir, cn string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// HTTPS with a token file: the token is the file's first line without
// the white space around it; HTTP/2 is offered; SIGHUP loads a replaced
// certificate.
func TestServeTLSToken(t *testing.T) {
	model := trainedIris(t)
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "first")
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte(" tok-123 \r\nsecond line\n"), 0o600)
	s := startServe(t, "-model", "iris="+model, "-tls-cert", certFile, "-tls-key", keyFile, "-token-file", tokenFile)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("url %s", s.url)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	for i, test := range []struct {
		path, auth string
		status     int
	}{
		{"/v2/health/live", "", 200},
		{"/v2/health/ready", "", 401},
		{"/v2/health/ready", "Bearer tok-12", 401},      // a prefix of the token
		{"/v2/health/ready", "Bearer tok-123x", 401},    // the token and more
		{"/v2/health/ready", "Bearer second line", 401}, // only the first line is the token
		{"/v2/health/ready", "Bearer tok-123", 200},
		{"/v2/models/iris", "bearer tok-123", 200},
	} {
		req, _ := http.NewRequest("GET", s.url+test.path, nil)
		if test.auth != "" {
			req.Header.Set("Authorization", test.auth)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != test.status {
			t.Errorf("%d: GET %s with %q: %d, want %d", i, test.path, test.auth, resp.StatusCode, test.status)
		}
		if resp.ProtoMajor != 2 {
			t.Errorf("%d: %s, want HTTP/2", i, resp.Proto)
		}
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get(strings.Replace(s.url, "https", "http", 1) + "/v2/health/live"); err == nil && resp.StatusCode == 200 {
		t.Error("plain HTTP answered on the TLS port")
	}
	// A new certificate, loaded on SIGHUP; a broken one leaves it.
	commonName := func() string {
		conn, err := tls.Dial("tcp", strings.TrimPrefix(s.url, "https://"), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if cn := commonName(); cn != "first" {
		t.Fatalf("certificate %q, want first", cn)
	}
	writeCert(t, dir, "second")
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the new certificate", func() bool { return commonName() == "second" })
	os.WriteFile(certFile, []byte("not a certificate"), 0o644)
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitUntil(t, "the warning", func() bool { return strings.Contains(s.log(), "the TLS certificate failed to load") })
	if cn := commonName(); cn != "second" {
		t.Errorf("after a broken certificate file: %q, want second", cn)
	}
}

// waitUntil waits up to 10 s for ok.
func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// A second SIGTERM during the drain stops nn serve at once, with status
// 1 and a message.
func TestServeSecondSignal(t *testing.T) {
	model := trainedIris(t)
	s := startServe(t, "-model", "iris="+model, "-drain-timeout", "1m")
	host := strings.TrimPrefix(s.url, "http://")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A request in flight, never finished, holds the drain.
	fmt.Fprintf(c, "POST /invocations HTTP/1.1\r\nHost: %s\r\nContent-Length: 100\r\n\r\n{", host)
	time.Sleep(100 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	waitUntil(t, "the drain", func() bool { return strings.Contains(s.log(), "shutting down") })
	s.cmd.Process.Signal(syscall.SIGTERM)
	if code := s.wait(t); code != 1 {
		t.Errorf("exit status %d after a second SIGTERM, want 1:\n%s", code, s.log())
	}
	if !strings.Contains(s.log(), "a second signal (terminated): requests still running were cut") {
		t.Errorf("no message of the second signal:\n%s", s.log())
	}
}

// Requests that are being answered, some of them waiting in the batcher,
// when SIGTERM comes are answered: every response is a 200, and clients
// fail only on connections that the shutdown closed.
func TestServeSIGTERMUnderLoad(t *testing.T) {
	model := trainedIris(t)
	s := startServe(t, "-model", "iris="+model, "-batch-delay", "2ms")
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{}}
			for {
				resp, err := c.Post(s.url+"/invocations", "application/json", strings.NewReader(`{"inputs": [[5.1, 3.5, 1.4, 0.2]]}`))
				if err != nil {
					return // the server is gone
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("during SIGTERM: %d %s", resp.StatusCode, b)
					return
				}
				mu.Lock()
				answered++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	wg.Wait()
	if code := s.wait(t); code != 0 {
		t.Errorf("exit status %d, want 0:\n%s", code, s.log())
	}
	if answered < 10 {
		t.Errorf("%d requests answered before SIGTERM", answered)
	}
}

// Without -addr, nn serve listens on loopback only.
func TestServeAddrDefault(t *testing.T) {
	var f serveFlags
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse([]string{"-model", "x.json"}); err != nil {
		t.Fatal(err)
	}
	if f.addr != "127.0.0.1:8080" {
		t.Errorf("default -addr %q, want 127.0.0.1:8080", f.addr)
	}
	host, _, err := net.SplitHostPort(f.addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		t.Errorf("default -addr %q is not a loopback address", f.addr)
	}
}

func TestServeUsage(t *testing.T) {
	model := trainedIris(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	for i, test := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve"}, 2, "flag -model or -repository is required"},
		{[]string{"serve", "-model", "iris=" + model, "-tls-cert", "c.pem"}, 2, "-tls-cert and -tls-key go together"},
		{[]string{"serve", "-model", "iris=" + model, "-batch-delay", "-1ms"}, 2, "-batch-delay"},
		{[]string{"serve", "-model", "iris=" + model, "-max-body", "10"}, 2, "-max-body"},
		{[]string{"serve", "-model", "iris=" + model, "-max-inflight-bytes", "10"}, 2, "-max-inflight-bytes"},
		{[]string{"serve", "-model", "iris=" + model, "-max-inflight-bytes", "1MiB"}, 2, "-max-inflight-bytes 1MiB is less than -max-body 16MiB"},
		{[]string{"serve", "-model", "iris=" + model, "-log-level", "loud"}, 2, "-log-level"},
		{[]string{"serve", "-model", "=x"}, 2, "want NAME=PATH"},
		{[]string{"serve", "-model", "iris=" + model, "-token-file", empty}, 1, "the token file is empty"},
		{[]string{"serve", "-model", "iris=" + filepath.Join(dir, "none.json")}, 1, "no such file"},
		{[]string{"serve", "-model", "iris=" + model, "-addr", "256.0.0.1:1"}, 1, "nn: listen"},
	} {
		r := runNN(t, "", test.args...)
		if r.code != test.code || !strings.Contains(r.stderr, test.want) {
			t.Errorf("%d: nn %v: exit %d, stderr %q; want %d with %q", i, test.args, r.code, r.stderr, test.code, test.want)
		}
	}
	r := mustRun(t, "", "serve", "-h")
	if !strings.Contains(r.stdout, "Usage: nn serve -model NAME=PATH") || !strings.Contains(r.stdout, "-drain-timeout") {
		t.Errorf("help:\n%s", r.stdout)
	}
}
