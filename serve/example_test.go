package serve_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/serve"
)

// A Server mounted in an http.Server (here an httptest.Server) answers
// MLflow's /invocations and the Open Inference Protocol's infer.
func Example() {
	// Train and save a small iris classifier.
	d, err := nn.LoadCSV(filepath.Join("..", "testdata", "iris.csv"), &nn.CSVOptions{Target: "species", Classify: true})
	if err != nil {
		log.Fatal(err)
	}
	c := &nn.Classifier{Hidden: []int{16}, Epochs: 40, Seed: 1}
	if err := c.Fit(context.Background(), d); err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "iris.json")
	if err := c.Model.Save(path); err != nil {
		log.Fatal(err)
	}

	s, err := serve.New([]serve.ModelFile{{Name: "iris", Path: path}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	mux := http.NewServeMux()
	mux.Handle("/", s)
	ts := httptest.NewServer(mux)
	defer ts.Close()

	for _, req := range []struct{ path, body string }{
		{"/invocations", `{"inputs": [[5.1, 3.5, 1.4, 0.2], [6.3, 2.9, 5.6, 1.8]]}`},
		{"/v2/models/iris/infer", `{"id": "1", "inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP64", "data": [5.1, 3.5, 1.4, 0.2]}], "outputs": [{"name": "label"}]}`},
		{"/invocations", `{"inputs": [[5.1, 3.5, 1.4]]}`},
	} {
		resp, err := http.Post(ts.URL+req.path, "application/json", strings.NewReader(req.body))
		if err != nil {
			log.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(b))
	}
	// Output:
	// 200 {"predictions":["setosa","virginica"]}
	// 200 {"model_name":"iris","model_version":"1","id":"1","outputs":[{"name":"label","datatype":"BYTES","shape":[1],"data":["setosa"]}]}
	// 400 {"error_code":"BAD_REQUEST","message":"inputs[0]: 3 values, want 4, one per feature: \"sepal_length\", \"sepal_width\", \"petal_length\", \"petal_width\"","error":"inputs[0]: 3 values, want 4, one per feature: \"sepal_length\", \"sepal_width\", \"petal_length\", \"petal_width\""}
}
