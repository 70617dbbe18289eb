package serve

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/neuralgo/nn"
)

// wideModel returns an untrained classifier of 1000 feature columns, f0
// to f999.
func wideModel(t *testing.T) *nn.Model {
	t.Helper()
	const cols = 1000
	net, err := nn.New(nn.Config{Sizes: []int{cols, 2}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := make([]string, cols)
	for j := range f {
		f[j] = "f" + strconv.Itoa(j)
	}
	return &nn.Model{Network: net, Features: f, Classes: []string{"a", "b"}}
}

// wideEntry returns the served version of wideModel.
func wideEntry(t *testing.T) *entry {
	t.Helper()
	e, err := newEntry("wide", "", wideModel(t))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// allocated returns the bytes that f allocates, by the runtime's count
// (of every goroutine: the bounds below leave room for others).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// zeros returns n zeros separated by commas.
func zeros(n int) string { return strings.Repeat("0,", n-1) + "0" }

// A request is refused, or read, with memory a few times its body, not
// the rows times the columns of the model that a short part of it says,
// and quickly: the review's bodies, which took 0.8 to 3.7 GB.
func TestDecodeBounded(t *testing.T) {
	wide := wideEntry(t)
	iris, _ := models(t)
	irisEntry, err := loadEntry("iris", iris, nn.Float64)
	if err != nil {
		t.Fatal(err)
	}
	type decoder func(*table, []byte) *httpError
	v2 := func(t *table, b []byte) *httpError { _, err := decodeV2(t, b); return err }
	csv := func(t *table, b []byte) *httpError { return decodeCSV(t, b) }
	for _, test := range []struct {
		name   string
		e      *entry
		decode decoder
		body   string
		want   string
	}{
		// One feature's column of 100000 rows, the other 999 missing.
		{"V2 one feature", wide, v2, `{"inputs":[{"name":"f0","shape":[100000],"datatype":"FP64","data":[` + zeros(100000) + `]}]}`,
			`inputs: no tensor for the feature "f1"`},
		// Every feature, but only the first with its rows.
		{"V2 one long feature", wide, v2, `{"inputs":[{"name":"f0","shape":[100000],"datatype":"FP64","data":[` + zeros(100000) + `]}` +
			strings.Repeat(`,{"name":"fX","shape":[100000],"datatype":"FP64","data":[0]}`, 999) + `]}`,
			`inputs[1].data: shape [100000] says 100000 values, more than its 3 bytes can hold`},
		// 4 MB of empty inputs (16 MB took 1.37 GB).
		{"V2 empty inputs", irisEntry, v2, `{"inputs":[` + strings.Repeat(`{},`, 4<<20/3) + `{}]}`,
			`inputs: more than 4 input tensors`},
		{"V2 parameters", irisEntry, v2, `{"parameters":{` + strings.Repeat(`"a":1,`, 1<<17) + `"a":1}}`,
			`inputs: no input tensors`},
		{"MLflow one column", wide, decodeMLflowJSON, `{"inputs":{"f0":[` + zeros(100000) + `]}}`,
			`rows of 1000 features, more values than the body can hold`},
		{"dataframe_split columns", irisEntry, decodeMLflowJSON, `{"dataframe_split":{"columns":[` + strings.Repeat(`"",`, 1<<20) + `""],"data":[]}}`,
			`dataframe_split.columns: more than 1088 columns`},
		{"CSV header", irisEntry, csv, strings.Repeat(",", 2<<20) + "\n1\n",
			`the CSV body: the header has 2097153 columns, more than the 1088`},
	} {
		// For the wide model, the table takes the rows of tests.
		tb := table{}
		if test.e == wide {
			for j := 1; j < wide.cols; j++ {
				test.body = strings.Replace(test.body, `"fX"`, `"f`+strconv.Itoa(j)+`"`, 1)
			}
		}
		var err *httpError
		body := []byte(test.body)
		// The table's RowParser is made once for a model version and kept
		// with the pooled table: it is not the request's.
		tb.reset(test.e, DefaultMaxRows)
		start := time.Now()
		alloc := allocated(func() {
			tb.reset(test.e, DefaultMaxRows)
			err = test.decode(&tb, body)
		})
		d := time.Since(start)
		if err == nil || !strings.Contains(err.Msg, test.want) {
			t.Errorf("%s: %v, want %q", test.name, err, test.want)
		}
		if most := 4*uint64(len(body)) + 1<<20; alloc > most {
			t.Errorf("%s: %d bytes allocated for a body of %d, want at most %d", test.name, alloc, len(body), most)
		}
		if d > 2*time.Second {
			t.Errorf("%s: %v to refuse a body of %d bytes", test.name, d, len(body))
		}
	}
}

// The body's buffer grows as its bytes arrive: a Content-Length alone
// does not make the server allocate it.
func TestBodyBufferGrows(t *testing.T) {
	iris, _ := models(t)
	s, err := New([]ModelFile{{"iris", iris}}, &Options{ReloadInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := &discard{h: make(http.Header)}
	alloc := allocated(func() {
		r := httptest.NewRequest(http.MethodPost, "/invocations", strings.NewReader(`{"inputs":[[5.1,3.5,1.4,0.2]]}`))
		r.ContentLength = 15 << 20 // says 15 MiB, sends 31 bytes
		s.ServeHTTP(w, r)
	})
	if alloc > 1<<20 {
		t.Errorf("%d bytes allocated for a body of 31 bytes announced as 15 MiB", alloc)
	}
}
