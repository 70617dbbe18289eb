package onnx

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"google.golang.org/protobuf/proto"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// activationForm writes an activation of z with b's nodes and returns its
// value.
type activationForm func(b *builder, z string) string

// Forms of GELU, its tanh approximation and SiLU: as torch.onnx.export
// writes them, and in other orders of the same operations.
var (
	// z·0.5·(1 + Erf(z/√2)), torch.onnx.export's.
	geluTorch activationForm = func(b *builder, z string) string {
		erf := b.op("Erf", []string{b.op("Div", []string{z, b.scalar("sqrt2", math.Sqrt2)})})
		return b.op("Mul", []string{b.op("Mul", []string{z, b.op("Add", []string{erf, b.scalar("one", 1)})}), b.scalar("half", 0.5)})
	}
	// (0.5·z)·(1 + Erf(z·(1/√2))), as ONNX's Gelu is defined.
	geluInverse activationForm = func(b *builder, z string) string {
		erf := b.op("Erf", []string{b.op("Mul", []string{z, b.scalar("rsqrt2", 1/math.Sqrt2)})})
		return b.op("Mul", []string{b.op("Mul", []string{b.scalar("half", 0.5), z}), b.op("Add", []string{b.scalar("one", 1), erf})})
	}
	// 0.5·(z·(1 + Tanh(√(2/π)·(z + 0.044715·(z·(z·z)))))), torch.onnx.export's.
	geluTanhTorch activationForm = func(b *builder, z string) string {
		cube := b.op("Mul", []string{z, b.op("Mul", []string{z, z})})
		inner := b.op("Add", []string{z, b.op("Mul", []string{b.scalar("c", 0.044715), cube})})
		t := b.op("Tanh", []string{b.op("Mul", []string{b.scalar("k", math.Sqrt(2/math.Pi)), inner})})
		return b.op("Mul", []string{b.scalar("half", 0.5), b.op("Mul", []string{z, b.op("Add", []string{b.scalar("one", 1), t})})})
	}
	// (z·0.5)·(Tanh((Pow(z, 3)·0.044715 + z)·√(2/π)) + 1).
	geluTanhPow activationForm = func(b *builder, z string) string {
		inner := b.op("Add", []string{b.op("Mul", []string{b.op("Pow", []string{z, b.scalar("three", 3)}), b.scalar("c", 0.044715)}), z})
		t := b.op("Tanh", []string{b.op("Mul", []string{inner, b.scalar("k", math.Sqrt(2/math.Pi))})})
		return b.op("Mul", []string{b.op("Mul", []string{z, b.scalar("half", 0.5)}), b.op("Add", []string{t, b.scalar("one", 1)})})
	}
	// z·Sigmoid(z), torch.onnx.export's.
	siluTorch activationForm = func(b *builder, z string) string {
		return b.op("Mul", []string{z, b.op("Sigmoid", []string{z})})
	}
	// Sigmoid(z)·z.
	siluReversed activationForm = func(b *builder, z string) string {
		return b.op("Mul", []string{b.op("Sigmoid", []string{z}), z})
	}
)

// geluOp returns the form of ONNX's Gelu operator (operator set 20), of
// the attribute approximate if it is not "".
func geluOp(approximate string) activationForm {
	return func(b *builder, z string) string {
		var attrs []*pb.AttributeProto
		if approximate != "" {
			attrs = append(attrs, &pb.AttributeProto{Name: sp("approximate"), Type: pb.AttributeProto_STRING.Enum(), S: []byte(approximate)})
		}
		return b.op("Gelu", []string{z}, attrs...)
	}
}

// withForm returns the model that Write makes of m, with the activation
// of every hidden layer written as form rather than as nn's function, and
// operator set opset (17 if 0).
func withForm(t *testing.T, m *nn.Model, o *Options, form activationForm, opset int64) *pb.ModelProto {
	t.Helper()
	p, err := build(m, o)
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{float32: o.Float32, count: 1000}
	var nodes []*pb.NodeProto
	for _, n := range p.Graph.Node {
		if n.GetDomain() != nnDomain {
			nodes = append(nodes, n)
			continue
		}
		start := len(b.nodes)
		b.rename(form(b, n.Input[0]), n.Output[0])
		nodes = append(nodes, b.nodes[start:]...)
	}
	p.Graph.Node = nodes
	p.Graph.Initializer = append(p.Graph.Initializer, b.inits...)
	p.Functions = nil
	p.OpsetImport = p.OpsetImport[:1]
	if opset != 0 {
		p.OpsetImport[0].Version = i64p(opset)
	}
	return p
}

// read reads the model p.
func read(t *testing.T, p *pb.ModelProto) (*nn.Model, error) {
	t.Helper()
	data, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return Read(bytes.NewReader(data))
}

// TestReadActivationForms reads GELU, its tanh approximation and SiLU
// written in operators ONNX has, in several orders, and as the operator
// Gelu of operator set 20: the model read predicts bit for bit as the
// model of nn's activation, and as ONNX Runtime runs the file in float.
func TestReadActivationForms(t *testing.T) {
	dir := t.TempDir()
	var reqs []ortRequest
	var names []string
	var wants []*mat.Dense
	for _, test := range []struct {
		name  string
		act   nn.Activation
		form  activationForm
		opset int64
	}{
		{"gelu/torch", nn.GELU, geluTorch, 0},
		{"gelu/inverse", nn.GELU, geluInverse, 0},
		{"gelu/op", nn.GELU, geluOp(""), 20},
		{"gelu/op-none", nn.GELU, geluOp("none"), 20},
		{"gelu-tanh/torch", nn.GELUTanh, geluTanhTorch, 0},
		{"gelu-tanh/pow", nn.GELUTanh, geluTanhPow, 0},
		{"gelu-tanh/op", nn.GELUTanh, geluOp("tanh"), 20},
		{"silu/torch", nn.SiLU, siluTorch, 0},
		{"silu/reversed", nn.SiLU, siluReversed, 0},
	} {
		m := randomModel(t, 11, test.act, nn.Identity, 2, nn.SquaredError, true, true, false)
		x := randomRows(m, 30, m.Columns(), 11)
		for _, f32 := range []bool{false, true} {
			name := test.name
			o := &Options{Float32: f32}
			want := m
			if f32 {
				// The model of nn's activation and the weights in float.
				name += "/float32"
				var err error
				want, err = read(t, withoutChange(t, m, o))
				if err != nil {
					t.Fatal(err)
				}
			}
			p := withForm(t, m, o, test.form, test.opset)
			got, err := read(t, p)
			if err != nil {
				t.Errorf("%s: Read: %v", name, err)
				continue
			}
			if a := got.Network.Config().Activations[0]; a != test.act {
				t.Errorf("%s: got activation %v, want %v", name, a, test.act)
			}
			yGot, err := got.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			yWant, err := want.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			if !mat.Equal(yGot, yWant) {
				t.Errorf("%s: predictions differ from the model of nn's %v", name, test.act)
			}
			if f32 {
				data, err := proto.Marshal(p)
				if err != nil {
					t.Fatal(err)
				}
				file := filepath.Join(dir, strings.ReplaceAll(name, "/", "-")+".onnx")
				if err := os.WriteFile(file, data, 0o644); err != nil {
					t.Fatal(err)
				}
				reqs = append(reqs, newRequest(file, "X", x, true))
				names = append(names, name)
				wants = append(wants, yGot)
			}
		}
	}
	t.Run("onnxruntime", func(t *testing.T) {
		worst := 0.0
		for i, r := range runtime(t, reqs) {
			if r.Error != "" {
				t.Errorf("%s: ONNX Runtime: %s", names[i], r.Error)
				continue
			}
			norm, _ := relDiff(wants[i], r.Outputs[OutputPrediction].dense(), 0)
			worst = max(worst, norm)
			// Float's rounding, as TestImportPyTorch allows.
			if norm > 1e-5 {
				t.Errorf("%s: nn's predictions differ from ONNX Runtime's in float by %.3g relative, want ≤ 1e-5", names[i], norm)
			}
		}
		t.Logf("largest difference from ONNX Runtime in float: %.3g relative", worst)
	})
}

// withoutChange returns the model that Write makes of m.
func withoutChange(t *testing.T, m *nn.Model, o *Options) *pb.ModelProto {
	t.Helper()
	p, err := build(m, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReadActivationFormErrors checks that a function of a layer's output
// that is none of nn's activations, and an operator nn does not read, are
// errors that name the node that blocks the network.
func TestReadActivationFormErrors(t *testing.T) {
	for _, test := range []struct {
		name  string
		form  activationForm
		opset int64
		want  string
	}{
		{"gelu of 0.49", func(b *builder, z string) string {
			erf := b.op("Erf", []string{b.op("Div", []string{z, b.scalar("sqrt2", math.Sqrt2)})})
			return b.op("Mul", []string{b.op("Mul", []string{z, b.op("Add", []string{erf, b.scalar("one", 1)})}), b.scalar("c", 0.49)})
		}, 0, `node "Div_1002" (Div): the function of the layer's output "layer1/z" that this node and 4 more up to node "layer1/a" (Mul) compute is none of nn's activations`},
		{"gelu of √3", func(b *builder, z string) string {
			erf := b.op("Erf", []string{b.op("Div", []string{z, b.scalar("sqrt3", math.Sqrt(3))})})
			return b.op("Mul", []string{b.op("Mul", []string{z, b.op("Add", []string{erf, b.scalar("one", 1)})}), b.scalar("half", 0.5)})
		}, 0, `node "Div_1002" (Div): the function of the layer's output "layer1/z"`},
		{"gelu without z", func(b *builder, z string) string {
			erf := b.op("Erf", []string{b.op("Div", []string{z, b.scalar("sqrt2", math.Sqrt2)})})
			return b.op("Mul", []string{b.op("Add", []string{erf, b.scalar("one", 1)}), b.scalar("half", 0.5)})
		}, 0, `node "Div_1002" (Div): the function`},
		{"silu scaled", func(b *builder, z string) string {
			return b.op("Mul", []string{siluTorch(b, z), b.scalar("two", 2)})
		}, 0, `node "layer1/a" (Mul): the function of the layer's output "layer1/z" that this node computes is none`},
		{"silu of another value", func(b *builder, z string) string {
			return b.op("Mul", []string{z, b.op("Sigmoid", []string{b.op("Mul", []string{z, b.scalar("k", 1.702)})})})
		}, 0, `node "Mul_1002" (Mul): the function`},
		{"exp in the function", func(b *builder, z string) string {
			return b.op("Exp", []string{b.op("Div", []string{z, b.scalar("two", 2)})})
		}, 0, `node "layer1/a" (Exp): operator not supported in an activation nn reads: its input "Div_1002" is computed from the layer's output "layer1/z"`},
		{"unused function", func(b *builder, z string) string {
			b.op("Div", []string{z, b.scalar("two", 2)})
			return b.op("Relu", []string{z})
		}, 0, `node "Div_1002" (Div): the function of the layer's output "layer1/z" that this node computes is none`},
		{"gelu op in operator set 17", geluOp(""), 17, `node "layer1/a" (Gelu): Gelu is an operator of operator set 20 and later`},
		{"gelu op approximate fast", geluOp("fast"), 20, `node "layer1/a" (Gelu): approximate is "fast"`},
		{"batch normalization", func(b *builder, z string) string {
			ones := b.constant("ones", []int64{7}, []float64{1, 1, 1, 1, 1, 1, 1})
			zeros := b.constant("zeros", []int64{7}, make([]float64, 7))
			return b.op("BatchNormalization", []string{z, ones, zeros, zeros, ones})
		}, 0, `node "layer1/a" (BatchNormalization): operator not supported`},
	} {
		m := randomModel(t, 12, nn.GELU, nn.Identity, 2, nn.SquaredError, true, false, false)
		_, err := read(t, withForm(t, m, &Options{}, test.form, test.opset))
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: got %v, want an error with %q", test.name, err, test.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error of more than one line: %q", test.name, err)
		}
	}

	// A function of the last layer's output as the graph's output.
	m := randomModel(t, 12, nn.ReLU, nn.Identity, 2, nn.SquaredError, true, false, false)
	p := withoutChange(t, m, &Options{})
	p.Graph.Node[len(p.Graph.Node)-1].Output[0] = "z"
	p.Graph.Node = append(p.Graph.Node, &pb.NodeProto{OpType: sp("Div"), Name: sp("scaled"), Input: []string{"z", "two"}, Output: []string{OutputPrediction}})
	p.Graph.Initializer = append(p.Graph.Initializer, tensor("two", nil, []float64{2}, false))
	_, err := read(t, p)
	if want := `node "scaled" (Div): the function of the layer's output "z"`; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a function as the output: got %v, want an error with %q", err, want)
	}
}

// TestReadIdentityConstants reads constants given another name by an
// Identity node, as torch.onnx.export writes equal parameters.
func TestReadIdentityConstants(t *testing.T) {
	m := randomModel(t, 13, nn.Tanh, nn.Identity, 2, nn.SquaredError, true, true, false)
	p := withoutChange(t, m, &Options{})
	var nodes []*pb.NodeProto
	for _, in := range p.Graph.Initializer {
		nodes = append(nodes, &pb.NodeProto{OpType: sp("Identity"), Name: sp("alias of " + in.GetName()), Input: []string{in.GetName()}, Output: []string{in.GetName() + "/alias"}})
	}
	for _, n := range p.Graph.Node {
		for j, x := range n.Input {
			if j > 0 {
				n.Input[j] = x + "/alias"
			}
		}
	}
	p.Graph.Node = append(nodes, p.Graph.Node...)
	back, err := read(t, p)
	if err != nil {
		t.Fatal(err)
	}
	x := randomRows(m, 10, 5, 13)
	want, _ := m.Predict(x)
	got, err := back.Predict(x)
	if err != nil || !mat.Equal(got, want) {
		t.Errorf("predictions of the model of Identity constants differ (%v)", err)
	}
}
