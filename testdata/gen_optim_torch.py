#!/usr/bin/python3
"""Writes testdata/optim_torch.json: a few steps of PyTorch's AdamW and SGD,
with and without clip_grad_norm_, on a 3-4-2 network (tanh, then a softmax
output on cross-entropy, mean over the batch) in float64, for
TestOptimizersAgainstPyTorch.

Parameters are written in nn's layout: for each layer the weights W (inputs
× outputs, row-major, the transpose of torch's Linear.weight) then the
biases. Run with Debian's python3-torch: /usr/bin/python3 testdata/gen_optim_torch.py
"""
import json

import torch

torch.set_default_dtype(torch.float64)
torch.manual_seed(7)
x = torch.randn(5, 3)
y = torch.tensor([0, 1, 1, 0, 1])


def flat(layers):
    out = []
    for lin in layers:
        out += lin.weight.detach().t().reshape(-1).tolist()
        out += lin.bias.detach().reshape(-1).tolist()
    return out


cases = []
for name, opt, clip in [
    ("adamw", "adamw", 0.0),
    ("adamw-clip", "adamw", 0.05),
    ("sgd-clip", "sgd", 0.05),
]:
    torch.manual_seed(11)
    l1, l2 = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)
    start = flat([l1, l2])
    params = list(l1.parameters()) + list(l2.parameters())
    if opt == "adamw":
        o = torch.optim.AdamW(params, lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    else:
        o = torch.optim.SGD(params, lr=0.5)
    for step in range(6):
        o.zero_grad()
        loss = torch.nn.functional.cross_entropy(l2(torch.tanh(l1(x))), y)
        loss.backward()
        if clip > 0:
            torch.nn.utils.clip_grad_norm_(params, clip)
        o.step()
    cases.append({"name": name, "method": opt, "lr": o.param_groups[0]["lr"],
                  "weight_decay": o.param_groups[0].get("weight_decay", 0.0) if opt == "adamw" else 0.0,
                  "clip": clip, "steps": 6, "start": start, "end": flat([l1, l2])})

json.dump({"torch_version": torch.__version__, "x": x.tolist(), "labels": y.tolist(), "cases": cases},
          open("testdata/optim_torch.json", "w"), indent=1)
