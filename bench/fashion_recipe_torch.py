"""Fashion-MNIST with a modern recipe in PyTorch, float64: the reference the Go
library reproduces (bench/FASHION_RECIPE.md spells the recipe out).

  data     60,000 training and 10,000 test images, pixels / 255, labels 0..9
  network  784-256-128-10: Linear, ReLU, Dropout(p1), Linear, ReLU, Dropout(p2),
           Linear; nn.CrossEntropyLoss (softmax cross-entropy, mean over the
           batch); PyTorch's inverted dropout (kept units scaled by 1/(1-p))
  init     every weight kaiming_normal_(mode='fan_in', nonlinearity='relu'),
           i.e. N(0, 2/fan_in); every bias 0
  optim    torch.optim.AdamW(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay),
           over all parameters (biases are decayed too)
  schedule per optimizer step t = 0..T-1, W warm-up steps, T total steps:
             lr_t = lr*(t+1)/W                              if t < W
             lr_t = lr*0.5*(1 + cos(pi*(t-W)/(T-W)))        otherwise
           W = warmup_epochs*ceil(60000/batch), T = epochs*ceil(60000/batch)
  batches  128 rows, the training rows in a new order every epoch
           (torch.randperm with a generator seeded by the seed); the last batch
           of an epoch has the remainder (96 rows)
  eval     after every epoch, model.eval() (no dropout), whole test set

Usage (from the repository root):
  OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 bench/fashion_recipe_torch.py \
      --seeds 1,2,3 --epochs 30 --json /tmp/recipe.json
Per-epoch lines go to stderr; the Markdown table to stdout.
Debian's torch does its matrix products in OpenBLAS (pthreads; OPENBLAS_NUM_THREADS,
default = number of CPUs) and its element-wise work in OpenMP (--threads,
torch.set_num_threads). Set OPENBLAS_CORETYPE to SkylakeX on AVX-512 machines
(Haswell with AVX2): Debian's OpenBLAS 0.3.21 may otherwise pick slow kernels.
The script sets OMP_WAIT_POLICY=PASSIVE unless it is already set (see below).
"""
import argparse
import ctypes
import datetime
import gzip
import json
import math
import os
import platform
import statistics
import sys
import time

# With torch's 2 OpenMP threads and OpenBLAS's 2 threads on 2 CPUs, OpenMP's
# spin-waiting threads and OpenBLAS's fight for the cores: on this shared machine
# (another process using about one core) a step took 20-50 ms instead of 6-9 ms.
# Passive waiting removes that; it must be set before libgomp loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "anchors"))
from common import Contention, wait_idle  # noqa: E402  (bench/anchors/common.py)


def floats(s):
    return [float(v) for v in s.split(",")]


p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
p.add_argument("--epochs", type=int, default=30)
p.add_argument("--dropout", default="0.2,0.1", help="p1,p2: dropout after the first and second hidden layer")
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--weight-decay", type=float, default=1e-2)
p.add_argument("--warmup-epochs", type=float, default=1)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
p.add_argument("--json", default="", help="write every figure to this file")
p.add_argument("--data", default=os.environ.get("FMNIST_DIR", "/usr/share/datasets/fashion-mnist"),
               help="directory with the IDX files (gzipped or not)")
p.add_argument("--wait", type=float, default=120,
               help="before each seed, wait up to this many seconds for the machine to be idle")
args = p.parse_args()
seeds = [int(s) for s in args.seeds.split(",")]
p1, p2 = floats(args.dropout)


def idx(path, magic, header):
    """Reads an IDX file (path or path.gz); returns the bytes after the header."""
    for name in (path, path + ".gz"):
        if os.path.exists(name):
            with (gzip.open(name) if name.endswith(".gz") else open(name, "rb")) as f:
                b = f.read()
            got = int.from_bytes(b[:4], "big")
            if got != magic:
                sys.exit(f"{name}: magic {got:#x}, want {magic:#x}")
            return np.frombuffer(b, np.uint8, offset=header)
    sys.exit(f"{path}(.gz) not found")


def load(kind):
    """kind 'train' or 't10k' -> (X float64 [n,784] = pixels/255, labels int64 [n])."""
    X = idx(os.path.join(args.data, f"{kind}-images-idx3-ubyte"), 0x803, 16).reshape(-1, 784)
    y = idx(os.path.join(args.data, f"{kind}-labels-idx1-ubyte"), 0x801, 8)
    assert len(X) == len(y)
    return torch.from_numpy(X.astype(np.float64) / 255.0), torch.from_numpy(y.astype(np.int64))


def openblas():
    """(core name, threads) of the OpenBLAS torch is linked with, if any."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode(), lib.openblas_get_num_threads()
    except (OSError, AttributeError):
        return None, None


torch.set_default_dtype(torch.float64)
torch.set_num_threads(args.threads)
(Xtr, ytr), (Xte, yte) = load("train"), load("t10k")
N = len(Xtr)
steps_per_epoch = math.ceil(N / args.batch)
W = int(round(args.warmup_epochs * steps_per_epoch))
T = args.epochs * steps_per_epoch
assert 0 < W <= T, "the warm-up must fit in the run"


def lr_factor(t):
    """Multiplier of the base lr at optimizer step t (counted from 0)."""
    if t < W:
        return (t + 1) / W
    return 0.5 * (1 + math.cos(math.pi * (t - W) / (T - W)))


def build():
    model = nn.Sequential(
        nn.Linear(784, 256), nn.ReLU(), nn.Dropout(p1),
        nn.Linear(256, 128), nn.ReLU(), nn.Dropout(p2),
        nn.Linear(128, 10))
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")  # N(0, 2/fan_in)
            nn.init.zeros_(m.bias)
    return model


def evaluate(model):
    model.eval()
    with torch.no_grad():
        out = model(Xte)
        loss = nn.functional.cross_entropy(out, yte).item()
        acc = (out.argmax(1) == yte).double().mean().item()
    model.train()
    return acc, loss


corename, blas_threads = openblas()
versions = {
    "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
    "torch_threads": torch.get_num_threads(), "openblas_core": corename, "openblas_threads": blas_threads,
    "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
    "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", ""),
}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"torch {versions['torch']} numpy {versions['numpy']} python {versions['python']} "
      f"torch threads {versions['torch_threads']} OpenBLAS {corename} threads {blas_threads} "
      f"(OPENBLAS_CORETYPE={versions['OPENBLAS_CORETYPE'] or 'unset'}, OMP_WAIT_POLICY={versions['OMP_WAIT_POLICY']}); "
      f"{os.cpu_count()} CPUs, {cpu}",
      file=sys.stderr, flush=True)
print(f"train {tuple(Xtr.shape)} test {tuple(Xte.shape)}; batch {args.batch}, {steps_per_epoch} steps/epoch "
      f"(last batch {N - (steps_per_epoch - 1) * args.batch} rows), warm-up W={W}, total T={T}; "
      f"dropout {p1},{p2}; AdamW lr {args.lr} wd {args.weight_decay}", file=sys.stderr, flush=True)

runs = []
for seed in seeds:
    torch.manual_seed(seed)                       # init and dropout masks
    gen = torch.Generator().manual_seed(seed)     # the order of the training rows
    model = build()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8,
                            weight_decay=args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    lossf = nn.CrossEntropyLoss()
    wait_idle(max_wait_s=args.wait)
    epochs, t = [], 0
    for epoch in range(1, args.epochs + 1):
        lr_first = opt.param_groups[0]["lr"]
        loss_sum = 0.0
        with Contention() as busy:
            t0 = time.perf_counter()
            perm = torch.randperm(N, generator=gen)
            for i in range(0, N, args.batch):
                rows = perm[i:i + args.batch]
                lr_last = opt.param_groups[0]["lr"]
                opt.zero_grad()
                loss = lossf(model(Xtr[rows]), ytr[rows])
                loss.backward()
                opt.step()
                sched.step()
                loss_sum += loss.item() * len(rows)
                t += 1
            train_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        acc, test_loss = evaluate(model)
        eval_s = time.perf_counter() - t1
        e = {"epoch": epoch, "train_loss": loss_sum / N, "test_loss": test_loss, "test_acc": acc,
             "train_s": train_s, "eval_s": eval_s, "lr_first": lr_first, "lr_last": lr_last,
             "other_cpu": busy.other}
        epochs.append(e)
        print(f"seed {seed} epoch {epoch:2d} train_s {train_s:6.2f} eval_s {eval_s:5.2f} "
              f"lr {lr_first:.3e}..{lr_last:.3e} train_loss {e['train_loss']:.4f} "
              f"test_loss {test_loss:.4f} test_acc {acc:.4f} other-cpu {busy.other:.0%}",
              file=sys.stderr, flush=True)
    assert t == T
    accs = [e["test_acc"] for e in epochs]
    best = max(accs)
    runs.append({"seed": seed, "final_acc": accs[-1], "best_acc": best, "best_epoch": accs.index(best) + 1,
                 "median_train_s": statistics.median(e["train_s"] for e in epochs),
                 "median_eval_s": statistics.median(e["eval_s"] for e in epochs), "epochs": epochs})

print(f"Fashion-MNIST, 784-256-128-10 ReLU, dropout {p1}/{p2}, AdamW lr {args.lr} wd {args.weight_decay}, "
      f"{args.warmup_epochs:g} warm-up epoch(s) + cosine, batch {args.batch}, {args.epochs} epochs, float64\n")
print("| seed | final test acc | best test acc (epoch) | median train s/epoch | median eval s |")
print("|---|---|---|---|---|")
for r in runs:
    print(f"| {r['seed']} | {r['final_acc']:.4f} | {r['best_acc']:.4f} ({r['best_epoch']}) | "
          f"{r['median_train_s']:.2f} | {r['median_eval_s']:.3f} |")
med_final = statistics.median(r["final_acc"] for r in runs)
print(f"\nmedian final test accuracy over seeds {','.join(map(str, seeds))}: {med_final:.4f}")
print(f"torch {versions['torch']}, numpy {versions['numpy']}, python {versions['python']}; "
      f"torch threads {versions['torch_threads']}, OpenBLAS {corename} x{blas_threads}; "
      f"{os.cpu_count()} CPUs, {cpu}")

if args.json:
    cfg = {k: getattr(args, k) for k in ("epochs", "lr", "weight_decay", "warmup_epochs", "batch", "threads")}
    cfg.update(seeds=seeds, dropout=[p1, p2], steps_per_epoch=steps_per_epoch, warmup_steps=W, total_steps=T)
    with open(args.json, "w") as f:
        json.dump({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                   "command": " ".join(sys.argv), "config": cfg, "versions": versions, "cpu": cpu,
                   "nproc": os.cpu_count(), "median_final_acc": med_final, "runs": runs}, f, indent=1)
        f.write("\n")
