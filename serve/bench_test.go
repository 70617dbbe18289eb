package serve

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// discard is a ResponseWriter that keeps only the status, so that the
// benchmarks measure the handler.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(status int)      { d.status = status }

// irisBody returns a body of n iris rows, as post1.lua and post100.lua of
// bench/serve send them.
func irisBody(n int, v2 bool) string {
	rows := make([]string, n)
	for i := range rows {
		k := i + 1
		if n == 1 {
			rows[i] = "[5.1, 3.5, 1.4, 0.2]"
			continue
		}
		rows[i] = fmt.Sprintf("[%.1f, %.1f, %.1f, %.1f]", 4.3+float64(k%36)/10, 2.0+float64(k%24)/10, 1.0+float64(k%59)/10, 0.1+float64(k%25)/10)
	}
	if v2 {
		return fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":[%s]}]}`, n, strings.Join(rows, ", "))
	}
	return `{"inputs": [` + strings.Join(rows, ", ") + `]}`
}

func BenchmarkHandler(b *testing.B) {
	iris, _ := models(b)
	for _, batching := range []bool{false, true} {
		s, err := New([]ModelFile{{"iris", iris}}, &Options{NoBatching: !batching, ReloadInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		for _, bench := range []struct {
			name, path, ctype, body string
		}{
			{"Invocations1Row", "/invocations", "application/json", irisBody(1, false)},
			{"Invocations100Rows", "/invocations", "application/json", irisBody(100, false)},
			{"InvocationsCSV100Rows", "/invocations", "text/csv", "sepal_length,sepal_width,petal_length,petal_width\n" + strings.Repeat("5.1,3.5,1.4,0.2\n", 100)},
			{"Infer1Row", "/v2/models/iris/infer", "application/json", irisBody(1, true)},
			{"Infer100Rows", "/v2/models/iris/infer", "application/json", irisBody(100, true)},
		} {
			name := bench.name
			if batching {
				name += "/batching"
			}
			b.Run(name, func(b *testing.B) {
				body := []byte(bench.body)
				req := httptest.NewRequest(http.MethodPost, bench.path, nil)
				req.Header.Set("Content-Type", bench.ctype)
				w := &discard{h: make(http.Header)}
				serve := func() {
					r := *req
					r.Body = http.NoBody
					rd := bytes.NewReader(body)
					r.Body = readCloser{rd}
					r.ContentLength = int64(len(body))
					w.status = 0
					s.ServeHTTP(w, &r)
				}
				serve()
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					serve()
				}
			})
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
