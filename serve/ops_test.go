package serve

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neuralgo/nn"
)

// v2Body is a V2 request of rows.
func v2Body(rows [][]float64) string {
	return fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":%s}]}`, len(rows), jsonRows(rows))
}

// metricValue returns the value of the series named (with its labels) in
// the metrics text, or NaN.
func metricValue(text, series string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
	m := re.FindStringSubmatch(text)
	if m == nil {
		return math.NaN()
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// Requests batched together get the bits that they get alone, and that
// Model.Predict gives.
func TestBatchingIdentical(t *testing.T) {
	iris, _ := models(t)
	_, batched := newTestServer(t, &Options{BatchDelay: 5 * time.Millisecond, BatchRows: 64}, ModelFile{"iris", iris})
	_, alone := newTestServer(t, &Options{NoBatching: true}, ModelFile{"iris", iris})
	rows, _ := irisRows(t)
	_, p := wantLabels(t, iris, rows)
	// Requests of 1 to 5 rows, 32 at a time.
	type request struct{ lo, hi int }
	var reqs []request
	for lo, k := 0, 0; lo < len(rows); k++ {
		hi := min(lo+1+k%5, len(rows))
		reqs = append(reqs, request{lo, hi})
		lo = hi
	}
	got := make([]string, len(reqs))
	// Whether requests meet in a batch depends on timing: send the
	// requests again until some did.
	for attempt := 0; attempt < 20; attempt++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		sem := make(chan struct{}, 32)
		for k, rq := range reqs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				sem <- struct{}{}
				defer func() { <-sem }()
				r := post(t, batched.URL+"/v2/models/iris/infer", v2Body(rows[rq.lo:rq.hi]))
				if r.status != http.StatusOK {
					t.Errorf("request %d: %d %s", k, r.status, r.body)
				}
				got[k] = r.body
			}()
		}
		close(start)
		wg.Wait()
		m := metricsText(t, batched.URL)
		if count := metricValue(m, `nn_serve_batch_rows_count{model="iris"}`); count < float64((attempt+1)*len(reqs)) {
			break
		}
	}
	for k, rq := range reqs {
		want := post(t, alone.URL+"/v2/models/iris/infer", v2Body(rows[rq.lo:rq.hi])).body
		if exactBatching() && got[k] != want {
			t.Errorf("rows %d to %d: batched %s, alone %s", rq.lo, rq.hi, got[k], want)
		}
		var res, resAlone inferResponse
		response{200, got[k], nil}.decode(t, &res)
		response{200, want, nil}.decode(t, &resAlone)
		_, labels := res.output(t, "label")
		_, labelsAlone := resAlone.output(t, "label")
		if fmt.Sprint(labels) != fmt.Sprint(labelsAlone) {
			t.Errorf("rows %d to %d: labels batched %v, alone %v", rq.lo, rq.hi, labels, labelsAlone)
		}
		_, data := res.output(t, "probabilities")
		for i, v := range data {
			f, _ := strconv.ParseFloat(fmt.Sprint(v), 64)
			if w := p.At(rq.lo+i/3, i%3); !sameOutput(f, w) {
				t.Errorf("row %d: probability %v, Model.Predict %v", rq.lo+i/3, f, w)
			}
		}
	}
	// Batches of more than one request were made: the test tested
	// batching.
	m := metricsText(t, batched.URL)
	count := metricValue(m, `nn_serve_batch_rows_count{model="iris"}`)
	sum := metricValue(m, `nn_serve_batch_rows_sum{model="iris"}`)
	if requests := sum / float64(len(rows)) * float64(len(reqs)); !(count < requests) {
		t.Errorf("%v rows in %v batches for %v requests: want fewer batches than requests", sum, count, requests)
	}
}

// The batcher predicts the jobs that meet in one product, and their rows
// come out as predicted alone, bit for bit: deterministically, with the
// batcher told that all the jobs are on their way.
func TestBatcherOneProduct(t *testing.T) {
	iris, _ := models(t)
	e, err := loadEntry("iris", iris, nn.Float64)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := irisRows(t)
	var count, sum atomic.Int64
	b := newBatcher(time.Hour, 1000, observerFunc(func(v float64) { count.Add(1); sum.Add(int64(v)) }))
	defer b.stop()
	const jobs = 30 // of 5 rows
	b.pending.Add(jobs)
	outs := make([][]float64, jobs)
	ins := make([][]float64, jobs)
	var wg sync.WaitGroup
	for k := range jobs {
		var tb table
		tb.reset(e, 100)
		tb.setRows(5, "")
		for i := range 5 {
			copy(tb.x[i*4:], rows[(5*k+i)%len(rows)])
		}
		in, herr := tb.scale(nil)
		if herr != nil {
			t.Fatal(herr)
		}
		ins[k], outs[k] = in, make([]float64, 5*e.out)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.predict(e, ins[k], outs[k], 5); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if count.Load() != 1 || sum.Load() != 5*jobs {
		t.Errorf("%d batches of %d rows in all, want one of %d", count.Load(), sum.Load(), 5*jobs)
	}
	for k := range jobs {
		for i := range 5 {
			alone := make([]float64, e.out)
			if err := predictDirect(e, ins[k][i*4:(i+1)*4], alone, 1); err != nil {
				t.Fatal(err)
			}
			for j, v := range alone {
				if got := outs[k][i*e.out+j]; !sameOutput(got, v) {
					t.Errorf("job %d row %d output %d: batched %v, alone %v", k, i, j, got, v)
				}
			}
		}
	}
}

// exactBatching reports whether the products of the build sum each row in
// the same order whatever the number of rows, so that batched predictions
// are unbatched ones bit for bit: the gemm kernels do; OpenBLAS, to which
// a build with -tags openblas sends small products, need not.
func exactBatching() bool { return !strings.Contains(nn.Backend(), "OpenBLAS") }

// sameOutput reports whether a batched output a equals the unbatched b
// (or an output of the server the output of Model.Predict):
// bit for bit, or with OpenBLAS within 1e-14 relative (a few roundings of
// a sum in another order).
func sameOutput(a, b float64) bool {
	if exactBatching() {
		return math.Float64bits(a) == math.Float64bits(b)
	}
	return math.Abs(a-b) <= 1e-14*max(1, math.Abs(a), math.Abs(b))
}

// observerFunc is a prometheus.Observer.
type observerFunc func(float64)

func (f observerFunc) Observe(v float64) { f(v) }

// Many clients at once, on both protocols and both models, under -race.
func TestConcurrentRequests(t *testing.T) {
	_, ts := irisServer(t, &Options{Default: "iris"})
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 20 {
				var r response
				switch (g + k) % 3 {
				case 0:
					r = post(t, ts.URL+"/invocations", `{"inputs":[[5.1,3.5,1.4,0.2],[6.3,2.9,5.6,1.8]]}`)
				case 1:
					r = post(t, ts.URL+"/v2/models/iris/infer", v2Body([][]float64{{5.9, 3.0, 4.2, 1.5}}))
				default:
					r = post(t, ts.URL+"/invocations?model=reg", `{"inputs":[[5.1,3.5,1.4,"setosa"]]}`)
				}
				if r.status != http.StatusOK {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d requests failed", n)
	}
	m := metricsText(t, ts.URL)
	if v := metricValue(m, `nn_serve_requests_total{code="200",endpoint="invocations",model="iris",protocol="http"}`); v < 100 {
		t.Errorf("%v /invocations requests counted, want at least 100", v)
	}
	if v := metricValue(m, `nn_serve_rows_predicted_total{model="reg"}`); v < 100 {
		t.Errorf("%v rows of reg counted", v)
	}
	if !strings.Contains(m, `nn_serve_request_duration_seconds_bucket{endpoint="infer",model="iris",protocol="http",le=`) || !strings.Contains(m, "go_goroutines") || !strings.Contains(m, `nn_serve_reloads_total{model="iris",result="failure"} 0`) {
		t.Errorf("metrics lack latency, runtime or reload series:\n%s", m)
	}
}

// A model file replaced while requests run takes over without a failed
// request; a broken replacement leaves it serving.
func TestReload(t *testing.T) {
	iris, _ := models(t)
	path := copyFile(t, iris, t.TempDir())
	s, ts := newTestServer(t, &Options{ReloadInterval: 5 * time.Millisecond}, ModelFile{"iris", path})
	probe := [][]float64{{6.0, 2.7, 5.1, 1.6}} // near the versicolor-virginica boundary
	oldProba := probaOf(t, post(t, ts.URL+"/v2/models/iris/infer", v2Body(probe)))
	m2, err := trainIris(2)
	if err != nil {
		t.Fatal(err)
	}
	newFile := filepath.Join(t.TempDir(), "new.json")
	if err := m2.Save(newFile); err != nil {
		t.Fatal(err)
	}
	_, p2 := wantLabels(t, newFile, probe)
	newProba := []float64{p2.At(0, 0), p2.At(0, 1), p2.At(0, 2)}
	if sameProba(newProba, oldProba) {
		t.Fatal("the two models predict the same probabilities; the test cannot tell them apart")
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sent, failed atomic.Int64
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r := post(t, ts.URL+"/v2/models/iris/infer", v2Body(probe))
				sent.Add(1)
				if r.status != http.StatusOK {
					failed.Add(1)
					t.Errorf("during reload: %d %s", r.status, r.body)
				} else if p := probaOf(t, r); !sameProba(p, oldProba) && !sameProba(p, newProba) {
					t.Errorf("probabilities %v, neither the old model's %v nor the new one's %v", p, oldProba, newProba)
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if err := m2.Save(path); err != nil { // atomic: written aside, renamed
		t.Fatal(err)
	}
	waitFor(t, "the new model", func() bool {
		return sameProba(probaOf(t, post(t, ts.URL+"/v2/models/iris/infer", v2Body(probe))), newProba)
	})
	// A broken file, renamed into place, is refused.
	broken := filepath.Join(filepath.Dir(path), "broken.tmp")
	if err := os.WriteFile(broken, []byte(`{"format": "github.com/neuralgo/nn model", "version": 1, "sizes": [4]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(broken, path); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed reload", func() bool {
		return metricValue(metricsText(t, ts.URL), `nn_serve_reloads_total{model="iris",result="failure"}`) == 1
	})
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if p := probaOf(t, post(t, ts.URL+"/v2/models/iris/infer", v2Body(probe))); !sameProba(p, newProba) {
		t.Errorf("after a broken replacement: probabilities %v, want the last good model's %v", p, newProba)
	}
	if sent.Load() < 10 || failed.Load() > 0 {
		t.Errorf("%d requests during the reloads, %d failed", sent.Load(), failed.Load())
	}
	m := metricsText(t, ts.URL)
	if v := metricValue(m, `nn_serve_reloads_total{model="iris",result="success"}`); v < 1 {
		t.Errorf("%v successful reloads counted", v)
	}
	// The broken file is not tried again at every poll.
	time.Sleep(30 * time.Millisecond)
	if v := metricValue(metricsText(t, ts.URL), `nn_serve_reloads_total{model="iris",result="failure"}`); v != 1 {
		t.Errorf("%v failed reloads of one broken file, want 1", v)
	}
	// Reload, as on SIGHUP, reports it.
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), `model "iris"`) {
		t.Errorf("Reload of a broken file: %v", err)
	}
	if err := m2.Save(path); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Errorf("Reload of a good file: %v", err)
	}
}

// probaOf returns the probabilities of a V2 answer.
func probaOf(t *testing.T, r response) []float64 {
	t.Helper()
	var res inferResponse
	r.decode(t, &res)
	_, data := res.output(t, "probabilities")
	f := make([]float64, len(data))
	for i, v := range data {
		f[i], _ = strconv.ParseFloat(fmt.Sprint(v), 64)
	}
	return f
}

// sameProba reports whether the outputs a and b are the same by
// sameOutput: requests that meet in the batcher are predicted in products
// of several rows, which OpenBLAS may sum in another order than the
// product of one row.
func sameProba(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameOutput(a[i], b[i]) {
			return false
		}
	}
	return true
}

// waitFor waits up to 10 s for ok.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestToken(t *testing.T) {
	iris, _ := models(t)
	_, ts := newTestServer(t, &Options{Token: "s3cret"}, ModelFile{"iris", iris})
	body := v2Body([][]float64{{5.1, 3.5, 1.4, 0.2}})
	for i, test := range []struct {
		method, path, auth string
		status             int
	}{
		{"GET", "/v2/health/live", "", 200},
		{"GET", "/v2/health/ready", "", 401},
		{"GET", "/v2", "", 401},
		{"GET", "/metrics", "", 401},
		{"GET", "/v2/models/iris", "", 401},
		{"GET", "/v2/models/nope", "", 401}, // no model names without the token
		{"POST", "/v2/models/iris/infer", "", 401},
		{"POST", "/v2/models/iris/infer", "Bearer s3cre", 401},
		{"POST", "/v2/models/iris/infer", "Bearer s3cret2", 401},
		{"POST", "/v2/models/iris/infer", "s3cret", 401},
		{"POST", "/v2/models/iris/infer", "Basic s3cret", 401},
		{"POST", "/v2/models/iris/infer", "Bearer", 401},
		{"POST", "/v2/models/iris/infer", "Bearer ", 401},
		{"POST", "/v2/models/iris/infer", "Bearers3cret", 401},
		{"POST", "/v2/models/iris/infer", "Bearer s3cret", 200},
		// The scheme is case-insensitive (RFC 7235), and one or more
		// spaces separate it from the token.
		{"POST", "/v2/models/iris/infer", "bearer s3cret", 200},
		{"POST", "/v2/models/iris/infer", "BEARER s3cret", 200},
		{"POST", "/v2/models/iris/infer", "Bearer  s3cret", 200},
		{"GET", "/metrics", "Bearer s3cret", 200},
		{"GET", "/v2/health/ready", "Bearer s3cret", 200},
	} {
		var h []string
		if test.auth != "" {
			h = []string{"Authorization", test.auth}
		}
		r := do(t, nil, test.method, ts.URL+test.path, "application/json", body, h...)
		if r.status != test.status {
			t.Errorf("%d: %s %s with %q: %d %s, want %d", i, test.method, test.path, test.auth, r.status, r.body, test.status)
		}
		if r.status == 401 {
			if msg := r.errorOf(t); !strings.Contains(msg, "bearer token") || r.header.Get("WWW-Authenticate") == "" {
				t.Errorf("%d: 401 %q, WWW-Authenticate %q", i, msg, r.header.Get("WWW-Authenticate"))
			}
		}
	}
}

// A request whose body is still arriving does not make the batcher wait
// for it, and requests whose clients went away while they were queued
// leave no count behind: a lone request after them is not delayed by the
// batch delay.
func TestPendingRequests(t *testing.T) {
	iris, _ := models(t)
	const delay = 2 * time.Second
	s, ts := newTestServer(t, &Options{BatchDelay: delay}, ModelFile{"iris", iris})
	b := s.model("iris").b
	body := v2Body([][]float64{{5.1, 3.5, 1.4, 0.2}})
	url := ts.URL + "/v2/models/iris/infer"
	lone := func(what string) {
		t.Helper()
		start := time.Now()
		if r := post(t, url, body); r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", what, r.status, r.body)
		}
		if d := time.Since(start); d > delay/2 {
			t.Errorf("%s: a lone request took %v (batch delay %v)", what, d, delay)
		}
	}
	// A slow upload: headers and half the body, the rest never sent.
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
	time.Sleep(50 * time.Millisecond)
	lone("during a slow upload")
	c.Close()
	// Clients that go away while their requests wait in the batcher.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	waitFor(t, "no pending requests", func() bool { return b.pending.Load() == 0 })
	lone("after clients went away")
}

func TestClose(t *testing.T) {
	s, ts := irisServer(t, nil)
	s.Close()
	s.Close() // twice is harmless
	for path, body := range map[string]string{
		"/v2/models/iris/infer":  v2Body([][]float64{{5.1, 3.5, 1.4, 0.2}}),
		"/invocations?model=reg": `{"inputs":[[5.1,3.5,1.4,"setosa"]]}`,
	} {
		r := post(t, ts.URL+path, body)
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s after Close: %d %s", path, r.status, r.body)
		}
	}
	if r := do(t, nil, http.MethodGet, ts.URL+"/v2/health/ready", "", ""); r.status != http.StatusServiceUnavailable {
		t.Errorf("ready after Close: %d %s", r.status, r.body)
	}
}

func TestNewErrors(t *testing.T) {
	iris, _ := models(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{}"), 0o644)
	for i, test := range []struct {
		models []ModelFile
		opts   *Options
		want   string
	}{
		{nil, nil, "no models"},
		{[]ModelFile{{"", iris}}, nil, "a model name is empty"},
		{[]ModelFile{{"a/b", iris}}, nil, `holds '/'`},
		{[]ModelFile{{"a", iris}, {"a", iris}}, nil, `"a" is given twice`},
		{[]ModelFile{{"a", filepath.Join(t.TempDir(), "none.json")}}, nil, "no such file"},
		{[]ModelFile{{"a", bad}}, nil, `model "a"`},
		{[]ModelFile{{"a", iris}}, &Options{Default: "b"}, `the default model "b"`},
		{[]ModelFile{{"a", iris}}, &Options{Token: "sekret \n"}, "Options.Token has white space around it"},
		{[]ModelFile{{"a", iris}}, &Options{Token: " "}, "Options.Token has white space around it"},
		{[]ModelFile{{"a", iris}}, &Options{Token: "a\x00b"}, "Options.Token holds a control character"},
	} {
		s, err := New(test.models, test.opts)
		if err == nil {
			s.Close()
			t.Errorf("%d: no error, want %q", i, test.want)
			continue
		}
		if !strings.Contains(err.Error(), test.want) {
			t.Errorf("%d: %v, want %q", i, err, test.want)
		}
	}
	if s, err := New([]ModelFile{{"a", iris}}, nil); err != nil || fmt.Sprint(s.Models()) != "[a]" || s.Registry() == nil {
		t.Errorf("New: %v", err)
	} else {
		s.Close()
	}
}

// lockedBuffer is a bytes.Buffer safe for the handler's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A line per request at debug level; a client's mistakes (4xx) at info
// level, the server's failures (5xx) at warning level.
func TestLogs(t *testing.T) {
	iris, _ := models(t)
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		var buf lockedBuffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
		_, ts := newTestServer(t, &Options{Logger: log}, ModelFile{"iris", iris})
		post(t, ts.URL+"/invocations", `{"inputs":[[5.1,3.5,1.4,0.2],[5.1,3.5,1.4,0.2]]}`)
		post(t, ts.URL+"/invocations", `{"inputs":[[5.1,3.5,1.4]]}`)
		text := buf.String()
		debug := strings.Contains(text, `level=DEBUG msg=request method=POST path=/invocations model=iris status=200 rows=2`)
		if debug != (level == slog.LevelDebug) {
			t.Errorf("level %v: request line %v:\n%s", level, debug, text)
		}
		info := strings.Contains(text, `level=INFO msg="request failed" method=POST path=/invocations model=iris status=400 error="inputs[0]: 3 values, want 4`)
		if info != (level <= slog.LevelInfo) {
			t.Errorf("level %v: line of the 400 %v:\n%s", level, info, text)
		}
		// A 503: the server is closed.
		s, ts := newTestServer(t, &Options{Logger: log}, ModelFile{"iris", iris})
		s.Close()
		post(t, ts.URL+"/invocations", `{"inputs":[[5.1,3.5,1.4,0.2]]}`)
		if text := buf.String(); !strings.Contains(text, `level=WARN msg="request failed" method=POST path=/invocations model=iris status=503`) {
			t.Errorf("level %v: no warning of the 503:\n%s", level, text)
		}
	}
}
