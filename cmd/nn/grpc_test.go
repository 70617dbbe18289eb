package main

import (
	"bytes"
	"context"
	"crypto/tls"
	encbinary "encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/neuralgo/nn/serve/inferencepb"
)

// startGRPCServe starts nn serve with -grpc-addr 127.0.0.1:0 and args
// (which give -addr: ” for gRPC only, 127.0.0.1:0 for both), and waits
// for the gRPC address it prints; its url is the HTTP address, if it
// printed one.
func startGRPCServe(t *testing.T, args ...string) (s *server, grpcAddr string) {
	t.Helper()
	return launchServe(t, true, append([]string{"-grpc-addr", "127.0.0.1:0"}, args...))
}

// grpcPython returns the Python that has grpc and grpc_tools, or skips
// t (fails it under NN_ONNX_REQUIRED=1, as in .ci/run, which installs
// them), as the ONNX tests find theirs.
func grpcPython(t *testing.T) string {
	t.Helper()
	for _, py := range []string{os.Getenv("NN_PYTHON"), "/usr/bin/python3", "python3"} {
		if py == "" {
			continue
		}
		if exec.Command(py, "-c", "import grpc, grpc_tools.protoc").Run() == nil {
			return py
		}
	}
	msg := "no Python with grpc and grpc_tools: apt-get install python3-grpcio python3-grpc-tools (or set NN_PYTHON)"
	if os.Getenv("NN_ONNX_REQUIRED") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// predictReference returns nn predict's labels, and its probabilities
// (-proba), for the rows of the CSV file data.
func predictReference(t *testing.T, model, data string) ([]string, [][]float64) {
	t.Helper()
	labels, _ := parsePredictions(t, mustRun(t, "", "predict", "-model", model, "-data", data).stdout, true, false)
	_, probs := parsePredictions(t, mustRun(t, "", "predict", "-model", model, "-data", data, "-proba").stdout, false, true)
	if len(labels) != len(probs) {
		t.Fatalf("nn predict: %d labels, %d rows of probabilities", len(labels), len(probs))
	}
	return labels, probs
}

// checkPredictions compares labels and probabilities with nn predict's,
// bit for bit (to 1e-12 in the OpenBLAS build, whose products of blocks
// of other sizes may round otherwise, as TestConsistency allows).
func checkPredictions(t *testing.T, path string, labels []string, probs [][]float64, wantLabels []string, wantProbs [][]float64) {
	t.Helper()
	if !slices.Equal(labels, wantLabels) {
		t.Errorf("%s: labels differ from nn predict's:\n%v\nwant\n%v", path, labels, wantLabels)
	}
	if len(probs) != len(wantProbs) {
		t.Errorf("%s: %d rows of probabilities, want %d", path, len(probs), len(wantProbs))
		return
	}
	for i := range probs {
		if !slices.Equal(probs[i], wantProbs[i]) && !(openBLAS && within(probs[i], wantProbs[i], 1e-12)) {
			t.Errorf("%s: row %d: probabilities %v, nn predict's %v (bit for bit)", path, i, probs[i], wantProbs[i])
			return
		}
	}
}

// TestServeGRPCPython predicts iris rows with nn serve -grpc-addr through
// testdata/grpc_client.py, the Python client (grpcio, and the stubs
// compiled from serve/inferencepb/grpc_predict_v2.proto at run time by
// grpc_tools), with typed and with raw contents: the labels and
// probabilities are nn predict's. A wrong token is UNAUTHENTICATED and an
// unknown model NOT_FOUND.
func TestServeGRPCPython(t *testing.T) {
	py := grpcPython(t)
	model := trainedIris(t)
	dir := t.TempDir()
	// The columns of iris.csv shuffled, species among them: the client
	// sends the features it is told to by name, in the model's order.
	table := readCSVTable(t, irisPath)
	for _, r := range table {
		r[len(r)-1] = strings.TrimSuffix(r[len(r)-1], "\r") // iris.csv has CRLF line ends
	}
	order := []string{"species", "petal_width", "sepal_length", "petal_length", "sepal_width"}
	var csv strings.Builder
	for _, r := range table {
		var f []string
		for _, name := range order {
			f = append(f, r[slices.Index(table[0], name)])
		}
		csv.WriteString(strings.Join(f, ",") + "\n")
	}
	data := filepath.Join(dir, "shuffled.csv")
	writeFile(t, data, csv.String())
	wantLabels, wantProbs := predictReference(t, model, data)
	if len(wantLabels) != len(table)-1 {
		t.Fatalf("nn predict: %d rows, want %d", len(wantLabels), len(table)-1)
	}

	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, "tok-py\n")
	s, addr := startGRPCServe(t, "-model", "iris="+model, "-addr", "", "-token-file", tokenFile)
	if s.url != "" || strings.Contains(s.log(), "nn serve: listening on") {
		t.Errorf("-addr '' served HTTP:\n%s", s.log())
	}
	features := strings.Join(table[0][:4], ",") // the model's order, iris.csv's
	client := func(args ...string) (stdout, stderr string, err error) {
		t.Helper()
		cmd := exec.Command(py, append([]string{filepath.Join("testdata", "grpc_client.py"), "--addr", addr, "--csv", data, "--features", features}, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err = cmd.Run()
		return o.String(), e.String(), err
	}
	for _, mode := range []string{"typed", "raw"} {
		args := []string{"--model", "iris", "--token", "tok-py"}
		if mode == "raw" {
			args = append(args, "--raw")
		}
		out, errOut, err := client(args...)
		if err != nil {
			t.Fatalf("%s: grpc_client.py: %v\n%s\nnn serve:\n%s", mode, err, errOut, s.log())
		}
		var labels []string
		var probs [][]float64
		for _, l := range lines(out) {
			f := strings.Split(l, ",")
			labels = append(labels, f[0])
			row := make([]float64, len(f)-1)
			for j, v := range f[1:] {
				row[j] = mustFloat(t, v)
			}
			probs = append(probs, row)
		}
		checkPredictions(t, "grpc_client.py, "+mode+" contents", labels, probs, wantLabels, wantProbs)
	}
	for _, c := range []struct {
		what string
		args []string
		want string
	}{
		{"a wrong token", []string{"--model", "iris", "--token", "tok-p"}, "ServerReady: UNAUTHENTICATED: "},
		{"no token", []string{"--model", "iris"}, "ServerReady: UNAUTHENTICATED: "},
		{"an unknown model", []string{"--model", "iris2", "--token", "tok-py"}, "ModelReady: NOT_FOUND: "},
	} {
		out, errOut, err := client(c.args...)
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(errOut, c.want) || out != "" {
			t.Errorf("grpc_client.py with %s: %v, stdout %q, stderr %q; want exit status 1 and %q", c.what, err, out, errOut, c.want)
		}
	}
}

// TestServeGRPCGo talks to nn serve -grpc-addr with TLS and a token
// through the Go stubs of serve/inferencepb: the server's and the model's
// metadata, predictions equal to nn predict's with typed and with raw
// contents, the errors of a missing token and an unknown model; then
// SIGTERM under load answers the requests in flight, and nn serve exits
// with status 0.
func TestServeGRPCGo(t *testing.T) {
	model := trainedIris(t)
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "nn-grpc")
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, "tok-go\n")
	s, addr := startGRPCServe(t, "-model", "iris="+model, "-addr", "127.0.0.1:0", "-tls-cert", certFile, "-tls-key", keyFile, "-token-file", tokenFile, "-drain-timeout", "10s")
	if !strings.HasPrefix(s.url, "https://") {
		t.Errorf("HTTP at %q beside gRPC, want https://", s.url)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool})))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := pb.NewGRPCInferenceServiceClient(conn)
	bare, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx := metadata.AppendToOutgoingContext(bare, "authorization", "Bearer tok-go")

	// Liveness needs no token; the rest do.
	if r, err := c.ServerLive(bare, &pb.ServerLiveRequest{}); err != nil || !r.Live {
		t.Fatalf("ServerLive without a token: %v, %v", r, err)
	}
	if _, err := c.ServerReady(bare, &pb.ServerReadyRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("ServerReady without a token: %v, want Unauthenticated", err)
	}
	if r, err := c.ServerReady(ctx, &pb.ServerReadyRequest{}); err != nil || !r.Ready {
		t.Errorf("ServerReady: %v, %v", r, err)
	}
	sm, err := c.ServerMetadata(ctx, &pb.ServerMetadataRequest{})
	if err != nil || sm.Name != "neuralgo-nn" || sm.Version == "" {
		t.Errorf("ServerMetadata: %v, %v; want the name neuralgo-nn and a version", sm, err)
	}
	mm, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "iris"})
	if err != nil {
		t.Fatal(err)
	}
	want := &pb.ModelMetadataResponse{
		Name: "iris", Versions: []string{"1"}, Platform: mm.Platform,
		Inputs: []*pb.ModelMetadataResponse_TensorMetadata{{Name: "input", Datatype: "FP64", Shape: []int64{-1, 4}}},
		Outputs: []*pb.ModelMetadataResponse_TensorMetadata{
			{Name: "label", Datatype: "BYTES", Shape: []int64{-1}},
			{Name: "probabilities", Datatype: "FP64", Shape: []int64{-1, 3}},
		},
	}
	if !proto.Equal(mm, want) || mm.Platform == "" {
		t.Errorf("ModelMetadata:\n%v\nwant\n%v (and a platform)", mm, want)
	}
	if r, err := c.ModelReady(ctx, &pb.ModelReadyRequest{Name: "iris", Version: "1"}); err != nil || !r.Ready {
		t.Errorf("ModelReady iris 1: %v, %v", r, err)
	}
	if _, err := c.ModelMetadata(ctx, &pb.ModelMetadataRequest{Name: "iris2"}); status.Code(err) != codes.NotFound {
		t.Errorf("ModelMetadata of an unknown model: %v, want NotFound", err)
	}

	// Predictions, as nn predict's.
	wantLabels, wantProbs := predictReference(t, model, irisPath)
	var x []float64
	for _, r := range irisFeatureRows(t) {
		for _, f := range strings.Split(r, ",") {
			x = append(x, mustFloat(t, f))
		}
	}
	n := len(x) / 4
	request := func(raw bool) *pb.ModelInferRequest {
		in := &pb.ModelInferRequest_InferInputTensor{Name: "input", Datatype: "FP64", Shape: []int64{int64(n), 4}}
		req := &pb.ModelInferRequest{ModelName: "iris", Id: "req-1", Inputs: []*pb.ModelInferRequest_InferInputTensor{in}}
		if raw {
			b := make([]byte, 0, 8*len(x))
			for _, v := range x {
				b = encbinary.LittleEndian.AppendUint64(b, math.Float64bits(v))
			}
			req.RawInputContents = [][]byte{b}
		} else {
			in.Contents = &pb.InferTensorContents{Fp64Contents: x}
		}
		return req
	}
	for _, raw := range []bool{false, true} {
		path := "ModelInfer, typed contents"
		if raw {
			path = "ModelInfer, raw contents"
		}
		res, err := c.ModelInfer(ctx, request(raw))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		labels, probs := inferAnswer(t, path, res, n)
		checkPredictions(t, path, labels, probs, wantLabels, wantProbs)
		if res.ModelName != "iris" || res.ModelVersion != "1" || res.Id != "req-1" {
			t.Errorf("%s: model %q version %q id %q, want iris, 1 and req-1", path, res.ModelName, res.ModelVersion, res.Id)
		}
	}
	if _, err := c.ModelInfer(ctx, &pb.ModelInferRequest{ModelName: "iris2", Inputs: request(false).Inputs}); status.Code(err) != codes.NotFound {
		t.Errorf("ModelInfer of an unknown model: %v, want NotFound", err)
	}

	// SIGTERM while requests are being answered: those answered are
	// right, those refused are Unavailable (the server is going away), and
	// nn serve exits with status 0.
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	one := &pb.ModelInferRequest{ModelName: "iris", Inputs: []*pb.ModelInferRequest_InferInputTensor{{
		Name: "input", Datatype: "FP64", Shape: []int64{1, 4}, Contents: &pb.InferTensorContents{Fp64Contents: x[:4]}}}}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res, err := c.ModelInfer(ctx, one)
				if err != nil {
					t.Logf("after SIGTERM: %v", err)
					if status.Code(err) != codes.Unavailable {
						t.Errorf("ModelInfer during SIGTERM: %v, want an answer or Unavailable", err)
					}
					return
				}
				if l := res.Outputs[0].GetContents().GetBytesContents(); len(l) != 1 || string(l[0]) != wantLabels[0] {
					t.Errorf("ModelInfer during SIGTERM: %v, want the label %s", res, wantLabels[0])
					return
				}
				mu.Lock()
				answered++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if code := s.wait(t); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0:\n%s", code, s.log())
	}
	if !strings.Contains(s.log(), "shutting down") || !strings.Contains(s.log(), "msg=stopped") {
		t.Errorf("no shutdown in the log:\n%s", s.log())
	}
	if answered < 10 {
		t.Errorf("%d requests answered before SIGTERM", answered)
	}
	t.Logf("%d requests answered under SIGTERM", answered)
}

// inferAnswer returns the labels and probabilities of a ModelInfer
// response for n rows, from its raw or its typed contents.
func inferAnswer(t *testing.T, path string, res *pb.ModelInferResponse, n int) ([]string, [][]float64) {
	t.Helper()
	if len(res.Outputs) != 2 || res.Outputs[0].Name != "label" || res.Outputs[0].Datatype != "BYTES" || !slices.Equal(res.Outputs[0].Shape, []int64{int64(n)}) ||
		res.Outputs[1].Name != "probabilities" || res.Outputs[1].Datatype != "FP64" || !slices.Equal(res.Outputs[1].Shape, []int64{int64(n), 3}) {
		t.Fatalf("%s: outputs %v, want label BYTES [%d] and probabilities FP64 [%d 3]", path, res.Outputs, n, n)
	}
	var labels []string
	var p []float64
	if raw := res.RawOutputContents; raw != nil {
		if len(raw) != 2 || res.Outputs[0].Contents != nil || res.Outputs[1].Contents != nil {
			t.Fatalf("%s: %d raw output contents and typed contents %v, %v; want 2 and none", path, len(raw), res.Outputs[0].Contents, res.Outputs[1].Contents)
		}
		for b := raw[0]; len(b) > 0; {
			if len(b) < 4 || len(b) < 4+int(encbinary.LittleEndian.Uint32(b)) {
				t.Fatalf("%s: raw labels cut short", path)
			}
			k := int(encbinary.LittleEndian.Uint32(b))
			labels = append(labels, string(b[4:4+k]))
			b = b[4+k:]
		}
		if len(raw[1])%8 != 0 {
			t.Fatalf("%s: %d bytes of raw probabilities", path, len(raw[1]))
		}
		for b := raw[1]; len(b) > 0; b = b[8:] {
			p = append(p, math.Float64frombits(encbinary.LittleEndian.Uint64(b)))
		}
	} else {
		for _, l := range res.Outputs[0].GetContents().GetBytesContents() {
			labels = append(labels, string(l))
		}
		p = res.Outputs[1].GetContents().GetFp64Contents()
	}
	if len(labels) != n || len(p) != 3*n {
		t.Fatalf("%s: %d labels and %d probabilities, want %d and %d", path, len(labels), len(p), n, 3*n)
	}
	probs := make([][]float64, n)
	for i := range probs {
		probs[i] = p[3*i : 3*i+3]
	}
	return labels, probs
}
