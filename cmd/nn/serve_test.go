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
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// startServe starts nn serve with args and waits for the address it
// prints; the process is killed at the end of the test if still running.
func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(binary, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...), done: make(chan error, 1)}
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
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (https?://[0-9.:]+)`)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		s.done <- s.cmd.Wait()
	}()
	select {
	case s.url = <-addr:
	case err := <-s.done:
		s.done <- err
		t.Fatalf("nn serve exited (%v) before listening:\n%s", err, s.log())
	case <-time.After(20 * time.Second):
		t.Fatalf("nn serve did not say where it listens:\n%s", s.log())
	}
	return s
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

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nn serve test"},
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

func TestServeTLSToken(t *testing.T) {
	model := trainedIris(t)
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir)
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("tok-123\n"), 0o600)
	s := startServe(t, "-model", "iris="+model, "-tls-cert", certFile, "-tls-key", keyFile, "-token-file", tokenFile)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatalf("url %s", s.url)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for i, test := range []struct {
		path, token string
		status      int
	}{
		{"/v2/health/live", "", 200},
		{"/v2/health/ready", "", 401},
		{"/v2/health/ready", "tok-123\n", 401},
		{"/v2/health/ready", "tok-123", 200},
		{"/v2/models/iris", "tok-123", 200},
	} {
		req, _ := http.NewRequest("GET", s.url+test.path, nil)
		if test.token != "" {
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(test.token)+strings.Repeat("x", strings.Count(test.token, "\n")))
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != test.status {
			t.Errorf("%d: GET %s with %q: %d, want %d", i, test.path, test.token, resp.StatusCode, test.status)
		}
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get(strings.Replace(s.url, "https", "http", 1) + "/v2/health/live"); err == nil && resp.StatusCode == 200 {
		t.Error("plain HTTP answered on the TLS port")
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
		{[]string{"serve"}, 2, "flag -model is required"},
		{[]string{"serve", "-model", "iris=" + model, "-tls-cert", "c.pem"}, 2, "-tls-cert and -tls-key go together"},
		{[]string{"serve", "-model", "iris=" + model, "-batch-delay", "-1ms"}, 2, "-batch-delay"},
		{[]string{"serve", "-model", "iris=" + model, "-max-body", "10"}, 2, "-max-body"},
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
