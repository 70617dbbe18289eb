package onnx

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"google.golang.org/protobuf/proto"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// TestRoundTrip writes every kind of model, reads it back and writes it
// again: the two files are the same bytes, and the model read predicts
// bit for bit as the one written (in double), or as its weights rounded
// to float (in float).
func TestRoundTrip(t *testing.T) {
	cases := append(exportCases(t), tableCases(t)...)
	for _, c := range cases {
		for _, f32 := range []bool{false, true} {
			name := c.name
			if f32 {
				name += "/float32"
			}
			o := &Options{Float32: f32}
			var first bytes.Buffer
			if err := Write(&first, c.model, o); err != nil {
				t.Fatalf("%s: Write: %v", name, err)
			}
			m, err := Read(bytes.NewReader(first.Bytes()))
			if err != nil {
				t.Errorf("%s: Read: %v", name, err)
				continue
			}
			var second bytes.Buffer
			if err := Write(&second, m, o); err != nil {
				t.Fatalf("%s: Write of the model read: %v", name, err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Errorf("%s: export → import → export changed the file (%d bytes, then %d)", name, first.Len(), second.Len())
			}
			if f32 {
				continue
			}
			var a, b bytes.Buffer
			if err := c.model.Encode(&a); err != nil {
				t.Fatal(err)
			}
			if err := m.Encode(&b); err != nil {
				t.Fatal(err)
			}
			if a.String() != b.String() {
				t.Errorf("%s: model file of the model read differs:\n%s\nwant:\n%s", name, b.String(), a.String())
			}
			want, err := c.model.Predict(c.x)
			if err != nil {
				t.Fatal(err)
			}
			got, err := m.Predict(c.x)
			if err != nil {
				t.Fatalf("%s: Predict: %v", name, err)
			}
			if !mat.Equal(got, want) {
				t.Errorf("%s: predictions of the model read differ", name)
			}
		}
	}
}

// TestReadErrors checks that what Read does not support is an error that
// names the node and its operator.
func TestReadErrors(t *testing.T) {
	base := func() *pb.ModelProto {
		m := randomModel(t, 1, nn.ReLU, nn.Softmax, 3, nn.CrossEntropy, true, true, true)
		p, err := build(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	find := func(p *pb.ModelProto, op string) *pb.NodeProto {
		for _, n := range p.Graph.Node {
			if n.GetOpType() == op {
				return n
			}
		}
		t.Fatalf("no %s node", op)
		return nil
	}
	for _, test := range []struct {
		name   string
		change func(p *pb.ModelProto)
		want   string
	}{
		{"unsupported op", func(p *pb.ModelProto) { find(p, "Relu").OpType = sp("Selu") }, `node "layer1/a" (Selu): operator not supported`},
		{"op of another domain", func(p *pb.ModelProto) { find(p, "Relu").Domain = sp("com.microsoft") }, `node "layer1/a" (Relu): operator of domain "com.microsoft"`},
		{"shapes do not chain", func(p *pb.ModelProto) {
			for _, in := range p.Graph.Initializer {
				if in.GetName() == "layer2/W_5" || strings.HasPrefix(in.GetName(), "layer2/W") {
					in.Dims = []int64{6, 7}
				}
			}
		}, "take 6 inputs, but the layer before has 7 outputs"},
		{"short raw data", func(p *pb.ModelProto) {
			for _, in := range p.Graph.Initializer {
				if strings.HasPrefix(in.GetName(), "layer1/W") {
					in.RawData = in.RawData[:len(in.RawData)-8]
				}
			}
		}, "bytes of raw data for 35 doubles"},
		{"huge dims", func(p *pb.ModelProto) {
			for _, in := range p.Graph.Initializer {
				if strings.HasPrefix(in.GetName(), "layer1/W") {
					in.Dims = []int64{1 << 40, 1 << 40}
				}
			}
		}, "more than 268435456 elements"},
		{"negative dim", func(p *pb.ModelProto) {
			for _, in := range p.Graph.Initializer {
				if strings.HasPrefix(in.GetName(), "layer1/W") {
					in.Dims = []int64{-5, -7}
				}
			}
		}, "dimension 0 is -5"},
		{"NaN weight", func(p *pb.ModelProto) {
			for _, in := range p.Graph.Initializer {
				if strings.HasPrefix(in.GetName(), "layer1/W") {
					copy(in.RawData, []byte{0, 0, 0, 0, 0, 0, 0xf8, 0x7f})
				}
			}
		}, "value 0 is NaN"},
		{"two inputs", func(p *pb.ModelProto) {
			p.Graph.Input = append(p.Graph.Input, valueInfo("Y", pb.TensorProto_DOUBLE, -1, 5))
		}, `more than one input ("X" and "Y")`},
		{"integer input", func(p *pb.ModelProto) {
			p.Graph.Input[0] = valueInfo("X", pb.TensorProto_INT64, -1, 5)
		}, "element type INT64"},
		{"no graph", func(p *pb.ModelProto) { p.Graph = nil }, "model has no graph"},
		{"external data", func(p *pb.ModelProto) {
			p.Graph.Initializer[0].DataLocation = pb.TensorProto_EXTERNAL.Enum()
		}, "outside the model file"},
		{"softmax over axis 0", func(p *pb.ModelProto) { find(p, "Softmax").Attribute[0].I = i64p(0) }, "softmax over axis 0"},
		{"gemm with alpha", func(p *pb.ModelProto) {
			find(p, "Gemm").Attribute = append(find(p, "Gemm").Attribute, &pb.AttributeProto{Name: sp("alpha"), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(2)})
		}, "alpha, beta and transA must be 1, 1 and 0"},
		{"branch", func(p *pb.ModelProto) {
			n := find(p, "Relu")
			n.Input[0] = "X"
		}, `its first input is not "layer1/z"`},
		{"opset 5", func(p *pb.ModelProto) { p.OpsetImport[0].Version = i64p(5) }, "operator set 5"},
		{"transB 2", func(p *pb.ModelProto) {
			find(p, "Gemm").Attribute = append(find(p, "Gemm").Attribute, attrInt("transB", 2))
		}, "transB is 2, want 0 or 1"},
		{"transB as a float", func(p *pb.ModelProto) {
			find(p, "Gemm").Attribute = append(find(p, "Gemm").Attribute, &pb.AttributeProto{Name: sp("transB"), Type: pb.AttributeProto_FLOAT.Enum(), F: proto.Float32(1)})
		}, `attribute "transB" is of type FLOAT, want INT`},
		{"repeated attribute", func(p *pb.ModelProto) {
			n := find(p, "Softmax")
			n.Attribute = append(n.Attribute, attrInt("axis", 0))
		}, `attribute "axis" is repeated`},
		{"duplicate initializer", func(p *pb.ModelProto) {
			p.Graph.Initializer = append(p.Graph.Initializer, proto.Clone(p.Graph.Initializer[0]).(*pb.TensorProto))
		}, "is defined twice"},
		{"output defined twice", func(p *pb.ModelProto) {
			find(p, "Relu").Output[0] = find(p, "Gemm").Output[0]
		}, "is defined twice"},
		{"network value not an output", func(p *pb.ModelProto) {
			// Only the label: the probabilities are not an output.
			p.Graph.Output = p.Graph.Output[:1]
		}, "not computed from the network as nn export computes"},
		{"another computation after the network", func(p *pb.ModelProto) {
			n := find(p, "ArgMax")
			n.OpType = sp("Sub")
			n.Attribute = nil
			n.Input = []string{p.Graph.Initializer[0].GetName(), n.Input[0]}
		}, "not computed from the network as nn export computes"},
		{"argmax over columns", func(p *pb.ModelProto) {
			find(p, "ArgMax").Attribute[0].I = i64p(0)
		}, "not computed from the network as nn export computes"},
		{"op type with a newline", func(p *pb.ModelProto) { find(p, "Relu").OpType = sp("Re\nlu") }, `("Re\nlu")`},
		{"function redefined", func(p *pb.ModelProto) {
			m := randomModel(t, 2, nn.SiLU, nn.Identity, 1, nn.SquaredError, true, false, false)
			q, err := build(m, nil)
			if err != nil {
				t.Fatal(err)
			}
			q.Functions[0].Node[1].OpType = sp("Log")
			proto.Reset(p)
			proto.Merge(p, q)
		}, "the model's definition of SiLU is not nn's"},
	} {
		p := base()
		test.change(p)
		data, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Read(bytes.NewReader(data))
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got %v, want an error with %q", test.name, err, test.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error of more than one line: %q", test.name, err)
		}
	}
}

// TestReadTails checks that Read refuses a single-output classifier whose
// threshold or probabilities differ from what Write makes, and reads the
// ones it makes.
func TestReadTails(t *testing.T) {
	for _, test := range []struct {
		name   string
		change func(p *pb.ModelProto)
		ok     bool
	}{
		{"as written", func(p *pb.ModelProto) {}, true},
		{"threshold", func(p *pb.ModelProto) {
			for _, in := range p.Graph.Initializer {
				if strings.HasPrefix(in.GetName(), "threshold") {
					in.RawData = tensor("t", nil, []float64{0.7}, false).RawData
				}
			}
		}, false},
		{"one minus p", func(p *pb.ModelProto) {
			for _, n := range p.Graph.Node {
				if n.GetOpType() == "Sub" {
					n.Input[0], n.Input[1] = n.Input[1], n.Input[0]
				}
			}
		}, false},
		{"cast to double", func(p *pb.ModelProto) {
			for _, n := range p.Graph.Node {
				if n.GetOpType() == "Cast" {
					n.Attribute[0].I = i64p(int64(pb.TensorProto_DOUBLE))
				}
			}
		}, false},
	} {
		m := randomModel(t, 5, nn.ReLU, nn.Sigmoid, 1, nn.BinaryCrossEntropy, true, false, true)
		p, err := build(m, nil)
		if err != nil {
			t.Fatal(err)
		}
		test.change(p)
		data, err := proto.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Read(bytes.NewReader(data))
		if (err == nil) != test.ok {
			t.Errorf("%s: got %v, want error: %t", test.name, err, !test.ok)
		}
	}
}

// TestReadConstantNodes reads weights held by Constant nodes rather than
// initializers.
func TestReadConstantNodes(t *testing.T) {
	m := randomModel(t, 6, nn.Tanh, nn.Identity, 2, nn.SquaredError, true, true, false)
	p, err := build(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*pb.NodeProto
	for _, in := range p.Graph.Initializer {
		nodes = append(nodes, &pb.NodeProto{
			OpType:    sp("Constant"),
			Output:    []string{in.GetName()},
			Attribute: []*pb.AttributeProto{{Name: sp("value"), Type: pb.AttributeProto_TENSOR.Enum(), T: in}},
		})
	}
	p.Graph.Node = append(nodes, p.Graph.Node...)
	p.Graph.Initializer = nil
	data, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	x := randomRows(m, 10, 5, 6)
	want, _ := m.Predict(x)
	got, err := back.Predict(x)
	if err != nil || !mat.Equal(got, want) {
		t.Errorf("predictions of the model of Constant nodes differ (%v)", err)
	}
}

// TestReadSharedWeights checks that weights shared by many layers count
// once per layer against the memory budget, before the layers take it.
func TestReadSharedWeights(t *testing.T) {
	net, err := nn.New(nn.Config{Sizes: []int{64, 64, 64}, NoBias: true, Activations: []nn.Activation{nn.ReLU, nn.Identity}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := build(&nn.Model{Network: net}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 1000 layers, all of the first layer's weights.
	w := p.Graph.Node[0].Input[1]
	var nodes []*pb.NodeProto
	x := p.Graph.Input[0].GetName()
	for i := range 1000 {
		out := "z" + strconv.Itoa(i)
		nodes = append(nodes, &pb.NodeProto{OpType: sp("MatMul"), Input: []string{x, w}, Output: []string{out}})
		x = out
	}
	p.Graph.Node = nodes
	p.Graph.Output[0].Name = sp(x)
	data, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	old := nn.SetMemoryBudget(int64(len(data)) * decodeFactor)
	defer nn.SetMemoryBudget(old)
	_, err = Read(bytes.NewReader(data))
	if !errors.Is(err, nn.ErrMemoryBudget) {
		t.Errorf("1000 layers of %d bytes of shared weights, budget %d: got %v, want an error wrapping ErrMemoryBudget", 8*64*64, int64(len(data))*decodeFactor, err)
	}
}

// TestWriteInputName checks that an input named as a value of the graph
// is refused.
func TestWriteInputName(t *testing.T) {
	m := randomModel(t, 7, nn.ReLU, nn.Identity, 1, nn.SquaredError, true, true, false)
	for _, name := range []string{"prediction", "layer1/z", "scaler/offset_1"} {
		if err := Write(&bytes.Buffer{}, m, &Options{Input: name}); err == nil {
			t.Errorf("Write with the input named %q: no error", name)
		}
	}
	if err := Write(&bytes.Buffer{}, m, &Options{Input: "features"}); err != nil {
		t.Errorf("Write with the input named features: %v", err)
	}
}

// TestReadCorrupt reads truncated and corrupted files.
func TestReadCorrupt(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, randomModel(t, 3, nn.Tanh, nn.Softmax, 3, nn.CrossEntropy, true, true, true), nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	for _, n := range []int{0, 1, 10, len(data) / 3, len(data) / 2, len(data) - 1} {
		if _, err := Read(bytes.NewReader(data[:n])); err == nil {
			t.Errorf("Read of the first %d of %d bytes: no error", n, len(data))
		}
	}
	if _, err := Read(strings.NewReader("{\"format\": \"github.com/neuralgo/nn model\"}")); err == nil {
		t.Error("Read of a JSON model file: no error")
	}
}

// TestReadBudget checks that a file larger than 1/128 of the memory budget
// is refused before it is decoded, and a tensor larger than the budget
// before it is converted.
func TestReadBudget(t *testing.T) {
	net, err := nn.New(nn.Config{Sizes: []int{20, 20}, NoBias: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteNetwork(&buf, net, &Options{Float32: true}); err != nil {
		t.Fatal(err)
	}
	old := nn.SetMemoryBudget(int64(buf.Len()-1) * decodeFactor)
	_, err = Read(bytes.NewReader(buf.Bytes()))
	nn.SetMemoryBudget(old)
	if !errors.Is(err, nn.ErrMemoryBudget) {
		t.Errorf("file of %d bytes, budget %d: got %v, want an error wrapping ErrMemoryBudget", buf.Len(), int64(buf.Len()-1)*decodeFactor, err)
	}
	old = nn.SetMemoryBudget(int64(buf.Len()) * decodeFactor)
	_, err = Read(bytes.NewReader(buf.Bytes()))
	nn.SetMemoryBudget(old)
	if err != nil {
		t.Errorf("file of %d bytes, budget %d: %v", buf.Len(), int64(buf.Len())*decodeFactor, err)
	}
	// What Read refuses, Write refuses to write, writing nothing.
	var out bytes.Buffer
	old = nn.SetMemoryBudget(int64(buf.Len()-1) * decodeFactor)
	err = WriteNetwork(&out, net, &Options{Float32: true})
	nn.SetMemoryBudget(old)
	if !errors.Is(err, nn.ErrMemoryBudget) || out.Len() != 0 {
		t.Errorf("Write of %d bytes, budget %d: got %v and %d bytes, want ErrMemoryBudget and none", buf.Len(), int64(buf.Len()-1)*decodeFactor, err, out.Len())
	}

	// In float, the 400 weights take 1600 bytes and 3200 as float64.
	w := tensor("W", []int64{20, 20}, make([]float64, 400), true)
	old = nn.SetMemoryBudget(3000)
	_, _, err = floats(w)
	nn.SetMemoryBudget(old)
	if !errors.Is(err, nn.ErrMemoryBudget) {
		t.Errorf("tensor of 400 values, budget 3000 bytes: got %v, want an error wrapping ErrMemoryBudget", err)
	}
}

// FuzzRead checks that Read never panics, and that a model it returns
// predicts and saves.
func FuzzRead(f *testing.F) {
	t := &testing.T{}
	for i, c := range append(exportCases(t), tableCases(t)...) {
		if i%3 != 0 {
			continue // a seed of every activation and loss is enough
		}
		var buf bytes.Buffer
		if err := Write(&buf, c.model, &Options{Float32: i%2 == 1}); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	for i, form := range []activationForm{geluTorch, geluTanhTorch, siluTorch} {
		m := randomModel(t, uint64(20+i), nn.GELU, nn.Identity, 2, nn.SquaredError, true, false, false)
		data, err := proto.Marshal(withForm(t, m, &Options{}, form, 0))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(bytes.NewReader(data))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			return
		}
		x := mat.NewDense(2, m.Columns(), nil)
		if _, err := m.Predict(x); err != nil && !errors.Is(err, nn.ErrNotFinite) && !errors.Is(err, nn.ErrMemoryBudget) {
			t.Errorf("Predict of a model read: %v", err)
		}
		if err := m.Encode(&bytes.Buffer{}); err != nil {
			t.Errorf("Encode of a model read: %v", err)
		}
	})
}
