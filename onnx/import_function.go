package onnx

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/neuralgo/nn"
	pb "github.com/neuralgo/nn/onnx/internal/onnxpb"
)

// An activation that operator set 17 has no operator for reaches a file
// as the formula that computes it. torch.onnx.export writes nn.GELU() as
//
//	Mul(Mul(z, Add(Erf(Div(z, √2)), 1)), 0.5)
//
// nn.GELU(approximate="tanh") as
//
//	Mul(0.5, Mul(z, Add(1, Tanh(Mul(√(2/π), Add(z, Mul(0.044715, Mul(z, Mul(z, z)))))))))
//
// and nn.SiLU() as Mul(z, Sigmoid(z)). The importer collects the nodes
// that compute from a layer's output z element by element (Mul, Div,
// Add, Pow, Erf, Tanh and Sigmoid, on z, on one another and on scalar
// constants) and checks each new value against the formulas of nn's
// GELU, GELUTanh and SiLU, after flattening products into a coefficient
// and factors and sums into a constant and terms: the order of factors
// and terms does not matter, nor whether a constant divides or multiplies
// its inverse, nor x³ as Pow(x, 3). A value that matches is the layer's
// activation and the network's value. Nodes that never make one are an
// error that names the first of them.

// fnNode is a node that computes from the last layer's output z.
type fnNode struct {
	n    *pb.NodeProto
	i    int  // its index in the graph, for messages
	used bool // it computes the activation read
}

// fnOps are the operators of the activations' formulas.
var fnOps = map[string]bool{"Mul": true, "Div": true, "Add": true, "Pow": true, "Erf": true, "Tanh": true, "Sigmoid": true}

// inFunction reports whether n computes from z element by element: an
// operator of fnOps on z, on values that such nodes compute and on
// constants. Add, Sigmoid and Tanh on z itself, with constants, are read
// as ever: a bias, an activation.
func (im *importer) inFunction(n *pb.NodeProto) bool {
	op := n.GetOpType()
	if im.z == "" || !fnOps[op] {
		return false
	}
	in := n.GetInput()
	if im.head == im.z && (op == "Add" || op == "Sigmoid" || op == "Tanh") &&
		(im.onHead(n) || op == "Add" && len(in) == 2 && in[1] == im.head && im.consts[in[0]] != nil) {
		return false
	}
	uses := false
	for _, x := range in {
		switch {
		case x == im.z || im.fn[x] != nil:
			uses = true
		case im.consts[x] != nil:
		default:
			return false
		}
	}
	return uses
}

// functionNode reads the node n, the i-th of the graph, that computes from
// z: if its value is an activation of z, it is the layer's.
func (im *importer) functionNode(i int, n *pb.NodeProto, out string) error {
	if _, err := attrs(n, nil); err != nil {
		return err
	}
	im.fn[out] = &fnNode{n: n, i: i}
	a, ok := im.activationOf(out)
	if !ok {
		return nil
	}
	// A value after the layer's activation (z·Sigmoid(z) after Sigmoid)
	// replaces it.
	last := im.lastLayer()
	last.act, last.hasAct = a, true
	im.use(out)
	im.head = out
	return nil
}

// use marks the nodes that compute v from z as the activation's.
func (im *importer) use(v string) {
	f := im.fn[v]
	if f == nil || f.used {
		return
	}
	f.used = true
	for _, x := range f.n.GetInput() {
		im.use(x)
	}
}

// pendingInput returns an input of n computed from z that is not the
// network's value nor part of its activation, or "".
func (im *importer) pendingInput(n *pb.NodeProto) string {
	for _, x := range n.GetInput() {
		if f := im.fn[x]; f != nil && !f.used && x != im.head {
			return x
		}
	}
	return ""
}

// closeFunction returns an error if nodes computed from z and make no
// activation: it is called when z is read no more.
func (im *importer) closeFunction() error {
	for _, f := range im.fn {
		if !f.used {
			return im.unread()
		}
	}
	return nil
}

// unread returns the error of the nodes computed from z that make no
// activation, naming the first of them.
func (im *importer) unread() error {
	var first, last *fnNode
	count := 0
	for _, f := range im.fn {
		if f.used {
			continue
		}
		count++
		if first == nil || f.i < first.i {
			first = f
		}
		if last == nil || f.i > last.i {
			last = f
		}
	}
	if first == nil {
		return nil
	}
	what := "this node computes"
	if count > 1 {
		what = fmt.Sprintf("this node and %d more up to %s compute", count-1, nodeName(last.i, last.n))
	}
	return &nodeError{first.i, first.n, fmt.Errorf("the function of the layer's output %s that %s is none of nn's activations (nn reads GELU as z·0.5·(1 + Erf(z/√2)) or its tanh approximation, and SiLU as z·Sigmoid(z))", strconv.Quote(im.z), what)}
}

// maxFactors bounds the factors and terms a value is flattened to, and
// maxDepth the nodes followed, so that a crafted graph cannot make the
// flattening take time or memory: the formulas need 3 and 6.
const (
	maxFactors = 4
	maxDepth   = 12
)

// errTooMany stops a flattening that passes maxFactors or maxDepth.
var errTooMany = errors.New("too many factors")

// activationOf returns the activation of nn that the value v computes
// from z, if it does.
func (im *importer) activationOf(v string) (nn.Activation, bool) {
	z := im.z
	c, f, err := im.product(v, nil, 0)
	if err != nil || len(f) != 2 {
		return 0, false
	}
	// z·g
	if f[1] == z {
		f[0], f[1] = f[1], f[0]
	}
	g := im.fn[f[1]]
	if f[0] != z || g == nil {
		return 0, false
	}
	if im.near(c, 1) {
		// SiLU: z·Sigmoid(z)
		if g.n.GetOpType() == "Sigmoid" && g.n.GetInput()[0] == z {
			return nn.SiLU, true
		}
		return 0, false
	}
	if !im.near(c, 0.5) {
		return 0, false
	}
	// 0.5·z·(1 + u)
	k, terms, err := im.sum(f[1], nil, 0)
	if err != nil || !im.near(k, 1) || len(terms) != 1 || im.fn[terms[0]] == nil {
		return 0, false
	}
	u := im.fn[terms[0]].n
	switch u.GetOpType() {
	case "Erf":
		// GELU: u = Erf(z/√2)
		if im.is(u.GetInput()[0], 1/math.Sqrt2, z) {
			return nn.GELU, true
		}
	case "Tanh":
		// GELUTanh: u = Tanh(√(2/π)·(z + 0.044715·z³))
		c, f, err := im.product(u.GetInput()[0], nil, 0)
		if err != nil || !im.near(c, geluTanhK) || len(f) != 1 {
			return 0, false
		}
		k, terms, err := im.sum(f[0], nil, 0)
		if err != nil || k != 0 || len(terms) != 2 {
			return 0, false
		}
		if im.is(terms[1], 1, z) {
			terms[0], terms[1] = terms[1], terms[0]
		}
		if im.is(terms[0], 1, z) && im.is(terms[1], 0.044715, z, z, z) {
			return nn.GELUTanh, true
		}
	}
	return 0, false
}

// is reports whether the value v is the product of the coefficient c and
// the factors.
func (im *importer) is(v string, c float64, factors ...string) bool {
	got, f, err := im.product(v, nil, 0)
	if err != nil || !im.near(got, c) || len(f) != len(factors) {
		return false
	}
	for i := range f {
		if f[i] != factors[i] {
			return false
		}
	}
	return true
}

// product flattens the value v, computed from z, into a coefficient and
// factors appended to f: through Mul, Div by a scalar constant and Pow by
// 2 or 3; a scalar constant is a coefficient, any other value a factor.
func (im *importer) product(v string, f []string, depth int) (float64, []string, error) {
	if depth > maxDepth || len(f) > maxFactors {
		return 0, nil, errTooMany
	}
	if c, ok := im.scalarConst(v); ok {
		return c, f, nil
	}
	node := im.fn[v]
	if node == nil {
		return 1, append(f, v), nil
	}
	in := node.n.GetInput()
	switch op := node.n.GetOpType(); {
	case op == "Mul" && len(in) == 2:
		a, f, err := im.product(in[0], f, depth+1)
		if err != nil {
			return 0, nil, err
		}
		b, f, err := im.product(in[1], f, depth+1)
		return a * b, f, err
	case op == "Div" && len(in) == 2:
		d, ok := im.scalarConst(in[1])
		if !ok {
			break
		}
		a, f, err := im.product(in[0], f, depth+1)
		return a / d, f, err
	case op == "Pow" && len(in) == 2:
		e, ok := im.scalarConst(in[1])
		if !ok || (e != 2 && e != 3) {
			break
		}
		c := 1.0
		for range int(e) {
			a, g, err := im.product(in[0], f, depth+1)
			if err != nil {
				return 0, nil, err
			}
			c, f = c*a, g
		}
		return c, f, nil
	}
	return 1, append(f, v), nil
}

// sum flattens the value v, computed from z, into a constant and terms
// appended to t, through Add.
func (im *importer) sum(v string, t []string, depth int) (float64, []string, error) {
	if depth > maxDepth || len(t) > maxFactors {
		return 0, nil, errTooMany
	}
	if c, ok := im.scalarConst(v); ok {
		return c, t, nil
	}
	node := im.fn[v]
	if node == nil || node.n.GetOpType() != "Add" || len(node.n.GetInput()) != 2 {
		return 0, append(t, v), nil
	}
	a, t, err := im.sum(node.n.GetInput()[0], t, depth+1)
	if err != nil {
		return 0, nil, err
	}
	b, t, err := im.sum(node.n.GetInput()[1], t, depth+1)
	return a + b, t, err
}

// scalarConst returns the value of the constant v if it holds one number,
// of at most two dimensions (more would broadcast z to more).
func (im *importer) scalarConst(v string) (float64, bool) {
	if im.consts[v] == nil {
		return 0, false
	}
	c, dims, err := im.constant(v)
	if err != nil || len(c) != 1 || len(dims) > 2 {
		return 0, false
	}
	return c[0], true
}

// near reports whether the constant c, or a product of a few, is want
// rounded to the model's element type: the same to a few units in the
// last place of float or double. nn then computes with want itself, as
// PyTorch does in double.
func (im *importer) near(c, want float64) bool {
	tol := 0x1p-50
	if im.f32 {
		tol = 0x1p-21
	}
	return math.Abs(c-want) <= tol*math.Abs(want)
}
