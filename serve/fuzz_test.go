package serve

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/serve/inferencepb"
)

// fuzzEntries returns the served versions of the iris classifier and of
// the regression with a categorical column.
func fuzzEntries(f *testing.F) []*entry {
	iris, reg := models(f)
	var es []*entry
	for _, p := range []string{iris, reg} {
		e, err := loadEntry("m", p, nn.Float64)
		if err != nil {
			f.Fatal(err)
		}
		es = append(es, e)
	}
	return es
}

// checkDecoded checks what a decoder made of a body: a well-formed 4xx
// error, or rows that nn.Schema.Prepare takes.
func checkDecoded(t *testing.T, e *entry, tb *table, err *httpError) {
	t.Helper()
	if err != nil {
		if err.Status < 400 || err.Status >= 500 {
			t.Fatalf("status %d for %q", err.Status, err.Msg)
		}
		if err.Msg == "" || strings.ContainsAny(err.Msg, "\n\r") || !utf8.ValidString(strings.ToValidUTF8(err.Msg, "")) {
			t.Fatalf("error message %q", err.Msg)
		}
		b := appendError(nil, err.Msg)
		if !strings.HasPrefix(string(b), `{"error":"`) || !utf8.Valid(b) {
			t.Fatalf("error body %q", b)
		}
		return
	}
	if tb.n <= 0 || tb.n > tb.maxRows || len(tb.x) != tb.n*e.cols {
		t.Fatalf("%d rows of %d values", tb.n, len(tb.x))
	}
	for k, v := range tb.x {
		j := k % e.cols
		switch cats := e.schema.Categories(j); {
		case cats != nil:
			if !math.IsNaN(v) && (v != math.Trunc(v) || v < -1 || v >= float64(len(cats))) {
				t.Fatalf("value %d: %v is not a category code", k, v)
			}
		case math.IsInf(v, 0) || math.IsNaN(v) && !e.schema.TakesMissing():
			t.Fatalf("value %d: %v", k, v)
		}
	}
	// The rows scale without a panic, into finite inputs or an error.
	if _, err := tb.scale(nil); err != nil && err.Status != http.StatusBadRequest {
		t.Fatalf("scale: %v", err)
	}
}

// checkRoom checks that a decoder made room for no more values than the
// body could hold, most: a few times the bytes of the body, whatever it
// holds.
func checkRoom(t *testing.T, tb *table, most int) {
	t.Helper()
	if cap(tb.x) > most {
		t.Fatalf("room for %d values, more than the %d the body can hold", cap(tb.x), most)
	}
}

func FuzzDecodeV2(f *testing.F) {
	es := fuzzEntries(f)
	for _, s := range []string{
		`{"id":"42","inputs":[{"name":"input","shape":[2,4],"datatype":"FP64","data":[[1,2,3,4],[5,6,7,8]]}],"outputs":[{"name":"label"}]}`,
		`{"inputs":[{"name":"input","shape":[1,4],"datatype":"BYTES","data":[1,2,"x",null]}],"parameters":{"a":1}}`,
		`{"inputs":[{"name":"sepal_length","shape":[1],"datatype":"FP32","data":[1]},{"name":"species","shape":[1,1],"datatype":"BYTES","data":["setosa"]}]}`,
		`{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1e999,-0,0.5e-3,1E+2]}]}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body string, second bool) {
		e := es[0]
		if second {
			e = es[1]
		}
		var tb table
		tb.reset(e, 1000)
		_, err := decodeV2(&tb, []byte(body))
		checkDecoded(t, e, &tb, err)
		checkRoom(t, &tb, len(body)/2+1)
	})
}

func FuzzDecodeMLflowJSON(f *testing.F) {
	es := fuzzEntries(f)
	for _, s := range []string{
		`{"inputs": [[1, 2, 3, 4], [5, 6, 7, 8]]}`,
		`{"inputs": {"sepal_length": [1], "sepal_width": [2], "petal_length": [3], "petal_width": [4], "species": ["a"]}}`,
		`{"instances": [{"sepal_length": 1, "sepal_width": 2, "petal_length": 3, "petal_width": 4, "species": "setosa"}]}`,
		`{"dataframe_split": {"columns": ["petal_width", "sepal_length", "sepal_width", "petal_length", "species"], "index": [0], "data": [[1, 2, 3, 4, "x"]]}}`,
		`{"dataframe_records": [{"sepal_length": 1, "sepal_width": null, "petal_length": "3", "petal_width": 4, "species": 1}], "params": {}}`,
		`{"inputs": [[1, 2, "\u00e9\"", 4]]}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body string, second bool) {
		e := es[0]
		if second {
			e = es[1]
		}
		var tb table
		tb.reset(e, 1000)
		checkDecoded(t, e, &tb, decodeMLflowJSON(&tb, []byte(body)))
		checkRoom(t, &tb, len(body)/2+1)
	})
}

func FuzzDecodeCSV(f *testing.F) {
	es := fuzzEntries(f)
	for _, s := range []string{
		"sepal_length,sepal_width,petal_length,petal_width,species\n5.1,3.5,1.4,0.2,setosa\n",
		"petal_width,species,sepal_width,sepal_length,petal_length\n0.2,,3.5,5.1,1.4\n1,\"a,b\",2,3,NA\n",
		"\ufeffsepal_length;sepal_width\n1;2\n",
		"sepal_length,sepal_width,petal_length,petal_width\n1,2,3,1e999\n",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body string, second bool) {
		e := es[0]
		if second {
			e = es[1]
		}
		var tb table
		tb.reset(e, 1000)
		checkDecoded(t, e, &tb, decodeCSV(&tb, []byte(body)))
		checkRoom(t, &tb, len(body)+1)
	})
}

// The scanner accepts exactly the JSON texts that encoding/json does
// (RFC 8259), but for nesting deeper than maxDepth and invalid UTF-8,
// which encoding/json lets through and the scanner refuses.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-0.5e+3,"x\u00e9\n",true,false,null,{}]}`, `[01]`, `[+1]`, `[.5]`, `[5.]`, `[1e]`, `[-]`, `["a` + "\t" + `"]`,
		"[\"\xff\"]", `["\x"]`, `["\u12"]`, `{"a" 1}`, `[1,]`, `[1 2]`, ` 1 `, `nul`, `[1e400]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s := scanner{b: []byte(text)}
		err := s.skip()
		ok := err == nil && s.kind() == kindEnd
		if err == errDepth {
			return
		}
		if want := json.Valid([]byte(text)) && utf8.ValidString(text); ok != want {
			t.Fatalf("scanner: valid %v (%v), encoding/json: %v", ok, err, want)
		}
	})
}

func FuzzDecodeGRPC(f *testing.F) {
	es := fuzzEntries(f)
	seeds := []*pb.ModelInferRequest{
		matrixRequest(grpcRows, false),
		matrixRequest(grpcRows[:1], true),
		{Inputs: []*pb.ModelInferRequest_InferInputTensor{
			{Name: "sepal_length", Datatype: "FP32", Shape: []int64{1}, Contents: &pb.InferTensorContents{Fp32Contents: []float32{1}}},
			{Name: "species", Datatype: "BYTES", Shape: []int64{1, 1}, Contents: &pb.InferTensorContents{BytesContents: [][]byte{[]byte("setosa")}}},
		}},
		{Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "INT8", Shape: []int64{1, 4}}}, RawInputContents: [][]byte{{1, 2, 0xff, 4}}},
		{Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "BYTES", Shape: []int64{1, 4}}}, RawInputContents: [][]byte{{1, 0, 0, 0, '5', 1, 0, 0, 0, '1', 0, 0, 0, 0, 2, 0, 0, 0, 'N', 'A'}}},
		{Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP16", Shape: []int64{1, 4}}}, RawInputContents: [][]byte{{0, 0x3c, 0, 0x40, 0, 0x7c, 0x01, 0x7e}}},
		{Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "INT64", Shape: []int64{1, 4}, Contents: &pb.InferTensorContents{Int64Contents: []int64{5, -3, 1 << 40, 0}}}}},
		{Inputs: []*pb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "INT32", Shape: []int64{1, 4}, Contents: &pb.InferTensorContents{IntContents: []int32{5, -3, 1, 0}}}}},
		{ModelName: "iris", Id: "1", Parameters: map[string]*pb.InferParameter{"k": {ParameterChoice: &pb.InferParameter_StringParam{StringParam: "v"}}},
			Inputs:  []*pb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "UINT64", Shape: []int64{1, 4}, Contents: &pb.InferTensorContents{Uint64Contents: []uint64{5, 3, 1, 0}}}},
			Outputs: []*pb.ModelInferRequest_InferRequestedOutputTensor{{Name: "label"}}},
	}
	for _, r := range seeds {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, msg []byte, second bool) {
		e := es[0]
		if second {
			e = es[1]
		}
		var tb table
		tb.reset(e, 1000)
		if _, err := readHeader(msg); err != nil {
			return
		}
		_, rows, err := decodeGRPC(&tb, msg)
		if err == nil {
			// The rows are those the message's values fill, at most
			// one per byte.
			if rows <= 0 || rows > len(msg) {
				t.Fatalf("%d rows from %d bytes", rows, len(msg))
			}
			tb.limitValues(len(msg) + 1)
			err = fillGRPC(&tb, rows)
		}
		checkDecoded(t, e, &tb, err)
		checkRoom(t, &tb, len(msg)+1)
		// A gRPC status message must be valid UTF-8, or the status
		// cannot be sent.
		if err != nil && !utf8.ValidString(err.Msg) {
			t.Fatalf("error message %q is not valid UTF-8", err.Msg)
		}
		// What a message decodes to is what the protocol buffer
		// library reads of it.
		var req pb.ModelInferRequest
		if err == nil && proto.Unmarshal(msg, &req) != nil {
			t.Fatalf("decoded a message that proto.Unmarshal refuses")
		}
	})
}
