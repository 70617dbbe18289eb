package serve_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/serve"
	"github.com/neuralgo/nn/serve/inferencepb"
)

// A repository in Triton's layout, served over gRPC: the client asks for
// the latest version of iris, then for version 1 by its number.
func ExampleServer_NewGRPCServer() {
	d, err := nn.LoadCSV(filepath.Join("..", "testdata", "iris.csv"), &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		log.Fatal(err)
	}
	repo, err := os.MkdirTemp("", "repository")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(repo)
	// Two versions, repo/iris/1/model.json and repo/iris/2/model.json,
	// and a config.pbtxt that serves both.
	for v, epochs := range map[string]int{"1": 5, "2": 40} {
		c := &nn.Classifier{Hidden: []int{16}, Epochs: epochs, Seed: 1}
		if err := c.Fit(context.Background(), d); err != nil {
			log.Fatal(err)
		}
		dir := filepath.Join(repo, "iris", v)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			log.Fatal(err)
		}
		if err := c.Model.Save(filepath.Join(dir, "model.json")); err != nil {
			log.Fatal(err)
		}
	}
	config := []byte("version_policy: { all: {} }\n")
	if err := os.WriteFile(filepath.Join(repo, "iris", "config.pbtxt"), config, 0o644); err != nil {
		log.Fatal(err)
	}

	s, err := serve.New(nil, &serve.Options{Repository: repo})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	gs := s.NewGRPCServer()
	go gs.Serve(ln)
	defer gs.Stop()

	// The client.
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := inferencepb.NewGRPCInferenceServiceClient(conn)
	for _, version := range []string{"", "1"} {
		res, err := client.ModelInfer(context.Background(), &inferencepb.ModelInferRequest{
			ModelName:    "iris",
			ModelVersion: version, // "" for the latest
			Inputs: []*inferencepb.ModelInferRequest_InferInputTensor{{
				Name: "input", Datatype: "FP64", Shape: []int64{2, 4},
				Contents: &inferencepb.InferTensorContents{Fp64Contents: []float64{5.1, 3.5, 1.4, 0.2, 6.3, 2.9, 5.6, 1.8}},
			}},
			Outputs: []*inferencepb.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}},
		})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("version %s: %q\n", res.ModelVersion, res.Outputs[0].Contents.BytesContents)
	}
	// Output:
	// version 2: ["setosa" "virginica"]
	// version 1: ["setosa" "virginica"]
}
