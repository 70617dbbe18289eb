package serve

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/serve/inferencepb"
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

// recordsBody returns a dataframe_records body of n iris rows, each an
// object keyed by feature, with an id that is not one.
func recordsBody(n int) string {
	rows := make([]string, n)
	for i := range rows {
		k := i + 1
		rows[i] = fmt.Sprintf(`{"id": %d, "sepal_length": %.1f, "sepal_width": %.1f, "petal_length": %.1f, "petal_width": %.1f}`, k, 4.3+float64(k%36)/10, 2.0+float64(k%24)/10, 1.0+float64(k%59)/10, 0.1+float64(k%25)/10)
	}
	return `{"dataframe_records": [` + strings.Join(rows, ", ") + `]}`
}

// speciesBody returns a body of n rows for the regression, whose species
// is a categorical column, one in 10 of them a species it has not seen:
// MLflow rows with v2 false, V2 tensors per feature with v2 true.
func speciesBody(n int, v2 bool) string {
	species := []string{"setosa", "versicolor", "virginica"}
	sl, sw, pl, sp := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	rows := make([]string, n)
	for i := range n {
		k := i + 1
		sl[i], sw[i], pl[i] = fmt.Sprintf("%.1f", 4.3+float64(k%36)/10), fmt.Sprintf("%.1f", 2.0+float64(k%24)/10), fmt.Sprintf("%.1f", 1.0+float64(k%59)/10)
		sp[i] = `"` + species[k%3] + `"`
		if k%10 == 0 {
			sp[i] = `"hybrid"`
		}
		rows[i] = "[" + sl[i] + ", " + sw[i] + ", " + pl[i] + ", " + sp[i] + "]"
	}
	if !v2 {
		return `{"inputs": [` + strings.Join(rows, ", ") + `]}`
	}
	tensor := func(name, datatype string, data []string) string {
		return fmt.Sprintf(`{"name":%q,"shape":[%d],"datatype":%q,"data":[%s]}`, name, n, datatype, strings.Join(data, ","))
	}
	return `{"inputs":[` + tensor("sepal_length", "FP64", sl) + "," + tensor("sepal_width", "FP64", sw) + "," +
		tensor("petal_length", "FP64", pl) + "," + tensor("species", "BYTES", sp) + "]}"
}

func BenchmarkHandler(b *testing.B) {
	iris, reg := models(b)
	for _, batching := range []bool{false, true} {
		s, err := New([]ModelFile{{"iris", iris}, {"reg", reg}}, &Options{NoBatching: !batching, ReloadInterval: -1, Default: "iris"})
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
			{"InvocationsRecords100Rows", "/invocations", "application/json", recordsBody(100)},
			{"InvocationsCategorical100Rows", "/invocations?model=reg", "application/json", speciesBody(100, false)},
			{"InferCategorical100Rows", "/v2/models/reg/infer", "application/json", speciesBody(100, true)},
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

// BenchmarkDecode measures the reading of bodies into the table and its
// scaling, without HTTP and prediction: the part of a request that goes
// through the model's schema.
func BenchmarkDecode(b *testing.B) {
	iris, reg := models(b)
	ei, err := loadEntry("iris", iris, nn.Float64)
	if err != nil {
		b.Fatal(err)
	}
	er, err := loadEntry("reg", reg, nn.Float64)
	if err != nil {
		b.Fatal(err)
	}
	v2 := func(t *table, body []byte) *httpError { _, err := decodeV2(t, body); return err }
	for _, bench := range []struct {
		name   string
		e      *entry
		decode func(*table, []byte) *httpError
		body   string
	}{
		{"Invocations100Rows", ei, decodeMLflowJSON, irisBody(100, false)},
		{"InvocationsCSV100Rows", ei, decodeCSV, "sepal_length,sepal_width,petal_length,petal_width\n" + strings.Repeat("5.1,3.5,1.4,0.2\n", 100)},
		{"Infer100Rows", ei, v2, irisBody(100, true)},
		{"InvocationsRecords100Rows", ei, decodeMLflowJSON, recordsBody(100)},
		{"InvocationsCategorical100Rows", er, decodeMLflowJSON, speciesBody(100, false)},
		{"InferCategorical100Rows", er, v2, speciesBody(100, true)},
	} {
		b.Run(bench.name, func(b *testing.B) {
			body := []byte(bench.body)
			var t table
			var in []float64
			read := func() {
				t.reset(bench.e, DefaultMaxRows)
				if err := bench.decode(&t, body); err != nil {
					b.Fatal(err)
				}
				var err *httpError
				if in, err = t.scale(in); err != nil {
					b.Fatal(err)
				}
			}
			read()
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				read()
			}
		})
	}
}

// BenchmarkGRPCHandler measures the gRPC inference handler without the
// network, as BenchmarkHandler measures the HTTP one: the interceptor and
// ModelInfer, on requests already decoded from the wire.
func BenchmarkGRPCHandler(b *testing.B) {
	iris, _ := models(b)
	s, err := New([]ModelFile{{"iris", iris}}, &Options{NoBatching: true, ReloadInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	g := grpcService{s: s}
	info := &grpc.UnaryServerInfo{FullMethod: pb.GRPCInferenceService_ModelInfer_FullMethodName}
	handler := func(ctx context.Context, req any) (any, error) {
		return g.modelInfer(ctx, req.(*wireInfer).msg)
	}
	for _, bench := range []struct {
		name string
		rows int
		raw  bool
	}{{"Infer1Row", 1, false}, {"Infer100Rows", 100, false}, {"Infer100RowsRaw", 100, true}} {
		b.Run(bench.name, func(b *testing.B) {
			rows := make([][]float64, bench.rows)
			for i := range rows {
				rows[i] = grpcRows[i%len(grpcRows)]
			}
			msg, err := proto.Marshal(matrixRequest(rows, bench.raw))
			if err != nil {
				b.Fatal(err)
			}
			req := &wireInfer{msg}
			ctx := context.Background()
			if _, err := s.intercept(ctx, req, info, handler); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				s.intercept(ctx, req, info, handler)
			}
		})
	}
}

// BenchmarkGRPCLoopback measures gRPC requests over a loopback
// connection, client and server, from concurrent goroutines.
func BenchmarkGRPCLoopback(b *testing.B) {
	iris, _ := models(b)
	s, err := New([]ModelFile{{"iris", iris}}, &Options{ReloadInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c := grpcClient(b, s)
	req := matrixRequest(grpcRows[:1], false)
	b.SetParallelism(8)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.ModelInfer(context.Background(), req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
