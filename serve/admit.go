package serve

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Admission control: a prediction request reserves, before its body is
// read, the most memory that it can hold, out of a process-wide bound
// (Options.MaxInflightBytes), as Envoy's overload manager bounds the
// buffers of the requests in flight. A request that does not fit is
// answered at once with 503 and a Retry-After header, its body unread,
// so that a flood of large requests is refused instead of taking the
// server's memory.

// retryAfter is the Retry-After of a refused request, in seconds.
const retryAfter = 1

// What a request holds besides its body and its rows: its state and the
// decoder's, and the table's room beyond its rows, at most requestBytes,
// and columnBytes for each column of the model, for the state of the
// parser of its rows and of the decoder (a V2 request holds at most a
// tensor per feature). A table of 10000 columns measures 30 to 43 bytes
// a column.
const (
	requestBytes = 64 << 10
	columnBytes  = 64
)

// maxFloatText is the longest text of a float64 that nn.AppendFloat
// writes: -2.2250738585072014e-308.
const maxFloatText = 24

// limiter bounds the bytes that requests in flight hold: each reserves
// what it can hold before it holds it, and releases it when done.
type limiter struct {
	limit int64 // the bound, or a negative value for none
	held  atomic.Int64

	// peak is the most bytes held by requests whose rows are read (their
	// reservations shrunk to what they hold) since memory was last given
	// back to the system; freeing is set while it is given back, and
	// freed is when it last was, in nanoseconds since the Unix epoch.
	peak    atomic.Int64
	freeing atomic.Bool
	freed   atomic.Int64
}

// freeAfter is the peak of held bytes after which the server gives its
// memory back to the system once no request holds any: without it, the
// heap of a burst stays until the next collection, up to two minutes
// later, and the pages freed stay with the process for minutes more. It
// does so at most once every freeEvery, since giving memory back stops
// the world for a collection.
const (
	freeAfter = 64 << 20
	freeEvery = 5 * time.Second
)

// acquire reserves n bytes and reports whether they fit under the bound
// with those already reserved; it returns the bytes reserved, n or, for a
// request that could hold more than the bound, the whole bound, which it
// gets only while no other request holds any.
func (l *limiter) acquire(n int64) (int64, bool) {
	if l.limit < 0 {
		l.held.Add(n)
		return n, true
	}
	n = min(n, l.limit)
	for {
		h := l.held.Load()
		if h > l.limit-n {
			return 0, false
		}
		if l.held.CompareAndSwap(h, h+n) {
			return n, true
		}
	}
}

// shrink lowers a reservation of *held bytes to n, if n is less, now that
// the request knows it holds no more.
func (l *limiter) shrink(held *int64, n int64) {
	if n < *held {
		l.raisePeak(l.held.Add(n - *held))
		*held = n
	}
}

// raisePeak records held as the peak if it is higher.
func (l *limiter) raisePeak(held int64) {
	for p := l.peak.Load(); held > p && !l.peak.CompareAndSwap(p, held); p = l.peak.Load() {
	}
}

// release gives back a reservation of n bytes. When the last request
// in flight of a burst that held more than freeAfter releases its
// reservation, the memory of the burst is given back to the system, by
// one goroutine at a time and at most once every freeEvery.
func (l *limiter) release(n int64) {
	if l.held.Add(-n) != 0 || l.peak.Load() < freeAfter || time.Now().UnixNano()-l.freed.Load() < int64(freeEvery) || !l.freeing.CompareAndSwap(false, true) {
		return
	}
	l.peak.Store(0)
	go func() {
		defer l.freeing.Store(false)
		debug.FreeOSMemory()
		l.freed.Store(time.Now().UnixNano())
	}()
}

// cost returns the most bytes that a request to e with a body of n bytes
// can hold: the body, e.reqBytes, and for each row that the body can
// hold (a value for every valueBytes bytes, at most Options.MaxRows rows)
// e.rowBytes.
func (s *Server) cost(e *entry, n int64, valueBytes int) float64 {
	rows := min(float64(s.opts.MaxRows), math.Floor(float64(n/int64(valueBytes)+1)/float64(e.cols)))
	return float64(n+1+e.reqBytes) + rows*float64(e.rowBytes)
}

// held returns the most bytes that a request to e holds once its body,
// b.body, is decoded into the table b.t: the body's buffer, the table,
// e.reqBytes, and the bytes of e.rowBytes but the table's for each row.
func held(e *entry, b *reqBuf) int64 {
	const f = 8 // bytes of a float64
	rows := int64(b.t.n)
	return int64(cap(b.body)) + f*int64(cap(b.t.x)) + e.reqBytes + rows*(e.rowBytes-f*int64(e.cols))
}

// admit reserves need bytes for the request of st, or answers that the
// server is overloaded: 503 with a Retry-After header, and a connection
// to close over HTTP/1, whose unread body cannot be skipped to the next
// request. What is reserved stays in st until the request's end.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, st *reqState, need float64, body int64) *httpError {
	n := int64(min(need, math.MaxInt64/2))
	got, ok := s.inflight.acquire(n)
	if ok {
		st.held = got
		return nil
	}
	s.metrics.refused.WithLabelValues(st.model).Inc()
	h := w.Header()
	h.Set("Retry-After", strconv.Itoa(retryAfter))
	if r.ProtoMajor == 1 {
		// Without it, Go's server reads a body of up to 256 KiB before
		// answering, to keep the connection.
		h.Set("Connection", "close")
		// A client that waits for "100 Continue" sends no body.
		st.linger = r.ContentLength != 0 && !strings.EqualFold(r.Header.Get("Expect"), "100-continue")
	}
	size := "of unknown length"
	if body >= 0 {
		size = "of " + bytesText(body)
	}
	return &httpError{Status: http.StatusServiceUnavailable, Msg: fmt.Sprintf(
		"overloaded: the requests in flight hold %s of the %s that the server gives them, and this one, a body %s, may need %s: retry after %d s, or send fewer rows at a time",
		bytesText(s.inflight.held.Load()), bytesText(s.inflight.limit), size, bytesText(n), retryAfter)}
}

// lingerTime is the longest that the server discards the body of a
// request that it refused unread (see linger).
const lingerTime = 2 * time.Second

// linger reads and discards what the client sends of the body of r, which
// was refused unread, for at most lingerTime once the answer is sent, as
// nginx's lingering close does: a connection closed with bytes unread is
// reset, and the reset can reach the client, still sending its body,
// before it has read the answer, which it then never sees. It holds no
// memory of the body.
func (s *Server) linger(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if rc.Flush() != nil || rc.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
		return
	}
	io.Copy(io.Discard, io.LimitReader(r.Body, s.opts.MaxBodyBytes))
}

// bytesText writes n bytes in binary units: "512 B", "64.0 MiB".
func bytesText(n int64) string {
	const k = 1024
	x := float64(n)
	switch {
	case n < k:
		return strconv.FormatInt(n, 10) + " B"
	case n < k*k:
		return fmt.Sprintf("%.1f KiB", x/k)
	case n < k*k*k:
		return fmt.Sprintf("%.1f MiB", x/(k*k))
	}
	return fmt.Sprintf("%.1f GiB", x/(k*k*k))
}
