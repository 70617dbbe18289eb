package nn

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/mat"
)

var modernActivations = []Activation{LeakyReLU, ELU, GELU, GELUTanh, SiLU, Softplus}

// TestModernActivationGradients checks backpropagation through the
// activations added after Softmax against central differences, as hidden
// layers (one and several, mixed) and as outputs on squared error.
func TestModernActivationGradients(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	type net struct {
		sizes []int
		acts  []Activation
		loss  Loss
	}
	var nets []net
	for _, a := range modernActivations {
		nets = append(nets,
			net{[]int{3, 5, 4}, []Activation{a, Softmax}, CrossEntropy},
			net{[]int{3, 4, 2}, []Activation{Tanh, a}, SquaredError},
			net{[]int{4, 6, 5, 3}, []Activation{a, a, Identity}, SquaredError},
		)
	}
	nets = append(nets, net{[]int{3, 6, 5, 4, 2}, []Activation{GELU, SiLU, LeakyReLU, Sigmoid}, BinaryCrossEntropy})
	for _, slope := range []float64{0, 0.2} {
		for _, nc := range nets {
			name := fmt.Sprintf("%v/%v/slope=%v", nc.acts, nc.loss, slope)
			n, err := New(Config{Sizes: nc.sizes, Activations: nc.acts, Loss: nc.loss, Init: Xavier, Seed: rnd.Uint64(), LeakySlope: slope})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, b := range n.b {
				for j := range b {
					b[j] = rnd.Float64() - 0.5
				}
			}
			out := nc.sizes[len(nc.sizes)-1]
			x := randDense(rnd, 6, nc.sizes[0], -2, 2)
			y := randDense(rnd, 6, out, 0, 1)
			if nc.loss == CrossEntropy {
				y = oneHotRows(rnd, 6, out)
			}
			g, err := n.Gradients(x, y)
			if err != nil {
				t.Fatal(err)
			}
			num, err := n.NumericalGradients(x, y, nil)
			if err != nil {
				t.Fatal(err)
			}
			if norm, elem := gradErr(g.Flat, num.Flat); norm > 1e-6 || elem > 1e-6 {
				t.Errorf("%s: relative error %.2g (element-wise %.2g), want below 1e-6", name, norm, elem)
			}
		}
	}
}

// TestActivationsAgainstPyTorch compares each activation and its
// derivative with PyTorch's torch.nn.functional in float64 at points that
// include large positive and negative inputs (testdata/activations_torch.json,
// written by testdata/gen_activations_torch.py), and the derivative with
// central differences away from the kinks.
func TestActivationsAgainstPyTorch(t *testing.T) {
	data, err := os.ReadFile("testdata/activations_torch.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Points      []torchFloat `json:"points"`
		Activations map[string]struct {
			F  []torchFloat `json:"f"`
			DF []torchFloat `json:"df"`
		} `json:"activations"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		a     Activation
		slope float64
	}{
		{"leaky_relu_0.01", LeakyReLU, 0.01},
		{"leaky_relu_0.2", LeakyReLU, 0.2},
		{"elu", ELU, 0},
		{"gelu", GELU, 0},
		{"gelu_tanh", GELUTanh, 0},
		{"silu", SiLU, 0},
		{"softplus", Softplus, 0},
	} {
		r, ok := ref.Activations[tc.name]
		if !ok {
			t.Errorf("%s: not in testdata/activations_torch.json", tc.name)
			continue
		}
		for i, p := range ref.Points {
			z := float64(p)
			// Through the network's own paths: apply with and without a
			// bias, and mulDerivative from the output and the input.
			f := []float64{z}
			tc.a.applyFlat(f, 1, tc.slope)
			fb := []float64{z}
			tc.a.apply(fb, []float64{0}, 1, tc.slope)
			d := []float64{1}
			tc.a.mulDerivative(d, f, []float64{z}, 1, tc.slope)
			// Agreement to 1e-13 of the input's scale: PyTorch loses
			// the far tails of GELU (0.5·(1+erf) cancels to 0 below
			// −8) and a few digits of ELU near 0, where the package
			// keeps them (see TestActivationTails).
			want, wantD := float64(r.F[i]), float64(r.DF[i])
			tol := 1e-13 * max(1, math.Abs(z))
			if !(math.Abs(f[0]-want) <= tol) || f[0] != fb[0] {
				t.Errorf("%s(%v) = %v (with a bias %v), PyTorch %v", tc.name, z, f[0], fb[0], want)
			}
			if !(math.Abs(d[0]-wantD) <= tol) {
				t.Errorf("%s'(%v) = %v, PyTorch %v", tc.name, z, d[0], wantD)
			}
			if h := 1e-6 * max(1, math.Abs(z)); math.Abs(z) > 2*h && math.Abs(z) < 30 {
				num := fd.Derivative(func(v float64) float64 { return tc.a.scalar(v, tc.slope) }, z, &fd.Settings{Formula: fd.Central, Step: h})
				if math.Abs(num-d[0]) > 1e-6*max(1, math.Abs(num)) {
					t.Errorf("%s'(%v) = %v, central differences %v", tc.name, z, d[0], num)
				}
			}
		}
	}
}

// TestActivationTails checks values far in the tails, where a naive
// formula cancels to 0, against closed forms: Φ(−10) = 7.619853024160527e-24
// and φ(−10) = 7.69459862670642e-23 (the standard normal's tail and
// density), e^−50.
func TestActivationTails(t *testing.T) {
	const (
		phi10 = 7.619853024160527e-24 // Φ(−10)
		pdf10 = 7.69459862670642e-23  // φ(−10)
	)
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"gelu(-10)", GELU.scalar(-10, 0), -10 * phi10},
		{"gelu'(-10)", GELU.derivative(-10, 0, 0), phi10 - 10*pdf10},
		{"elu'(-50)", ELU.derivative(-50, 0, 0), math.Exp(-50)},
		{"elu(-1e-8)", ELU.scalar(-1e-8, 0), -1e-8 + 0.5e-16},
		{"softplus(-800)", Softplus.scalar(-800, 0), 0},
		{"softplus(800)", Softplus.scalar(800, 0), 800},
		{"silu(-800)", SiLU.scalar(-800, 0), 0},
	} {
		if d := math.Abs(tc.got - tc.want); d > 1e-12*math.Abs(tc.want) {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

// torchFloat reads a number, or a string such as "inf" or "nan", from
// JSON.
type torchFloat float64

func (f *torchFloat) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := strconv.ParseFloat(s, 64)
		*f = torchFloat(v)
		return err
	}
	var v float64
	err := json.Unmarshal(b, &v)
	*f = torchFloat(v)
	return err
}

// TestModernModelRoundTrip checks that a network with the new activations
// is written as version 3 with its slope and reads back predicting the
// same bits.
func TestModernModelRoundTrip(t *testing.T) {
	n, err := New(Config{Sizes: []int{3, 5, 4, 2}, Activations: []Activation{LeakyReLU, GELU, Softmax}, Loss: CrossEntropy, LeakySlope: 0.2, Seed: 3, Init: He})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := (&Model{Network: n}).Encode(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version": 3`, `"leaky_slope": 0.2`, `"gelu"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("model file lacks %s:\n%s", want, b.String())
		}
	}
	m, err := DecodeModel(&b)
	if err != nil {
		t.Fatal(err)
	}
	x := mat.NewDense(2, 3, []float64{-3, 0.5, 2, 1, -1, 0})
	p1, _ := n.Predict(x)
	p2, _ := m.Network.Predict(x)
	if !mat.Equal(p1, p2) {
		t.Error("predictions differ after a round trip")
	}
	if _, err := New(Config{Sizes: []int{2, 2}, Activations: []Activation{LeakyReLU}, LeakySlope: 1}); err == nil {
		t.Error("LeakySlope 1: no error")
	}
}
