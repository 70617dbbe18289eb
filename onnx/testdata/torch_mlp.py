"""Exports multilayer perceptrons from PyTorch as ONNX, for the tests of
package onnx: python3 torch_mlp.py DIR writes DIR/*.onnx and prints a JSON
manifest: for each model its file, rows X and PyTorch's outputs for them
(computed in double; for a float model also in float), or for a model
that nn does not read the error that Read must return.

Needs Debian's python3-torch and python3-onnx."""
import json
import sys

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper
from torch import nn

out = sys.argv[1]


def export(name, model, inputs, dtype, typed=False, matmul=False, rows=25, opset=17, keep_inits=False, error=""):
    torch.manual_seed(7)
    model = model.to(dtype).eval()
    x = torch.randn(rows, inputs, dtype=torch.float64) * 2
    path = f"{out}/{name}.onnx"
    torch.onnx.export(model, x[:2].to(dtype), path, input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=opset,
                      keep_initializers_as_inputs=keep_inits)
    if typed or matmul:
        m = onnx.load(path)
        if typed:  # initializers in typed fields rather than raw data
            for i, t in enumerate(m.graph.initializer):
                a = numpy_helper.to_array(t)
                m.graph.initializer[i].CopyFrom(helper.make_tensor(t.name, t.data_type, a.shape, a.flatten().tolist(), raw=False))
        if matmul:  # every Gemm(transB=1) as MatMul and Add
            inits = {t.name: t for t in m.graph.initializer}
            nodes = []
            for n in m.graph.node:
                if n.op_type != "Gemm":
                    nodes.append(n)
                    continue
                w = inits[n.input[1]]
                wt = numpy_helper.from_array(numpy_helper.to_array(w).T.copy(), w.name + "_t")
                m.graph.initializer.append(wt)
                nodes.append(helper.make_node("MatMul", [n.input[0], wt.name], [n.output[0] + "_mm"], name=n.name + "_MatMul"))
                nodes.append(helper.make_node("Add", [n.input[2], n.output[0] + "_mm"], [n.output[0]], name=n.name + "_Add"))
            del m.graph.node[:]
            m.graph.node.extend(nodes)
        onnx.checker.check_model(m, full_check=True)
        onnx.save(m, path)
    with torch.no_grad():
        y64 = model.double()(x).numpy()
        y = model.to(dtype)(x.to(dtype)).double().numpy()
    return {"name": name, "file": path, "x": x.numpy().tolist(), "want": y64.tolist(), "want_native": y.tolist(),
            "float32": dtype == torch.float32, "error": error}


def batchnorm(stats):
    """Linear, BatchNorm1d, ReLU, Linear; a fresh BatchNorm's weight and
    running variance are equal (ones), as are its bias and running mean
    (zeros), and torch.onnx.export writes each pair as one initializer and
    an Identity of it. With stats, the running statistics differ."""
    m = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2))
    if stats:
        with torch.no_grad():
            m[1].running_mean.uniform_(-1, 1)
            m[1].running_var.uniform_(0.5, 2)
            m[1].weight.uniform_(0.5, 2)
    return m


# What Read must say of a BatchNormalization: that node, not another.
bn_error = 'node "/1/BatchNormalization" (BatchNormalization): operator not supported'



torch.manual_seed(1)
models = [
    export("relu-tanh-softmax-f64", nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3), nn.Softmax(dim=1)), 4, torch.float64),
    export("sigmoid-regression-f64", nn.Sequential(nn.Linear(5, 7), nn.Sigmoid(), nn.Linear(7, 2)), 5, torch.float64),
    export("relu-f32", nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 3)), 4, torch.float32),
    export("typed-fields-f64", nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2), nn.Softmax(dim=-1)), 3, torch.float64, typed=True),
    export("typed-fields-f32", nn.Sequential(nn.Linear(3, 6), nn.Sigmoid(), nn.Linear(6, 1)), 3, torch.float32, typed=True),
    export("matmul-add-f64", nn.Sequential(nn.Linear(6, 9), nn.ReLU(), nn.Linear(9, 4)), 6, torch.float64, matmul=True),
    export("no-bias-f64", nn.Sequential(nn.Linear(3, 6, bias=False), nn.ReLU(), nn.Linear(6, 2)), 3, torch.float64),
    export("opset11-softmax-f64", nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 3), nn.Softmax(dim=1)), 4, torch.float64, opset=11),
    export("opset14-inits-as-inputs-f32", nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 2)), 4, torch.float32, opset=14, keep_inits=True),
    export("leaky-elu-softplus-f64", nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.25), nn.Linear(8, 8), nn.LeakyReLU(0.25), nn.Linear(8, 5), nn.ELU(), nn.Linear(5, 5), nn.Softplus(), nn.Linear(5, 2)), 4, torch.float64),
    # GELU as z·0.5·(1 + Erf(z/√2)), its tanh form and SiLU as z·Sigmoid(z):
    # operator sets 17 and below have no operator for them.
    export("gelu-f64", nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 3)), 4, torch.float64),
    export("gelu-f32", nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 3), nn.Softmax(dim=1)), 4, torch.float32, opset=14),
    export("gelu-tanh-f64", nn.Sequential(nn.Linear(4, 8), nn.GELU(approximate="tanh"), nn.Linear(8, 2)), 4, torch.float64),
    export("gelu-tanh-f32", nn.Sequential(nn.Linear(4, 8), nn.GELU(approximate="tanh"), nn.Linear(8, 2)), 4, torch.float32),
    export("silu-f64", nn.Sequential(nn.Linear(4, 8), nn.SiLU(), nn.Linear(8, 8), nn.SiLU(), nn.Linear(8, 2)), 4, torch.float64, matmul=True),
    export("silu-f32", nn.Sequential(nn.Linear(4, 8), nn.SiLU(), nn.Linear(8, 2)), 4, torch.float32, opset=11),
    export("batchnorm-fresh-f32", batchnorm(False), 4, torch.float32, error=bn_error),
    export("batchnorm-stats-f64", batchnorm(True), 4, torch.float64, error=bn_error),
]
json.dump(models, sys.stdout)
