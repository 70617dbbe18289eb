"""Writes testdata/activations_torch.json: PyTorch's float64 values of f(x) and
f'(x) for the activations the Go library implements, at fixed points, so the
Go tests can compare against an independent implementation.

Usage (from the repository root, Debian's python3 with python3-torch):
    /usr/bin/python3 testdata/gen_activations_torch.py [OUT]
OUT defaults to testdata/activations_torch.json next to this script.

Layout:
    {"torch_version": "...", "dtype": "float64", "points": [x0, x1, ...],
     "activations": {"gelu": {"f": [f(x0), ...], "df": [f'(x0), ...]}, ...},
     "notes": {"<name>": "<how PyTorch defines it>", ...}}
Numbers are written by json.dumps, i.e. with Python's repr of a float: the
shortest decimal string that reads back to the same float64 (-0.0 is kept).
No value is NaN or infinite (checked below), so the file is plain JSON.

f is torch.nn.functional.<name>(x) on a float64 tensor; f' is autograd's
gradient of f(x).sum() with respect to x, i.e. exactly what PyTorch's backward
kernels compute (not a finite difference). Where f has a kink, autograd's
choice at the kink is what is recorded:
  - relu:       threshold_backward passes the gradient only where x > 0, so
                relu'(0) = 0 (and f'(x) = 0 for every x <= 0).
  - leaky_relu: leaky_relu_backward uses x > 0 ? 1 : negative_slope, so
                leaky_relu'(0) = negative_slope (0.01 or 0.2), the left slope.
  - elu:        elu_backward uses x <= 0 ? alpha*exp(x) : 1, so elu'(0) is the
                left derivative alpha*exp(0) = alpha; with alpha = 1 both sides
                agree (1) and elu is C^1 at 0, but elu''(0) is not defined.
  - softplus:   F.softplus(x, beta=1, threshold=20) returns x itself (not
                log1p(exp(x))) when x*beta > threshold, and its derivative there
                is exactly 1 (not exp(x)/(1+exp(x))). The test is strict: at
                x = 20 PyTorch still uses log1p(exp(20)) and exp(20)/(exp(20)+1);
                at x = 50 and 800 the identity. In float64 the switch changes
                nothing at these points (50 + 2e-22 rounds to 50), but for x
                in (20, ~37) the identity is up to exp(-20) = 2e-9 below
                log1p(exp(x)).
Accuracy of PyTorch itself (checked against erfc/expm1/mpmath): elu uses
exp(x)-1, not expm1 (relative error 1e-9 at x = -1e-8); gelu and gelu_tanh
cancel in 1+erf / 1+tanh for x << 0 (f(-10) = -0.0 for both, true values
-7.6e-23 and -1.2e-37; gelu f'(-10) off by 1%); sigmoid' = s*(1-s) from the
output loses accuracy for x >> 0 (f'(50) = 0). Compare those points with an
absolute tolerance; elsewhere the values agree with accurate formulas to ~1e-15.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

POINTS = [-800, -50, -20, -10, -5, -2, -1, -0.5, -1e-3, -1e-8, 0,
          1e-8, 1e-3, 0.5, 1, 2, 5, 10, 20, 50, 800]

ACTIVATIONS = {
    "leaky_relu_0.01": lambda x: F.leaky_relu(x, negative_slope=0.01),
    "leaky_relu_0.2": lambda x: F.leaky_relu(x, negative_slope=0.2),
    "elu": lambda x: F.elu(x, alpha=1.0),
    "gelu": lambda x: F.gelu(x, approximate="none"),   # x * Phi(x), Phi by erf
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    # 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3)))
    "silu": F.silu,                                     # x * sigmoid(x)
    "softplus": lambda x: F.softplus(x, beta=1.0, threshold=20.0),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
}

NOTES = {
    "points": "x as float64; 0 is +0.0",
    "df": "autograd: gradient of f(x).sum() w.r.t. x (PyTorch's backward kernels)",
    "relu": "relu'(0) = 0 (threshold_backward: gradient passes only where x > 0)",
    "leaky_relu_0.01": "F.leaky_relu(x, negative_slope=0.01); f'(0) = 0.01 (backward: x > 0 ? 1 : slope)",
    "leaky_relu_0.2": "F.leaky_relu(x, negative_slope=0.2); f'(0) = 0.2 (backward: x > 0 ? 1 : slope)",
    "elu": "F.elu(x, alpha=1); x > 0 ? x : alpha*(exp(x)-1), computed as exp(x)-1, not expm1 "
           "(elu(-1e-8) = -9.99999993922529e-09, relative error 1e-9 against expm1); "
           "f'(x) = x <= 0 ? alpha*exp(x) : 1, so f'(0) = alpha = 1",
    "gelu": "F.gelu(x, approximate='none') = x*0.5*(1+erf(x/sqrt(2))); f' = Phi(x) + x*phi(x). "
            "1+erf cancels for x << 0: f(-10) and f(-20) are -0.0 (true -7.6e-23, -5.5e-88), "
            "f(-5) has relative error 4e-11, f'(-10) 1e-2, f'(-20) 2.5e-3 (Phi is 0 there, x*phi is exact); "
            "compare negative x with an absolute tolerance",
    "gelu_tanh": "F.gelu(x, approximate='tanh') = 0.5*x*(1+tanh(sqrt(2/pi)*(x+0.044715*x^3))). "
                 "1+tanh cancels for x << 0: f and f' are -0.0 and 0.0 from x = -10 down (true -1.2e-37, -2.8e-36), "
                 "relative error 3e-10 at x = -5",
    "silu": "F.silu(x) = x*sigmoid(x); f' = s*(1+x*(1-s)), s = sigmoid(x); "
            "at x = -800 f = -0.0 and f' = -0.0 (no NaN)",
    "softplus": "F.softplus(x, beta=1, threshold=20): x*beta > threshold ? x : log1p(exp(beta*x))/beta; "
                "derivative 1 exactly above the threshold, else z/(z+1) with z = exp(beta*x); "
                "x = 20 is NOT above the threshold (strict >)",
    "sigmoid": "torch.sigmoid; f' = s*(1-s) from the output, so for x >> 0 f' loses accuracy "
               "(f'(20) relative error 3.6e-8, f'(50) = 0 while f'(-50) = 1.9e-22)",
    "tanh": "torch.tanh; f' = 1-t^2 from the output (f'(1e-8) = 0.9999999999999999)",
}


def dumps(doc):
    """JSON with one array per line. json.dumps writes each float with repr():
    the shortest decimal that reads back to the same float64."""
    j = lambda v: json.dumps(v, allow_nan=False)
    lines = ["{"]
    lines.append(f' "torch_version": {j(doc["torch_version"])},')
    lines.append(f' "dtype": {j(doc["dtype"])},')
    lines.append(f' "points": {j(doc["points"])},')
    lines.append(' "activations": {')
    names = list(doc["activations"])
    for k, name in enumerate(names):
        a = doc["activations"][name]
        lines.append(f'  {j(name)}: {{')
        lines.append(f'   "f": {j(a["f"])},')
        lines.append(f'   "df": {j(a["df"])}')
        lines.append("  }" + ("," if k < len(names) - 1 else ""))
    lines.append(" },")
    lines.append(' "notes": {')
    notes = list(doc["notes"].items())
    for k, (name, text) in enumerate(notes):
        lines.append(f'  {j(name)}: {j(text)}' + ("," if k < len(notes) - 1 else ""))
    lines.append(" }")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    return text


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "activations_torch.json")
    acts = {}
    for name, f in ACTIVATIONS.items():
        x = torch.tensor(POINTS, dtype=torch.float64, requires_grad=True)
        y = f(x)
        y.sum().backward()
        fv, dfv = y.detach().tolist(), x.grad.tolist()
        for v in fv + dfv:
            if not math.isfinite(v):
                sys.exit(f"{name}: non-finite value {v}; JSON would not be portable")
        acts[name] = {"f": fv, "df": dfv}
    doc = {
        "torch_version": torch.__version__,
        "dtype": "float64",
        "points": [float(p) for p in POINTS],
        "activations": acts,
        "notes": NOTES,
    }
    with open(out, "w") as fh:
        fh.write(dumps(doc))
    print(f"wrote {out}: {len(acts)} activations x {len(POINTS)} points, torch {torch.__version__}")


if __name__ == "__main__":
    main()
