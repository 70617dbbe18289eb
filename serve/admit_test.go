package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neuralgo/nn"
)

// bodyOf returns a body of about size bytes: head, rows of row separated
// by sep, and tail, with the number of rows for %d in head.
func bodyOf(size int, head, row, sep, tail string) (string, int) {
	n := (size - len(head) - len(tail)) / (len(row) + len(sep))
	var b strings.Builder
	b.WriteString(strings.Replace(head, "%d", strconv.Itoa(n), 1))
	for i := range n {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(row)
	}
	b.WriteString(tail)
	return b.String(), n
}

// probe is a ResponseWriter that measures, when the response is
// written, the heap in use and the bytes that the request holds of the
// bound, and counts the bytes of the response.
type probe struct {
	h          http.Header
	s          *Server
	live, held int64
	n          int
}

func (p *probe) Header() http.Header { return p.h }
func (p *probe) WriteHeader(int)     {}
func (p *probe) Write(b []byte) (int, error) {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	p.live, p.held = int64(m.HeapAlloc), p.s.inflight.held.Load()
	p.n += len(b)
	return len(b), nil
}

// admittedReader records the bytes that the request held of the bound when
// its body was first read: what it was admitted with.
type admittedReader struct {
	r        *bytes.Reader
	s        *Server
	admitted int64
}

func (f *admittedReader) Read(p []byte) (int, error) {
	if f.admitted == 0 {
		f.admitted = f.s.inflight.held.Load()
	}
	return f.r.Read(p)
}

// What a request reserves covers what it holds: the bytes live when its
// response is written (the body, the table, the network's inputs and
// outputs, the response) are at most what it still reserves then, which
// is at most what it was admitted with. The figures of 15 MB bodies are
// logged: decoding multiplies the bytes of a body many times over.
func TestAdmissionCost(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: 15 MB bodies")
	}
	iris, reg := models(t)
	const cols = 1000
	wide := saveModel(t, wideModel(t), t.TempDir(), "wide")
	// Issue 23 sent bodies of 15 MB; the figures are proportional to the
	// body, and a body of 1 MB keeps the test quick under -race.
	const size = 1_000_000
	irisRow := "5.1,3.5,1.4,0.2"
	const noise = 16 << 10 // what other goroutines may allocate meanwhile
	for _, test := range []struct {
		name, model, path, ctype string
		maxRows                  int // 0 for the default
		head, row, sep, tail     string
	}{
		// The widest table a body can make, at the default MaxRows: a
		// value for every two bytes.
		{"V2 1000 columns of zeros", wide, "/v2/models/m/infer", "", 0,
			`{"inputs":[{"name":"input","shape":[%d,1000],"datatype":"FP64","data":[`, zeros(cols), ",", "]}]}"},
		// Bodies of many rows, with MaxRows lifted to take them.
		{"V2 iris", iris, "/v2/models/m/infer", "", 1 << 30,
			`{"inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":[`, irisRow, ",", "]}]}"},
		{"V2 iris zeros", iris, "/v2/models/m/infer", "", 1 << 30,
			`{"inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":[`, "0,0,0,0", ",", "]}]}"},
		{"MLflow iris rows", iris, "/invocations", "", 1 << 30, `{"inputs":[`, "[" + irisRow + "]", ",", "]}"},
		{"MLflow iris CSV", iris, "/invocations", "text/csv", 1 << 30, "sepal_length,sepal_width,petal_length,petal_width\n", irisRow, "\n", "\n"},
		{"MLflow records, a category", reg, "/invocations", "", 1 << 30,
			`{"dataframe_records":[`, `{"sepal_length":5.1,"sepal_width":3.5,"petal_length":1.4,"species":"setosa"}`, ",", "]}"},
	} {
		s, err := New([]ModelFile{{"m", test.model}}, &Options{MaxRows: test.maxRows, MaxBodyBytes: 16 << 20, NoBatching: true, ReloadInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		body, rows := bodyOf(size, test.head, test.row, test.sep, test.tail)
		fr := &admittedReader{r: bytes.NewReader([]byte(body)), s: s}
		req := httptest.NewRequest(http.MethodPost, test.path, fr)
		req.ContentLength = int64(len(body))
		if test.ctype != "" {
			req.Header.Set("Content-Type", test.ctype)
		}
		body = ""
		w := &probe{h: http.Header{}, s: s}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s.ServeHTTP(w, req)
		runtime.ReadMemStats(&after)
		live := w.live - int64(before.HeapAlloc)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%-27s %6d rows: admitted with %6.1f MB, held %6.1f MB at the response (%5.1f MB live), %6.1f MB allocated in all (%4.1f times the body), response %5.1f MB",
			test.name, rows, float64(fr.admitted)/1e6, float64(w.held)/1e6, float64(live)/1e6, float64(alloc)/1e6, float64(alloc)/size, float64(w.n)/1e6)
		switch {
		case w.n == 0 || w.held == 0:
			t.Errorf("%s: no response, or no reservation", test.name)
		case live > w.held+noise:
			t.Errorf("%s: %d bytes live at the response, more than the %d reserved", test.name, live, w.held)
		case w.held > fr.admitted:
			t.Errorf("%s: %d bytes reserved at the response, more than the %d admitted", test.name, w.held, fr.admitted)
		}
		if h := s.inflight.held.Load(); h != 0 {
			t.Errorf("%s: %d bytes still reserved after the request", test.name, h)
		}
		s.Close()
	}
}

// readRecorder is a request body that records whether it was read.
type readRecorder struct {
	r    io.Reader
	read atomic.Bool
}

func (r *readRecorder) Read(p []byte) (int, error) {
	r.read.Store(true)
	return r.r.Read(p)
}

// padded returns the JSON body doc, padded with spaces before its last
// byte to n bytes.
func padded(doc string, n int) string {
	return doc[:len(doc)-1] + strings.Repeat(" ", n-len(doc)) + doc[len(doc)-1:]
}

// A request that does not fit under MaxInflightBytes while another holds
// it is answered at once with 503, Retry-After and the protocol's error,
// its body unread; a small one fits beside; once the holder is done,
// the large request is admitted again.
func TestAdmission(t *testing.T) {
	iris, _ := models(t)
	s, err := New([]ModelFile{{"iris", iris}}, &Options{MaxBodyBytes: 1 << 20, MaxInflightBytes: 8 << 20, ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	e := s.model("iris").set.Load().latest().cur.Load()
	const size = 64 << 10
	if c := s.cost(e, size, 2); !(c > 4<<20 && c < 8<<20) {
		t.Fatalf("a body of %d bytes costs %g bytes, want between half the bound and the bound, for the test", size, c)
	}
	ts := httptest.NewServer(s)
	defer s.Close()
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: 10 * time.Second}}
	defer client.CloseIdleConnections()
	infer, inv := ts.URL+"/v2/models/iris/infer", ts.URL+"/invocations"
	v2Body := padded(`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}]}`, size)
	mlflowBody := padded(`{"inputs":[[5.1,3.5,1.4,0.2]]}`, size)

	// The holder: its headers are sent, its body waits on a pipe.
	pr, pw := io.Pipe()
	held := make(chan response, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, infer, pr)
		req.ContentLength = size
		resp, err := client.Do(req)
		if err != nil {
			held <- response{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		held <- response{status: resp.StatusCode, body: string(b)}
	}()
	waitFor(t, "the holder's admission", func() bool { return s.inflight.held.Load() > 0 })

	// send posts a body of size bytes whose reading is recorded, with
	// "Expect: 100-continue" if expect, and returns the answer, how long
	// it took and whether the body was read.
	send := func(url, body string, expect bool) (response, time.Duration, bool) {
		t.Helper()
		rec := &readRecorder{r: strings.NewReader(body)}
		req, _ := http.NewRequest(http.MethodPost, url, rec)
		req.ContentLength = int64(len(body))
		if expect {
			req.Header.Set("Expect", "100-continue")
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return response{resp.StatusCode, string(b), resp.Header}, time.Since(start), rec.read.Load()
	}
	for i, test := range []struct {
		url, body string
		want      string // the body's error fields besides the message
	}{
		{infer, v2Body, `"error"`},
		{inv, mlflowBody, `"error_code":"TEMPORARILY_UNAVAILABLE"`},
	} {
		r, d, read := send(test.url, test.body, true)
		var msg struct{ Error string }
		json.Unmarshal([]byte(r.body), &msg)
		switch {
		case r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "1":
			t.Errorf("%d: %d, Retry-After %q: %s; want 503 with Retry-After 1", i, r.status, r.header.Get("Retry-After"), r.body)
		case !strings.Contains(r.body, test.want) || !strings.HasPrefix(msg.Error, "overloaded: the requests in flight hold 4.3 MiB of the 8.0 MiB that the server gives them, and this one, a body of 64.0 KiB, may need 4.3 MiB"):
			t.Errorf("%d: the answer %s, want %s and the message of an overload", i, r.body, test.want)
		case read:
			t.Errorf("%d: the body of a refused request was read", i)
		case d > 2*time.Second:
			t.Errorf("%d: refused after %v, want at once", i, d)
		}
	}
	// Without Expect the client sends the body as it likes, but the
	// server answers before it reads any: the body never comes.
	never, _ := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, infer, never)
	req.ContentLength = size
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close {
		t.Errorf("a body that never comes: %d, Connection: close %v; want 503 and the connection closed", resp.StatusCode, resp.Close)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a body that never comes: answered after %v, want at once", d)
	}
	never.Close()
	// A small request fits beside the holder.
	if r := post(t, infer, `{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}]}`); r.status != http.StatusOK {
		t.Errorf("a small request beside the holder: %d %s", r.status, r.body)
	}

	// The holder finishes; the large request is admitted.
	io.WriteString(pw, v2Body)
	pw.Close()
	if r := <-held; r.status != http.StatusOK {
		t.Fatalf("the holder: %d %s", r.status, r.body)
	}
	waitFor(t, "the holder's release", func() bool { return s.inflight.held.Load() == 0 })
	for _, test := range []struct{ url, body string }{{infer, v2Body}, {inv, mlflowBody}} {
		if r, _, read := send(test.url, test.body, true); r.status != http.StatusOK || !read {
			t.Errorf("after the holder: %d %s, body read %v; want 200", r.status, r.body, read)
		}
	}
	m := metricsText(t, ts.URL)
	for _, want := range []string{`nn_serve_overload_refusals_total{model="iris"} 3`, `nn_serve_inflight_bytes 0`, `nn_serve_inflight_bytes_limit 8.388608e+06`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s:\n%s", want, m)
		}
	}
}

// A flood of concurrent large requests, resent on refusal, as a client
// that honours Retry-After would (sooner, to keep the test short): every
// answer is a 200 or a refusal, and the heap in use stays within a bound
// set by MaxInflightBytes, where without it the requests would hold a
// gigabyte, and returns close to where it was after.
func TestAdmissionFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: a flood of 200 MB of bodies")
	}
	iris, _ := models(t)
	const (
		clients = 100
		size    = 2 << 20 // bytes of a body
		limit   = 32 << 20
	)
	// Rows of 100 bytes, spaces after the values: 20971 rows of 4 values.
	row := "[5.1,3.5,1.4,0.2]" + strings.Repeat(" ", 82)
	doc, rows := bodyOf(size, `{"inputs":[`, row, ",", "]}")
	body := []byte(doc)
	s, ts := newTestServer(t, &Options{MaxInflightBytes: limit, MaxRows: 25_000, ReloadInterval: -1}, ModelFile{"iris", iris})
	if c := s.cost(s.model("iris").set.Load().latest().cur.Load(), size, 2); c > limit/2 {
		t.Fatalf("a body costs %g bytes, more than half the bound of %d: no two requests would run at once", c, limit)
	}
	transport := &http.Transport{ExpectContinueTimeout: 10 * time.Second, MaxIdleConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	runtime.GC()
	base := heapInuse()
	peak := sampleHeap()

	var ok, refused, failed atomic.Int64
	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+"/invocations", bytes.NewReader(body))
				if i%2 == 0 {
					// As curl does for large bodies: a refusal costs no
					// upload. The other clients send their bodies as the
					// server refuses them, and get the refusal all the
					// same (see Server.linger).
					req.Header.Set("Expect", "100-continue")
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("during the flood: %v", err)
					failed.Add(1)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch {
				case resp.StatusCode == http.StatusOK && bytes.Count(b, []byte(`"setosa"`)) == rows:
					ok.Add(1)
				case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
					refused.Add(1)
					time.Sleep(50 * time.Millisecond)
				default:
					t.Errorf("during the flood: %d %.200s", resp.StatusCode, b)
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	peakHeap := peak()
	transport.CloseIdleConnections()
	runtime.GC()
	runtime.GC() // the second empties the pools' victim caches
	after := heapInuse()
	const MiB = 1 << 20
	t.Logf("%d answered, %d refused; heap in use %d MiB before, at most %d MiB during the flood, %d MiB after",
		ok.Load(), refused.Load(), base/MiB, peakHeap/MiB, after/MiB)
	// The heap holds the live bytes, at most the bound, and the garbage
	// that the collector lets grow as much again (GOGC=100), and the
	// clients' buffers.
	if bound := 2*(base+limit) + 16*MiB; peakHeap > bound {
		t.Errorf("heap in use %d MiB during the flood, more than %d MiB", peakHeap/MiB, bound/MiB)
	}
	if after > base+8*MiB {
		t.Errorf("heap in use %d MiB after the flood, want near the %d MiB before", after/MiB, base/MiB)
	}
	if ok.Load() < 1 || refused.Load() == 0 || failed.Load() > 0 {
		t.Errorf("%d answered, %d refused, %d failed; want some answered and some refused, and none failed", ok.Load(), refused.Load(), failed.Load())
	}
	if h := s.inflight.held.Load(); h != 0 {
		t.Errorf("%d bytes still reserved after the flood", h)
	}
}

// Options.MaxInflightBytes: its default, and its least value.
func TestMaxInflightBytes(t *testing.T) {
	iris, _ := models(t)
	for i, test := range []struct {
		opts Options
		want int64 // the bound, or 0 for an error
	}{
		{Options{}, nn.DefaultMemoryBudget / 4},
		{Options{MaxBodyBytes: 2 << 30}, 2 << 30},
		{Options{MaxInflightBytes: 64 << 20}, 64 << 20},
		{Options{MaxInflightBytes: -1}, -1},
		{Options{MaxInflightBytes: 1 << 20, MaxBodyBytes: 2 << 20}, 0},
	} {
		test.opts.ReloadInterval = -1
		s, err := New([]ModelFile{{"iris", iris}}, &test.opts)
		switch {
		case test.want == 0:
			if err == nil || !strings.Contains(err.Error(), "MaxInflightBytes, 1048576, is less than MaxBodyBytes, 2097152") {
				t.Errorf("%d: got %v, want an error", i, err)
			}
			continue
		case err != nil:
			t.Fatalf("%d: %v", i, err)
		case s.inflight.limit != test.want:
			t.Errorf("%d: got %d, want %d", i, s.inflight.limit, test.want)
		}
		s.Close()
	}
}

// When the last request of a burst releases its reservation, the burst's
// memory goes back to the system at once, not at the next collection.
func TestLimiterGivesMemoryBack(t *testing.T) {
	l := &limiter{limit: 1 << 30}
	n, ok := l.acquire(256 << 20)
	if !ok {
		t.Fatal("acquire of 256 MiB under a bound of 1 GiB refused")
	}
	// A reservation that is not shrunk to what its rows hold, the worst
	// case of a request before its body is read, counts for nothing.
	l.release(n)
	if l.freeing.Load() || l.peak.Load() != 0 {
		t.Fatalf("a reservation never shrunk started a free (peak %d)", l.peak.Load())
	}
	n, _ = l.acquire(256 << 20)
	l.shrink(&n, 128<<20)
	buf := make([]byte, 128<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	sink = buf
	sink = nil
	l.release(n)
	deadline := time.Now().Add(10 * time.Second)
	for l.freeing.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if kept := m.HeapIdle - m.HeapReleased; kept > 32<<20 {
		t.Errorf("after the burst, %d MiB of idle heap kept from the system, want at most 32", kept>>20)
	}
	if l.held.Load() != 0 || l.peak.Load() != 0 {
		t.Errorf("after the burst: held %d, peak %d; want 0 and 0", l.held.Load(), l.peak.Load())
	}
	// Another burst at once is not freed: at most one free every
	// freeEvery, since a free stops the world.
	n, _ = l.acquire(128 << 20)
	l.shrink(&n, 100<<20)
	l.release(n)
	if l.freeing.Load() || l.peak.Load() == 0 {
		t.Errorf("a second burst within %v started a free", freeEvery)
	}
}

// sink keeps an allocation from being optimized away.
var sink []byte
