package onnx

import (
	"math"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// nnDomain is the domain of the functions that hold the activations ONNX
// Runtime does not implement for double: a model file defines each one it
// uses (ONNX's model-local functions), so any runtime can inline it.
const nnDomain = "ai.neuralgo.nn"

// native maps the activations that are ONNX operators, implemented by
// ONNX Runtime for float and double, to their operator.
var native = map[nn.Activation]string{
	nn.Sigmoid: "Sigmoid",
	nn.Tanh:    "Tanh",
	nn.ReLU:    "Relu",
	nn.Softmax: "Softmax",
}

// functionNames names the function of each activation that is one.
var functionNames = map[nn.Activation]string{
	nn.LeakyReLU: "LeakyReLU",
	nn.ELU:       "ELU",
	nn.GELU:      "GELU",
	nn.GELUTanh:  "GELUTanh",
	nn.SiLU:      "SiLU",
	nn.Softplus:  "Softplus",
}

// function returns the model-local function that computes the activation
// a, element by element, from X to Y, in float or double; slope is
// LeakyReLU's. Each body is the formula the nn package evaluates, in the
// same order of operations where ONNX has the operations, so that double
// results agree to a few units in the last place:
//
//	LeakyReLU  Max(X, X·s)
//	ELU        Relu(X) + Expm1(Min(X, 0))
//	GELU       (0.5·X)·Erfc(−X/√2)
//	GELUTanh   (0.5·X)·(1 + Tanh(√(2/π)·(X + ((0.044715·X)·X)·X)))
//	SiLU       X / (1 + Exp(−X))
//	Softplus   Relu(X) + Log1p(Exp(−|X|))
//
// with Erfc as Go's math package computes it, and Expm1 and Log1p by
// Kahan's and Goldberg's corrections of Exp(x) − 1 and Log(1 + x), exact
// to a few units in the last place where the plain forms lose every
// digit. ONNX's own Elu, Softplus and Erf have no double kernel in ONNX
// Runtime 1.30, its LeakyRelu takes its slope as a float attribute, and
// it fuses X·Sigmoid(X) into a float-only kernel; hence the functions.
func function(a nn.Activation, slope float64, float32 bool) *pb.FunctionProto {
	b := &builder{float32: float32, fn: true}
	x := "X"
	var y string
	switch a {
	case nn.LeakyReLU:
		y = b.op("Max", []string{x, b.op("Mul", []string{x, b.scalar("slope", slope)})})
	case nn.ELU:
		neg := b.op("Min", []string{x, b.scalar("zero", 0)})
		y = b.op("Add", []string{b.op("Relu", []string{x}), b.expm1(neg)})
	case nn.GELU:
		u := b.op("Div", []string{b.op("Neg", []string{x}), b.scalar("sqrt2", math.Sqrt2)})
		half := b.op("Mul", []string{b.scalar("half", 0.5), x})
		y = b.op("Mul", []string{half, b.erfc(u)})
	case nn.GELUTanh:
		cube := b.op("Mul", []string{b.op("Mul", []string{b.op("Mul", []string{b.scalar("c", 0.044715), x}), x}), x})
		t := b.op("Tanh", []string{b.op("Mul", []string{b.scalar("k", geluTanhK), b.op("Add", []string{x, cube})})})
		half := b.op("Mul", []string{b.scalar("half", 0.5), x})
		y = b.op("Mul", []string{half, b.op("Add", []string{b.scalar("one", 1), t})})
	case nn.SiLU:
		den := b.op("Add", []string{b.scalar("one", 1), b.op("Exp", []string{b.op("Neg", []string{x})})})
		y = b.op("Div", []string{x, den})
	case nn.Softplus:
		e := b.op("Exp", []string{b.op("Neg", []string{b.op("Abs", []string{x})})})
		y = b.op("Add", []string{b.op("Relu", []string{x}), b.log1p(e)})
	default:
		panic("onnx: no function for " + a.String())
	}
	b.rename(y, "Y")
	return &pb.FunctionProto{
		Name:        sp(functionNames[a]),
		Domain:      sp(nnDomain),
		Input:       []string{"X"},
		Output:      []string{"Y"},
		Node:        b.nodes,
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: sp(""), Version: i64p(opset)}},
		DocString:   sp("nn's " + a.String() + " activation, element by element"),
	}
}

// expm1 adds the nodes of e^x − 1 for x ≤ 0, accurate near 0 where
// Exp(x) − 1 cancels, by Kahan's trick: with u = e^x, x itself where u
// rounds to 1, −1 where u is 0, and (u − 1)·x/log(u) elsewhere.
func (b *builder) expm1(x string) string {
	u := b.op("Exp", []string{x})
	one := b.scalar("one", 1)
	um1 := b.op("Sub", []string{u, one})
	// Where u is 1 or 0, log(u) is 0 or −∞: divide by −1 instead, and
	// let the Where nodes pick x or −1.
	bad := b.op("Or", []string{b.op("Equal", []string{u, one}), b.op("Equal", []string{u, b.scalar("zero", 0)})})
	logu := b.op("Where", []string{bad, b.scalar("minus1", -1), b.op("Log", []string{u})})
	v := b.op("Mul", []string{um1, b.op("Div", []string{x, logu})})
	v = b.op("Where", []string{b.op("Equal", []string{u, b.scalar("zero", 0)}), b.scalar("minus1", -1), v})
	return b.op("Where", []string{b.op("Equal", []string{u, one}), x, v})
}

// log1p adds the nodes of log(1 + e) for e ≥ 0, accurate for small e
// where Log(1 + e) loses digits, by Goldberg's trick: with u = 1 + e, e
// where u rounds to 1 and log(u)·e/(u − 1) elsewhere.
func (b *builder) log1p(e string) string {
	one := b.scalar("one", 1)
	u := b.op("Add", []string{one, e})
	um1 := b.op("Sub", []string{u, one})
	exact := b.op("Equal", []string{u, one})
	den := b.op("Where", []string{exact, one, um1})
	v := b.op("Mul", []string{b.op("Log", []string{u}), b.op("Div", []string{e, den})})
	return b.op("Where", []string{exact, e, v})
}

// geluTanhK is √(2/π), as the nn package's GELUTanh uses it.
const geluTanhK = 0.7978845608028654

// Coefficients of Go's math.Erfc (from FreeBSD's s_erf.c), lowest degree
// first.
var (
	erx      = 8.45062911510467529297e-01
	erfcPP   = []float64{1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02, -5.77027029648944159157e-03, -2.37630166566501626084e-05}
	erfcQQ   = []float64{1, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03, 1.32494738004321644526e-04, -3.96022827877536812320e-06}
	erfcPA   = []float64{-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01, 3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02, -2.16637559486879084300e-03}
	erfcQA   = []float64{1, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02, 1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02}
	erfcRA   = []float64{-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01, -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02, -8.12874355063065934246e+01, -9.81432934416914548592e+00}
	erfcSA   = []float64{1, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02, 6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02, 6.57024977031928170135e+00, -6.04244152148580987438e-02}
	erfcRB   = []float64{-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01, -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03, -4.83519191608651397019e+02}
	erfcSB   = []float64{1, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03, 3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02, -2.24409524465858183362e+01}
	erfcTiny = 1.0 / (1 << 56)
)

// erfc adds the nodes of erfc(u), element by element, as Go's math.Erfc
// computes it: every range's approximation is evaluated on a clamped
// argument and Where picks the one that applies, so no branch produces
// an infinity or NaN that another would need. For |u| in [1.25, 28), Go
// splits u into a pseudo-single z and the rest so that z² is exact; here
// z is u rounded to float (also exact when squared).
func (b *builder) erfc(u string) string {
	a := b.op("Abs", []string{u})
	lt := func(x string, c float64) string { return b.op("Less", []string{x, b.scalar("bound", c)}) }
	where := func(cond, x, y string) string { return b.op("Where", []string{cond, x, y}) }
	clip := func(x string, lo, hi float64) string {
		return b.op("Min", []string{b.op("Max", []string{x, b.scalar("lo", lo)}), b.scalar("hi", hi)})
	}
	one := b.scalar("one", 1)

	// |u| < 0.84375: erfc = 1 − t, t = u + u·r(u²) (u signed, which
	// gives 1 + t for negative u as Go's does).
	a1 := clip(a, 0, 0.84375)
	s1 := b.op("Mul", []string{a1, a1})
	y := b.op("Div", []string{b.polynomial(s1, erfcPP), b.polynomial(s1, erfcQQ)})
	u1 := b.op("Mul", []string{b.op("Sign", []string{u}), a1})
	t := b.op("Add", []string{u1, b.op("Mul", []string{u1, y})})
	t = where(lt(a, erfcTiny), u1, t)
	c1 := b.op("Sub", []string{one, t})

	// 0.84375 ≤ |u| < 1.25: erfc(|u|) = 1 − erx − P/Q, s = |u| − 1.
	s2 := b.op("Sub", []string{clip(a, 0.84375, 1.25), one})
	pq := b.op("Div", []string{b.polynomial(s2, erfcPA), b.polynomial(s2, erfcQA)})
	c2 := b.op("Sub", []string{b.op("Sub", []string{one, b.scalar("erx", erx)}), pq})

	// 1.25 ≤ |u| < 28: erfc(|u|) = exp(−z² − 0.5625)·exp((z−x)(z+x) + R/S)/x,
	// s = 1/x², with R/S from one of two fits split at 1/0.35.
	x3 := clip(a, 1.25, 28)
	s3 := b.op("Div", []string{one, b.op("Mul", []string{x3, x3})})
	rsa := b.op("Div", []string{b.polynomial(s3, erfcRA), b.polynomial(s3, erfcSA)})
	rsb := b.op("Div", []string{b.polynomial(s3, erfcRB), b.polynomial(s3, erfcSB)})
	rs := where(lt(x3, 1/0.35), rsa, rsb)
	z := x3
	if !b.float32 {
		z = b.op("Cast", []string{b.op("Cast", []string{x3}, attrInt("to", int64(pb.TensorProto_FLOAT)))}, attrInt("to", int64(pb.TensorProto_DOUBLE)))
	}
	e1 := b.op("Exp", []string{b.op("Sub", []string{b.op("Neg", []string{b.op("Mul", []string{z, z})}), b.scalar("c", 0.5625)})})
	e2 := b.op("Exp", []string{b.op("Add", []string{b.op("Mul", []string{b.op("Sub", []string{z, x3}), b.op("Add", []string{z, x3})}), rs})})
	c3 := b.op("Div", []string{b.op("Mul", []string{e1, e2}), x3})
	c3 = where(lt(a, 28), c3, b.scalar("zero", 0))

	// erfc(u) = erfc(|u|) for u ≥ 0 and 2 − erfc(|u|) for u < 0.
	pos := where(lt(a, 1.25), c2, c3)
	neg := b.op("Sub", []string{b.scalar("two", 2), pos})
	full := where(lt(u, 0), neg, pos)
	return where(lt(a, 0.84375), c1, full)
}
