package serve

import (
	"context"
	"encoding/binary"
	enchex "encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	grpcmd "google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/serve/inferencepb"
)

// grpcClient serves s over gRPC on a loopback port and returns a client
// of it.
func grpcClient(t testing.TB, s *Server) pb.GRPCInferenceServiceClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := s.NewGRPCServer()
	go gs.Serve(ln)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		gs.Stop()
	})
	return pb.NewGRPCInferenceServiceClient(conn)
}

// grpcRows are rows of iris features, and the JSON text of them as one
// V2 tensor's data.
var grpcRows = [][]float64{{5.1, 3.5, 1.4, 0.2}, {6.7, 3.1, 4.4, 1.4}, {6.3, 3.3, 6.0, 2.5}, {5.9, 3.0, 5.1, 1.8}}

// restOutputs returns the labels and probabilities that the REST V2
// endpoint answers for rows.
func restOutputs(t *testing.T, url string, rows [][]float64) ([]string, []float64) {
	t.Helper()
	var data []string
	for _, r := range rows {
		for _, v := range r {
			data = append(data, fmt.Sprint(v))
		}
	}
	body := fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,4],"datatype":"FP64","data":[%s]}]}`, len(rows), strings.Join(data, ","))
	r := post(t, url+"/v2/models/iris/infer", body)
	if r.status != 200 {
		t.Fatalf("REST: %d %s", r.status, r.body)
	}
	var res inferResponse
	r.decode(t, &res)
	_, labels := res.output(t, "label")
	_, probs := res.output(t, "probabilities")
	var ls []string
	for _, l := range labels {
		ls = append(ls, l.(string))
	}
	var ps []float64
	for _, p := range probs {
		v, err := strconv.ParseFloat(string(p.(json.Number)), 64)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, v)
	}
	return ls, ps
}

// outputsOf returns the labels and probabilities of a gRPC answer, from
// its typed or raw contents.
func outputsOf(t *testing.T, res *pb.ModelInferResponse) ([]string, []float64) {
	t.Helper()
	var labels []string
	var probs []float64
	for k, o := range res.Outputs {
		switch o.Name {
		case "label":
			if o.Datatype != "BYTES" {
				t.Fatalf("label: datatype %s", o.Datatype)
			}
			if len(res.RawOutputContents) > 0 {
				raw := res.RawOutputContents[k]
				for len(raw) > 0 {
					n := binary.LittleEndian.Uint32(raw)
					labels = append(labels, string(raw[4:4+n]))
					raw = raw[4+n:]
				}
				continue
			}
			for _, b := range o.Contents.BytesContents {
				labels = append(labels, string(b))
			}
		case "probabilities":
			if o.Datatype != "FP64" || len(o.Shape) != 2 || o.Shape[1] != 3 {
				t.Fatalf("probabilities: %s %v", o.Datatype, o.Shape)
			}
			if len(res.RawOutputContents) > 0 {
				raw := res.RawOutputContents[k]
				for i := 0; i < len(raw); i += 8 {
					probs = append(probs, math.Float64frombits(binary.LittleEndian.Uint64(raw[i:])))
				}
				continue
			}
			probs = o.Contents.Fp64Contents
		}
	}
	return labels, probs
}

// matrixRequest returns an inference request of rows as one FP64 tensor
// [N, 4], its values typed or raw.
func matrixRequest(rows [][]float64, raw bool) *pb.ModelInferRequest {
	in := &pb.ModelInferRequest_InferInputTensor{Name: "input", Datatype: "FP64", Shape: []int64{int64(len(rows)), 4}}
	req := &pb.ModelInferRequest{ModelName: "iris", Id: "7", Inputs: []*pb.ModelInferRequest_InferInputTensor{in}}
	var vals []float64
	for _, r := range rows {
		vals = append(vals, r...)
	}
	if raw {
		var b []byte
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		req.RawInputContents = [][]byte{b}
	} else {
		in.Contents = &pb.InferTensorContents{Fp64Contents: vals}
	}
	return req
}

// Every form of a gRPC request answers what REST answers, bit for bit.
func TestGRPCInferEqualsREST(t *testing.T) {
	s, ts := irisServer(t, nil)
	c := grpcClient(t, s)
	ctx := context.Background()
	wantLabels, wantProbs := restOutputs(t, ts.URL, grpcRows)

	perFeature := func(datatype string) *pb.ModelInferRequest {
		req := &pb.ModelInferRequest{ModelName: "iris"}
		for j, f := range []string{"sepal_length", "sepal_width", "petal_length", "petal_width"} {
			in := &pb.ModelInferRequest_InferInputTensor{Name: f, Datatype: datatype, Shape: []int64{int64(len(grpcRows))}, Contents: &pb.InferTensorContents{}}
			for _, r := range grpcRows {
				switch datatype {
				case "FP64":
					in.Contents.Fp64Contents = append(in.Contents.Fp64Contents, r[j])
				case "BYTES":
					in.Contents.BytesContents = append(in.Contents.BytesContents, []byte(fmt.Sprint(r[j])))
				}
			}
			req.Inputs = append(req.Inputs, in)
		}
		return req
	}
	for _, test := range []struct {
		name string
		req  *pb.ModelInferRequest
	}{
		{"typed", matrixRequest(grpcRows, false)},
		{"raw", matrixRequest(grpcRows, true)},
		{"per feature", perFeature("FP64")},
		{"per feature as text", perFeature("BYTES")},
	} {
		res, err := c.ModelInfer(ctx, test.req)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if res.ModelName != "iris" || res.ModelVersion != "1" || res.Id != test.req.Id {
			t.Errorf("%s: model %q version %q id %q", test.name, res.ModelName, res.ModelVersion, res.Id)
		}
		labels, probs := outputsOf(t, res)
		if fmt.Sprint(labels) != fmt.Sprint(wantLabels) {
			t.Errorf("%s: labels %v, want %v", test.name, labels, wantLabels)
		}
		if len(probs) != len(wantProbs) {
			t.Fatalf("%s: %d probabilities, want %d", test.name, len(probs), len(wantProbs))
		}
		for i := range probs {
			if math.Float64bits(probs[i]) != math.Float64bits(wantProbs[i]) {
				t.Errorf("%s: probability %d is %v, REST's %v", test.name, i, probs[i], wantProbs[i])
			}
		}
	}

	// FP32 values, typed and raw, read as float32s (0.5 is exact).
	f32 := func(raw bool) *pb.ModelInferRequest {
		in := &pb.ModelInferRequest_InferInputTensor{Name: "input", Datatype: "FP32", Shape: []int64{1, 4}}
		req := &pb.ModelInferRequest{ModelName: "iris", Inputs: []*pb.ModelInferRequest_InferInputTensor{in}}
		vals := []float32{5.5, 3.5, 1.5, 0.5}
		if raw {
			var b []byte
			for _, v := range vals {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
			}
			req.RawInputContents = [][]byte{b}
		} else {
			in.Contents = &pb.InferTensorContents{Fp32Contents: vals}
		}
		return req
	}
	_, want := restOutputs(t, ts.URL, [][]float64{{5.5, 3.5, 1.5, 0.5}})
	for _, raw := range []bool{false, true} {
		res, err := c.ModelInfer(ctx, f32(raw))
		if err != nil {
			t.Fatal(err)
		}
		if _, probs := outputsOf(t, res); fmt.Sprint(probs) != fmt.Sprint(want) {
			t.Errorf("FP32 raw=%v: %v, want %v", raw, probs, want)
		}
	}

	// Some outputs only, in the order asked.
	req := matrixRequest(grpcRows[:1], false)
	req.Outputs = []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "probabilities"}}
	res, err := c.ModelInfer(ctx, req)
	if err != nil || len(res.Outputs) != 1 || res.Outputs[0].Name != "probabilities" {
		t.Errorf("outputs asked: %v, %v", res, err)
	}
	if m := metricsText(t, ts.URL); !strings.Contains(m, `nn_serve_requests_total{code="OK",endpoint="infer",model="iris",protocol="grpc"}`) {
		t.Errorf("no gRPC series in the metrics:\n%s", m)
	}
}

// The metadata, readiness and server calls.
func TestGRPCMetadata(t *testing.T) {
	s, _ := irisServer(t, &Options{ModelControl: true})
	c := grpcClient(t, s)
	ctx := context.Background()
	live, err := c.ServerLive(ctx, &pb.ServerLiveRequest{})
	if err != nil || !live.Live {
		t.Errorf("ServerLive: %v, %v", live, err)
	}
	ready, err := c.ServerReady(ctx, &pb.ServerReadyRequest{})
	if err != nil || !ready.Ready {
		t.Errorf("ServerReady: %v, %v", ready, err)
	}
	sm, err := c.ServerMetadata(ctx, &pb.ServerMetadataRequest{})
	if err != nil || sm.Name != "neuralgo-nn" || len(sm.Extensions) != 1 || sm.Extensions[0] != "model_repository" {
		t.Errorf("ServerMetadata: %v, %v", sm, err)
	}
	mm, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "iris"})
	if err != nil {
		t.Fatal(err)
	}
	if mm.Name != "iris" || mm.Platform != "neuralgo_nn" || fmt.Sprint(mm.Versions) != "[1]" || len(mm.Inputs) != 1 ||
		mm.Inputs[0].Name != "input" || fmt.Sprint(mm.Inputs[0].Shape) != "[-1 4]" || len(mm.Outputs) != 2 || mm.Outputs[1].Name != "probabilities" {
		t.Errorf("ModelMetadata: %v", mm)
	}
	for _, v := range []string{"", "1"} {
		r, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "iris", Version: v})
		if err != nil || !r.Ready {
			t.Errorf("ModelReady version %q: %v, %v", v, r, err)
		}
	}
	if r, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "iris", Version: "2"}); err != nil || r.Ready {
		t.Errorf("ModelReady of version 2: %v, %v", r, err)
	}
	if _, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "nope"}); status.Code(err) != codes.NotFound {
		t.Errorf("ModelReady of an unknown model: %v", err)
	}
	idx, err := c.RepositoryIndex(ctx, &pb.RepositoryIndexRequest{})
	if err != nil || len(idx.Models) != 2 || idx.Models[0].Name != "iris" || idx.Models[0].State != "READY" || idx.Models[0].Version != "1" {
		t.Errorf("RepositoryIndex: %v, %v", idx, err)
	}
	// Parameters (Triton's configuration and files) are refused.
	if _, err := c.RepositoryModelLoad(ctx, &pb.RepositoryModelLoadRequest{ModelName: "iris", Parameters: map[string]*pb.ModelRepositoryParameter{
		"file:1/model.json": {ParameterChoice: &pb.ModelRepositoryParameter_BytesParam{BytesParam: []byte("x")}},
	}}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("load with parameters: %v", err)
	}
	// Unload, and load the file again.
	if _, err := c.RepositoryModelUnload(ctx, &pb.RepositoryModelUnloadRequest{ModelName: "iris"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModelInfer(ctx, matrixRequest(grpcRows, false)); status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), "unloaded on request") {
		t.Errorf("infer after unload: %v", err)
	}
	if r, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "iris"}); err != nil || r.Ready {
		t.Errorf("ModelReady after unload: %v, %v", r, err)
	}
	if _, err := c.RepositoryModelLoad(ctx, &pb.RepositoryModelLoadRequest{ModelName: "iris"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ModelInfer(ctx, matrixRequest(grpcRows, false)); err != nil {
		t.Errorf("infer after load: %v", err)
	}
}

// Hostile and mistaken requests get the code of their fault and a
// message that says where it is.
func TestGRPCErrors(t *testing.T) {
	s, _ := irisServer(t, &Options{Token: "sesame", MaxBodyBytes: 1 << 20})
	c := grpcClient(t, s)
	ctx := grpcmd.AppendToOutgoingContext(context.Background(), "authorization", "Bearer sesame")
	in := func(name, datatype string, shape []int64, c *pb.InferTensorContents) *pb.ModelInferRequest_InferInputTensor {
		return &pb.ModelInferRequest_InferInputTensor{Name: name, Datatype: datatype, Shape: shape, Contents: c}
	}
	fp64 := func(v ...float64) *pb.InferTensorContents { return &pb.InferTensorContents{Fp64Contents: v} }
	req := func(ins ...*pb.ModelInferRequest_InferInputTensor) *pb.ModelInferRequest {
		return &pb.ModelInferRequest{ModelName: "iris", Inputs: ins}
	}
	raw := func(r *pb.ModelInferRequest, b ...[]byte) *pb.ModelInferRequest {
		r.RawInputContents = b
		return r
	}
	for _, test := range []struct {
		name string
		req  *pb.ModelInferRequest
		code codes.Code
		want string
	}{
		{"unknown model", &pb.ModelInferRequest{ModelName: "nope"}, codes.NotFound, `unknown model "nope"`},
		{"unknown version", &pb.ModelInferRequest{ModelName: "iris", ModelVersion: "2"}, codes.NotFound, `no version "2"`},
		{"no inputs", req(), codes.InvalidArgument, "no input tensors"},
		{"BOOL", req(in("input", "BOOL", []int64{1, 4}, &pb.InferTensorContents{BoolContents: []bool{true, true, true, true}})), codes.InvalidArgument, `inputs[0]: the datatype "BOOL"`},
		{"no datatype", req(in("input", "", []int64{1, 4}, fp64(1, 2, 3, 4))), codes.InvalidArgument, "inputs[0]: no datatype"},
		{"no shape", req(in("input", "FP64", nil, fp64(1, 2, 3, 4))), codes.InvalidArgument, "inputs[0]: no shape"},
		{"negative", req(in("input", "FP64", []int64{-1, 4}, fp64(1, 2, 3, 4))), codes.InvalidArgument, "inputs[0].shape[0]: -1 is negative"},
		{"wrong field", req(in("input", "FP64", []int64{1, 4}, &pb.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 4}})), codes.InvalidArgument, "values in fp32_contents, but the datatype FP64 holds them in fp64_contents"},
		{"too few", req(in("input", "FP64", []int64{2, 4}, fp64(1, 2, 3, 4))), codes.InvalidArgument, "shape [2 4] says 8 values, but inputs[0].contents.fp64_contents holds 4"},
		{"2 GB declared", req(in("input", "FP64", []int64{1 << 26, 4}, fp64(1, 2, 3, 4))), codes.InvalidArgument, "says 268435456 values"},
		{"huge dims", req(in("input", "FP64", []int64{1 << 62, 4}, fp64(1, 2, 3, 4))), codes.InvalidArgument, "inputs[0]: shape"},
		{"columns", req(in("input", "FP64", []int64{1, 3}, fp64(1, 2, 3))), codes.InvalidArgument, "want [N, 4]"},
		{"NaN", req(in("input", "FP64", []int64{1, 4}, fp64(1, math.NaN(), 3, 4))), codes.InvalidArgument, `inputs[0].contents.fp64_contents[1] (row 0): feature "sepal_width" is missing`},
		{"Inf", req(in("input", "FP64", []int64{1, 4}, fp64(1, 2, math.Inf(1), 4))), codes.InvalidArgument, `fp64_contents[2] (row 0): feature "petal_length"`},
		{"text", req(in("input", "BYTES", []int64{1, 4}, &pb.InferTensorContents{BytesContents: [][]byte{[]byte("1"), []byte("x"), []byte("3"), []byte("4")}})), codes.InvalidArgument, `bytes_contents[1] (row 0): feature "sepal_width"`},
		{"FP16 typed", req(in("input", "FP16", []int64{1, 4}, nil)), codes.InvalidArgument, "FP16 values have no typed contents"},
		{"raw count", raw(req(in("input", "FP64", []int64{1, 4}, nil))), codes.InvalidArgument, ""},
		{"raw and typed", raw(req(in("input", "FP64", []int64{1, 4}, fp64(1, 2, 3, 4))), make([]byte, 32)), codes.InvalidArgument, "in contents and in raw_input_contents"},
		{"raw ragged", raw(req(in("input", "FP64", []int64{1, 4}, nil)), make([]byte, 31)), codes.InvalidArgument, "raw_input_contents[0]: 31 bytes, not a whole number of FP64 values of 8 bytes"},
		{"raw short", raw(req(in("input", "FP32", []int64{2, 4}, nil)), make([]byte, 16)), codes.InvalidArgument, "says 8 values, but raw_input_contents[0] holds 4"},
		{"raw BYTES length", raw(req(in("input", "BYTES", []int64{1, 4}, nil)), []byte{1, 0, 0, 0, '5', 200, 0, 0, 0, '1'}), codes.InvalidArgument, "element 1 at byte 5: a length of 200"},
		{"raw too many", raw(req(in("input", "FP64", []int64{1, 4}, nil)), make([]byte, 32), make([]byte, 32)), codes.InvalidArgument, "raw_input_contents: 2, want one per input tensor, 1"},
		{"unknown output", &pb.ModelInferRequest{ModelName: "iris", Inputs: []*pb.ModelInferRequest_InferInputTensor{in("input", "FP64", []int64{1, 4}, fp64(1, 2, 3, 4))}, Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "x"}}}, codes.InvalidArgument, `outputs[0]: unknown output "x"`},
		{"feature twice", req(in("sepal_length", "FP64", []int64{1}, fp64(1)), in("sepal_length", "FP64", []int64{1}, fp64(1))), codes.InvalidArgument, `the feature "sepal_length" twice`},
		{"message too large", req(in("input", "FP64", []int64{1 << 15, 4}, fp64(make([]float64, 1<<17)...))), codes.ResourceExhausted, "larger than max"},
	} {
		_, err := c.ModelInfer(ctx, test.req)
		st := status.Convert(err)
		if st.Code() != test.code || !strings.Contains(st.Message(), test.want) {
			t.Errorf("%s: %v %q, want %v with %q", test.name, st.Code(), st.Message(), test.code, test.want)
		}
	}
	// Without the token, every call but ServerLive.
	bare := context.Background()
	if _, err := c.ModelInfer(bare, matrixRequest(grpcRows, false)); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v", err)
	}
	wrong := grpcmd.AppendToOutgoingContext(bare, "authorization", "Bearer sesam")
	if _, err := c.ModelMetadata(wrong, &pb.ModelMetadataRequest{Name: "iris"}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong token: %v", err)
	}
	// Without model control, no model is unloaded.
	if _, err := c.RepositoryModelUnload(ctx, &pb.RepositoryModelUnloadRequest{ModelName: "iris"}); status.Code(err) != codes.PermissionDenied {
		t.Errorf("unload without model control: %v", err)
	}
	if _, err := c.ServerLive(bare, &pb.ServerLiveRequest{}); err != nil {
		t.Errorf("ServerLive without the token: %v", err)
	}
	if _, err := c.ModelInfer(ctx, matrixRequest(grpcRows, false)); err != nil {
		t.Errorf("with the token: %v", err)
	}
}

// A flood of gRPC messages that decode into many rows, INT8 values in
// raw contents (a byte each, 24 bytes of inputs and more once read), is
// held to Options.MaxInflightBytes: what the server cannot hold is
// refused with Unavailable, and the heap stays near the bound and the
// messages' own bytes, which gRPC reads before the server sees them.
func TestGRPCAdmissionFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPED: a flood of 100 MB of messages")
	}
	iris, _ := models(t)
	const (
		clients = 16
		rows    = 1 << 15 // 128 KiB of INT8 values
		limit   = 48 << 20
		MiB     = 1 << 20
	)
	s, _ := newTestServer(t, &Options{MaxInflightBytes: limit, MaxBodyBytes: 1 << 20, MaxRows: rows, ReloadInterval: -1}, ModelFile{"iris", iris})
	c := grpcClient(t, s)
	vals := make([]byte, rows*4)
	for i := range vals {
		vals[i] = byte(1 + i%5)
	}
	req := &pb.ModelInferRequest{
		ModelName:        "iris",
		Inputs:           []*pb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "INT8", Shape: []int64{rows, 4}}},
		RawInputContents: [][]byte{vals},
		Outputs:          []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}},
	}
	if cost := grpcNeed(s.model("iris").set.Load().latest().cur.Load(), int64(proto.Size(req)), rows); cost > limit/2 || cost < 8*int64(len(vals)) {
		t.Fatalf("a message costs %d bytes: want more than 8 times its %d bytes, and less than half the bound", cost, len(vals))
	}
	runtime.GC()
	base := heapInuse()
	peak := sampleHeap()
	var ok, refused, failed atomic.Int64
	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				res, err := c.ModelInfer(context.Background(), req)
				switch st := status.Convert(err); {
				case err == nil && len(res.RawOutputContents) == 1 && countLabels(res.RawOutputContents[0]) == rows:
					ok.Add(1)
				case st.Code() == codes.Unavailable && strings.HasPrefix(st.Message(), "overloaded"):
					refused.Add(1)
					time.Sleep(20 * time.Millisecond)
				default:
					t.Errorf("during the flood: %v", err)
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	peakHeap := peak()
	t.Logf("%d answered, %d refused; heap in use %d MiB before, at most %d MiB during the flood",
		ok.Load(), refused.Load(), base/MiB, peakHeap/MiB)
	// Live: the bound, and each client's message on both sides of the
	// connection, decoded and encoded; the garbage may grow as much
	// again (GOGC=100).
	if bound := 2*(base+limit+clients*4*int64(len(vals))) + 16*MiB; peakHeap > bound {
		t.Errorf("heap in use %d MiB during the flood, more than %d MiB", peakHeap/MiB, bound/MiB)
	}
	if ok.Load() < 1 || refused.Load() == 0 || failed.Load() > 0 {
		t.Errorf("%d answered, %d refused, %d failed; want some answered and some refused, and none failed", ok.Load(), refused.Load(), failed.Load())
	}
	if h := s.inflight.held.Load(); h != 0 {
		t.Errorf("%d bytes still reserved after the flood", h)
	}
}

// countLabels returns the elements of raw BYTES contents, -1 if they are
// malformed.
func countLabels(raw []byte) int {
	n, err := countBytes(raw)
	if err != nil {
		return -1
	}
	return n
}

// No name reaches outside the repository: "." and ".." are no models.
func TestRepositoryDotNames(t *testing.T) {
	iris, _ := models(t)
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	// A version directory beside the repository, which ".." would find.
	for _, dir := range []string{filepath.Join(root, "1"), filepath.Join(repo, "iris", "1")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, iris, dir)
		if err := os.Rename(filepath.Join(dir, filepath.Base(iris)), filepath.Join(dir, "model.json")); err != nil {
			t.Fatal(err)
		}
	}
	s, ts := newTestServer(t, &Options{Repository: repo, ModelControl: true, ReloadInterval: -1})
	c := grpcClient(t, s)
	for _, name := range []string{"..", "."} {
		if r := post(t, ts.URL+"/v2/repository/models/"+name+"/load", ""); r.status != 404 {
			t.Errorf("REST load of %q: %d %s", name, r.status, r.body)
		}
		if _, err := c.RepositoryModelLoad(context.Background(), &pb.RepositoryModelLoadRequest{ModelName: name}); status.Code(err) != codes.NotFound {
			t.Errorf("gRPC load of %q: %v", name, err)
		}
	}
	if got := s.Models(); fmt.Sprint(got) != "[iris]" {
		t.Errorf("models %v, want [iris]", got)
	}
	if _, err := New([]ModelFile{{"..", iris}}, nil); err == nil || !strings.Contains(err.Error(), "dot segment") {
		t.Errorf("New with a model named \"..\": %v", err)
	}
}

// rawCodec sends a message given as its bytes, and reads answers as
// gRPC's codec does: a client that sends what no generated client would.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(v.([]byte))}, nil
}
func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return proto.Unmarshal(data.Materialize(), v.(proto.Message))
}
func (rawCodec) Name() string { return "proto" }

// A message of millions of empty tensors, values or contents, which a
// protocol buffer decoder would turn into 60 to 80 times its bytes of Go
// structures before the server could count them, is refused with the
// place of the fault, having made the server allocate a few times its
// size at most.
func TestGRPCMessageExpansion(t *testing.T) {
	iris, _ := models(t)
	const size = 4 << 20
	s, _ := newTestServer(t, &Options{MaxBodyBytes: size + 1024, ReloadInterval: -1}, ModelFile{"iris", iris})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := s.NewGRPCServer()
	go gs.Serve(ln)
	defer gs.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(size+1024)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	name := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "iris")
	input := func(contents []byte) []byte {
		in := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "input")
		in = protowire.AppendString(protowire.AppendTag(in, 2, protowire.BytesType), "BYTES")
		in = protowire.AppendBytes(protowire.AppendTag(in, 3, protowire.BytesType), []byte{1, 4})
		return protowire.AppendBytes(protowire.AppendTag(in, 5, protowire.BytesType), contents)
	}
	// repeat appends empty fields num, of wire type BytesType, until b
	// is about size bytes.
	repeat := func(b []byte, num protowire.Number) []byte {
		for len(b) < size-4 {
			b = protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), nil)
		}
		return b
	}
	var bytesContents []byte
	for len(bytesContents) < size-64 {
		bytesContents = protowire.AppendBytes(protowire.AppendTag(bytesContents, 8, protowire.BytesType), nil)
	}
	for _, test := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"empty inputs", repeat(slices.Clone(name), 5), "inputs: more than 4 input tensors"},
		{"empty raw contents", repeat(protowire.AppendBytes(protowire.AppendTag(slices.Clone(name), 5, protowire.BytesType), input(nil)), 7), "raw_input_contents: more than 4"},
		{"empty outputs", repeat(slices.Clone(name), 6), "outputs[0]: no name"},
		{"empty BYTES values", protowire.AppendBytes(protowire.AppendTag(slices.Clone(name), 5, protowire.BytesType), input(bytesContents)), "inputs[0]: shape [1 4] says 4 values, but inputs[0].contents.bytes_contents holds"},
	} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		var res pb.ModelInferResponse
		err := conn.Invoke(context.Background(), pb.GRPCInferenceService_ModelInfer_FullMethodName, test.msg, &res, grpc.ForceCodecV2(rawCodec{}))
		runtime.ReadMemStats(&after)
		if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.Contains(st.Message(), test.want) {
			t.Errorf("%s: %v %q, want InvalidArgument with %q", test.name, st.Code(), st.Message(), test.want)
		}
		// The message is on both sides of the connection, and gRPC
		// reads it into buffers and copies it once for the server.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8*uint64(len(test.msg)) {
			t.Errorf("%s: a message of %d bytes made the client and server allocate %d MiB", test.name, len(test.msg), alloc>>20)
		}
	}
}

// Messages that a careless reader of the wire would take: a packed
// varint of more than 64 bits, and a field number beyond 2²⁹−1, which
// the protocol buffer library refuses.
func TestGRPCWireMalformed(t *testing.T) {
	iris, _ := models(t)
	e, err := loadEntry("iris", iris, nn.Float64)
	if err != nil {
		t.Fatal(err)
	}
	for _, test := range []struct {
		name, hex, want string
	}{
		{"varint overflow", "0a04697269732a230a05696e7075741205494e5436341a0201042a0f1a0d050301ffffffffffffffffff02", "inputs[0].contents.int64_contents: not a valid protocol buffer: a varint cut short or of more than 64 bits"},
		{"field number", "2a1a0a05696e7075741205494e5436341a0201042a061a0405030102808080801000", "the message: not a valid protocol buffer at byte 28"},
	} {
		msg, err := enchex.DecodeString(test.hex)
		if err != nil {
			t.Fatal(err)
		}
		var tb table
		tb.reset(e, 1000)
		_, rows, herr := decodeGRPC(&tb, msg)
		if herr == nil {
			herr = fillGRPC(&tb, rows)
		}
		if herr == nil || herr.Status != 400 || !strings.Contains(herr.Msg, test.want) {
			t.Errorf("%s: %v, want a 400 with %q", test.name, herr, test.want)
		}
		if proto.Unmarshal(msg, new(pb.ModelInferRequest)) == nil {
			t.Errorf("%s: proto.Unmarshal reads it", test.name)
		}
	}
}
