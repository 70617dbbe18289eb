package serve

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/neuralgo/nn/internal/excerpt"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// reqBuf holds the buffers of a request, reused through a pool so that a
// warm server allocates little per request.
type reqBuf struct {
	body    []byte
	t       table
	in, out []float64
	prob    []float64 // the probabilities of a row's classes
	cls     []int
	pm      mat.Dense
	resp    []byte
}

// maxPooled is the largest buffer kept for reuse, in bytes: a rare large
// request should not pin its memory, and after a burst of them the
// memory returns.
const maxPooled = 1 << 20

var reqBufs = sync.Pool{New: func() any { return new(reqBuf) }}

// put returns b to the pool unless one of its buffers grew too large.
func (b *reqBuf) put() {
	const f = 8 // bytes of a float64 or an int
	if cap(b.body) > maxPooled || cap(b.resp) > maxPooled || f*cap(b.t.x) > maxPooled || f*cap(b.in) > maxPooled ||
		f*cap(b.out) > maxPooled || f*cap(b.cls) > maxPooled || f*cap(b.t.rowbuf) > maxPooled {
		return
	}
	b.t.e = nil
	reqBufs.Put(b)
}

// reqState is what the handling of a request leaves for its metrics and
// log line.
type reqState struct {
	model    string // "" before a model is known
	endpoint string
	status   int
	rows     int
	msg      string   // the error message of a failed request
	pending  *batcher // a batcher whose pending count holds the request
	held     int64    // the bytes reserved of Options.MaxInflightBytes
	linger   bool     // the request was refused unread: discard its body a while
}

var (
	ctJSON  = []string{"application/json"}
	code200 = "200"
)

// ServeHTTP answers the request r (see the package documentation for the
// endpoints).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := reqState{endpoint: "other"}
	// Deferred, so that a panic, which net/http recovers, does not keep
	// the reservation and the batcher's count for good.
	defer s.release(&st)
	s.route(w, r, &st)
	s.release(&st)
	s.finish(r, &st, start)
	if st.linger {
		s.linger(w, r)
	}
}

// release gives back what the request of st holds: its count in a
// batcher, and its reservation, once its response is written (what it
// held is garbage or back in a pool). A refused request, which may linger,
// holds none. A second call gives back nothing.
func (s *Server) release(st *reqState) {
	if st.pending != nil {
		st.pending.pending.Add(-1)
		st.pending = nil
	}
	s.inflight.release(st.held)
	st.held = 0
}

// route answers r.
func (s *Server) route(w http.ResponseWriter, r *http.Request, st *reqState) {
	path := r.URL.Path
	if path == "/invocations" {
		st.endpoint = "invocations" // for the form of its errors
	}
	if path != "/v2/health/live" && !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="nn serve"`)
		s.fail(w, st, &httpError{Status: http.StatusUnauthorized, Msg: "missing or wrong bearer token: send the header \"Authorization: Bearer <token>\""})
		return
	}
	switch path {
	case "/v2/health/live":
		st.endpoint = "health"
		if s.method(w, r, st, http.MethodGet) {
			s.write(w, st, http.StatusOK, []byte(`{"live":true}`+"\n"))
		}
		return
	case "/v2/health/ready", "/ping", "/health":
		st.endpoint = "health"
		if s.method(w, r, st, http.MethodGet) {
			if s.closed.Load() {
				s.write(w, st, http.StatusServiceUnavailable, []byte(`{"ready":false}`+"\n"))
				return
			}
			s.write(w, st, http.StatusOK, []byte(`{"ready":true}`+"\n"))
		}
		return
	case "/v2", "/v2/":
		st.endpoint = "metadata"
		if s.method(w, r, st, http.MethodGet) {
			b := []byte(`{"name":"neuralgo-nn","version":`)
			b = appendJSONString(b, s.version)
			b = append(b, `,"extensions":["model_repository"]}`+"\n"...)
			s.write(w, st, http.StatusOK, b)
		}
		return
	case "/metrics":
		st.endpoint = "metrics"
		if s.method(w, r, st, http.MethodGet) {
			st.status = http.StatusOK
			s.promh.ServeHTTP(w, r)
		}
		return
	case "/invocations":
		st.endpoint = "invocations"
		if s.method(w, r, st, http.MethodPost) {
			s.invocations(w, r, st)
		}
		return
	}
	if rest, ok := strings.CutPrefix(path, "/v2/repository/"); ok {
		s.repository(w, r, st, rest)
		return
	}
	rest, ok := strings.CutPrefix(path, "/v2/models/")
	if !ok {
		s.fail(w, st, &httpError{Status: http.StatusNotFound, Msg: "no endpoint " + excerpt.Quote(path) + "; see /v2, /v2/models/{name}, /v2/models/{name}/infer and /invocations"})
		return
	}
	name, sub, _ := strings.Cut(rest, "/")
	version := ""
	if v, ok := strings.CutPrefix(sub, "versions/"); ok {
		version, sub, _ = strings.Cut(v, "/")
		if version == "" {
			s.fail(w, st, &httpError{Status: http.StatusNotFound, Msg: "no endpoint " + excerpt.Quote(path) + "; see /v2/models/{name}/versions/{version}, …/ready and …/infer"})
			return
		}
	}
	switch sub {
	case "":
		st.endpoint = "metadata"
	case "ready":
		st.endpoint = "ready"
	case "infer":
		st.endpoint = "infer"
	default:
		s.fail(w, st, &httpError{Status: http.StatusNotFound, Msg: "no endpoint " + excerpt.Quote(path) + "; see /v2/models/{name}, /v2/models/{name}/ready and /v2/models/{name}/infer, and the same under /v2/models/{name}/versions/{version}"})
		return
	}
	m := s.model(name)
	if m == nil {
		s.fail(w, st, s.unknownModel(name))
		return
	}
	st.model = m.name
	sl, herr := m.version(version)
	if sub == "ready" && s.method(w, r, st, http.MethodGet) {
		// The status says whether it is ready: 200, or a 4xx.
		b := append([]byte(`{"name":`), m.nameJSON()...)
		if version != "" {
			b = append(b, `,"version":`...)
			b = appendJSONString(b, version)
		}
		if herr != nil {
			st.msg = herr.Msg
			s.write(w, st, http.StatusBadRequest, append(b, `,"ready":false}`+"\n"...))
			return
		}
		s.write(w, st, http.StatusOK, append(b, `,"ready":true}`+"\n"...))
		return
	}
	if herr != nil {
		s.fail(w, st, herr)
		return
	}
	switch sub {
	case "":
		if s.method(w, r, st, http.MethodGet) {
			s.write(w, st, http.StatusOK, sl.metadata())
		}
	case "infer":
		if s.method(w, r, st, http.MethodPost) {
			s.infer(w, r, st, sl)
		}
	}
}

// unknownModel returns the 404 of a model name that is not served.
func (s *Server) unknownModel(name string) *httpError {
	return &httpError{Status: http.StatusNotFound, Msg: "unknown model " + excerpt.Quote(name) + "; the models are " + excerpt.Quotes(s.cat.Load().names)}
}

// method reports whether r has the method want, or answers 405. HEAD is
// accepted wherever GET is, and answered as GET without the body.
func (s *Server) method(w http.ResponseWriter, r *http.Request, st *reqState, want string) bool {
	if r.Method == want || want == http.MethodGet && r.Method == http.MethodHead {
		return true
	}
	allow := want
	if want == http.MethodGet {
		allow = "GET, HEAD"
	}
	w.Header().Set("Allow", allow)
	s.fail(w, st, &httpError{Status: http.StatusMethodNotAllowed, Msg: "method " + r.Method + " is not allowed here; use " + want})
	return false
}

// write answers with status and the JSON body. The answer to a request
// that lingers (see Server.linger) says its length, so that the client
// has it whole once it is flushed.
func (s *Server) write(w http.ResponseWriter, st *reqState, status int, body []byte) {
	st.status = status
	h := w.Header()
	h["Content-Type"] = ctJSON
	h["X-Content-Type-Options"] = nosniff
	if st.linger {
		h.Set("Content-Length", itoa(len(body)))
	}
	w.WriteHeader(status)
	w.Write(body)
}

var nosniff = []string{"nosniff"}

// fail answers with the error err: {"error": msg}, and for MLflow's
// /invocations also the error_code and message of MLflow's errors.
func (s *Server) fail(w http.ResponseWriter, st *reqState, err *httpError) {
	st.msg = err.Msg
	if st.endpoint == "invocations" {
		s.write(w, st, err.Status, appendMLflowError(nil, err))
		return
	}
	s.write(w, st, err.Status, appendError(nil, err.Msg))
}

// finish counts and logs a request.
func (s *Server) finish(r *http.Request, st *reqState, start time.Time) {
	d := time.Since(start)
	code := code200
	if st.status != http.StatusOK {
		code = strconv.Itoa(st.status)
	}
	m := s.metrics
	m.requests.WithLabelValues(st.model, st.endpoint, code, "http").Inc()
	m.latency.WithLabelValues(st.model, st.endpoint, "http").Observe(d.Seconds())
	ctx := r.Context()
	if st.status >= 400 {
		m.errors.WithLabelValues(st.model, st.endpoint, "http").Inc()
		// A client's mistakes are for the client, and scanners send many:
		// info; the server's failures are for its operator: warn.
		level := slog.LevelInfo
		if st.status >= 500 {
			level = slog.LevelWarn
		}
		if s.log.Enabled(ctx, level) {
			s.log.LogAttrs(ctx, level, "request failed",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("model", st.model),
				slog.Int("status", st.status), slog.String("error", st.msg), slog.String("remote", r.RemoteAddr),
				slog.Duration("duration", d))
		}
		return
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		s.log.LogAttrs(ctx, slog.LevelDebug, "request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("model", st.model),
			slog.Int("status", st.status), slog.Int("rows", st.rows), slog.String("remote", r.RemoteAddr),
			slog.Duration("duration", d))
	}
}

// readBody reads the body of r, a request to e, into b.body, at most
// MaxBodyBytes of it, once the request is admitted: a body with a
// Content-Encoding (gzip) is refused with 415, a Content-Length over
// MaxBodyBytes with 413, and a request that may need more memory than is
// left of MaxInflightBytes with 503, all before a byte of the body is
// read. csv says that the body is CSV, whose values take a byte at least,
// where those of JSON take two. A body without a Content-Length (chunked)
// reserves what a body of MaxBodyBytes may need, until it is read.
// The buffer grows as the bytes arrive, from at most firstRead bytes, up
// to the Content-Length, so that a Content-Length alone cannot make the
// server allocate.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, st *reqState, b *reqBuf, e *entry, csv bool) *httpError {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return &httpError{Status: http.StatusUnsupportedMediaType, Msg: "the body is encoded (Content-Encoding: " + excerpt.Quote(ce) + "), which the server does not decode: send it as it is"}
	}
	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		return tooLarge("the body of %d bytes is larger than the %d bytes a request may send", r.ContentLength, limit)
	}
	valueBytes := 2
	if csv {
		valueBytes = 1
	}
	declared := r.ContentLength
	if declared < 0 {
		declared = limit
	}
	if err := s.admit(w, r, st, s.cost(e, declared, valueBytes), r.ContentLength); err != nil {
		return err
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	b.body = b.body[:0]
	if want := min(r.ContentLength+1, firstRead); r.ContentLength > 0 && int64(cap(b.body)) < want {
		b.body = make([]byte, 0, want)
	}
	for {
		if len(b.body) == cap(b.body) {
			// Double the room, up to the Content-Length and the EOF
			// after it.
			n := 2 * cap(b.body)
			if r.ContentLength >= 0 {
				n = min(n, int(r.ContentLength)+1)
			}
			b.body = append(make([]byte, 0, max(n, len(b.body)+1, 512)), b.body...)
		}
		n, err := body.Read(b.body[len(b.body):cap(b.body)])
		b.body = b.body[:len(b.body)+n]
		if err == io.EOF {
			s.inflight.shrink(&st.held, int64(s.cost(e, int64(len(b.body)), valueBytes)))
			return nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return tooLarge("the body is larger than the %d bytes a request may send", limit)
			}
			return badRequest("reading the body: %v", err)
		}
	}
}

// firstRead is the most room made for a body before its bytes arrive.
const firstRead = 64 << 10

// begin returns a pooled buffer for a prediction request to sl, with the
// model version it runs on.
func (s *Server) begin(sl *slot) (*reqBuf, *entry) {
	b := reqBufs.Get().(*reqBuf)
	e := sl.cur.Load()
	b.t.reset(e, s.opts.MaxRows)
	return b, e
}

// reading counts a prediction request to sl, whose body has been read,
// for its batcher: the batcher waits for more requests only while some
// are counted. A request is counted once its body is read, so that a slow
// upload does not make the batcher wait for it.
func (s *Server) reading(sl *slot, st *reqState) {
	if b := sl.m.b; b != nil {
		b.pending.Add(1)
		st.pending = b
	}
}

// predict scales the rows of b.t and predicts them into b.out, through
// the batcher of sl if it has one and the request is small enough, and
// the classes of a classifier into b.cls.
func (s *Server) predict(sl *slot, st *reqState, b *reqBuf) *httpError {
	if s.closed.Load() {
		return &httpError{Status: http.StatusServiceUnavailable, Msg: errClosed.Error()}
	}
	e, n := b.t.e, b.t.n
	var err *httpError
	if b.in, err = b.t.scale(b.in); err != nil {
		return err
	}
	b.out = grow(b.out, n*e.out)
	var perr error
	if st.pending != nil && n <= st.pending.maxRows {
		bt := st.pending
		st.pending = nil // the batcher uncounts the request when it takes it
		perr = bt.predict(e, b.in, b.out, n)
	} else {
		if st.pending != nil {
			// Not for the batcher, which need not wait for it.
			st.pending.pending.Add(-1)
			st.pending = nil
		}
		perr = predictDirect(e, b.in, b.out, n)
	}
	if perr == errClosed {
		return &httpError{Status: http.StatusServiceUnavailable, Msg: errClosed.Error()}
	}
	if perr != nil {
		return &httpError{Status: http.StatusUnprocessableEntity, Msg: perr.Error()}
	}
	// Outputs that are not finite are no prediction: the row is refused,
	// with the error of every other path of the module.
	for i := range n {
		if err := e.schema.CheckOutputs(b.out[i*e.out : (i+1)*e.out]); err != nil {
			return &httpError{Status: http.StatusUnprocessableEntity, Msg: "row " + itoa(i) + ": " + err.Error()}
		}
	}
	if e.schema.Classes() != nil {
		b.pm.SetRawMatrix(blas64.General{Rows: n, Cols: e.out, Stride: e.out, Data: b.out})
		b.cls = e.m.Network.ClassesTo(b.cls, &b.pm)
	}
	st.rows = n
	sl.counted(s, n, b.t.unknown())
	return nil
}

// counted adds a request's rows and unknown categories to the metrics.
func (sl *slot) counted(s *Server, rows, unknown int) {
	s.metrics.rows.WithLabelValues(sl.name).Add(float64(rows))
	if unknown > 0 {
		s.metrics.unknown.WithLabelValues(sl.name).Add(float64(unknown))
	}
}
