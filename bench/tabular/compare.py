#!/usr/bin/python3
"""Compare nn with scikit-learn's MLP on small tabular data sets.

For each data set of testdata/tabular (and testdata/iris.csv) and each seed,
the rows are split 80/20 (stratified by class for classification) and
written to train.csv and test.csv, the same files for both sides. Then:

  nn default        nn train (its defaults) on train.csv, nn eval on test.csv
  sklearn default   Pipeline(ColumnTransformer(numeric: mean imputation and
                    standard scaling; text: most-frequent imputation and
                    one-hot encoding), MLPClassifier / MLPRegressor with
                    default hyperparameters and random_state=seed)
  nn tune           nn tune over the grid below with 5 folds, nn eval of the
                    best model on test.csv
  sklearn grid      GridSearchCV of the pipeline over the same grid with
                    5 (stratified for classification) shuffled folds; the
                    refitted best is scored on test.csv

The score is the test accuracy (classification) or the test R² (regression).
The table printed on standard output has the median over the seeds; progress
goes to standard error; --json FILE writes every seed's figure.

Usage, from the repository root (Debian's python3 with python3-sklearn and
python3-pandas):

    /usr/bin/python3 bench/tabular/compare.py [--no-grid] [--json FILE]
        [--nn BINARY | --rev REV] [--seeds 0,1,2,3,4] [--only NAME,...]
        [--scale-target] [--keep DIR]
        [--nn-train-flags FLAGS | --variant NAME=FLAGS ...]

Without --nn the script builds the nn command into a temporary folder with
go build -o TMP/nn ./cmd/nn: from the working tree, or with --rev REV from
that commit (git archive), so that uncommitted edits don't leak into the
figures. nn tune is optional: without it (an nn that predates it) its column
says n/a and the rest runs; --no-grid skips the grid search on both sides.
--scale-target adds a column that is not part of the comparison proper:
scikit-learn's default pipeline with the regression target standardised
(nn train standardises its regression target; MLPRegressor does not).

--nn-train-flags FLAGS adds FLAGS (split as a shell would) to the nn train
command of the nn default column, which is then headed "nn train FLAGS"
(write --nn-train-flags=-refit with the "=": argparse takes a lone -refit
after a space for an option of its own).
--variant NAME=FLAGS, repeated, replaces that column by one per variant,
headed "nn NAME", each running nn train with its FLAGS (NAME= for none, nn's
defaults); the report then also has the means over the seeds, and how many
seeds each variant wins, ties and loses against the first one.
"""

import argparse
import csv
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

LABELS = {"nn_default": "nn default", "sk_default": "sklearn default",
          "sk_scaled_y": "sklearn default, scaled target", "nn_tune": "nn tune",
          "sk_grid": "sklearn GridSearchCV"}

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# name, file (relative to the repository root), target column, task.
# testdata/tabular/README.md says where each file comes from.
DATASETS = [
    ("iris", "testdata/iris.csv", "species", "classify"),
    ("penguins", "testdata/tabular/penguins.csv", "species", "classify"),
    ("anes96", "testdata/tabular/anes96.csv", "vote", "classify"),
    ("fair", "testdata/tabular/fair.csv", "had_affair", "classify"),
    ("grunfeld", "testdata/tabular/grunfeld.csv", "invest", "regress"),
    ("star98", "testdata/tabular/star98.csv", "pct_above_median", "regress"),
    ("cars", "testdata/tabular/cars.csv", "Miles_per_Gallon", "regress"),
]

# The grid, the same on both sides: one hidden layer of 16, 32 or 64 units,
# learning rate 0.01 or 0.001, L2 0 or 1e-4. The L2 penalties are not
# identical: scikit-learn adds alpha/2·‖W‖² to the loss and divides that term
# by the number of rows in the batch (alpha / batch_size per step, with
# batch_size = min(200, rows)), while nn's -l2 λ is its own weight decay; the
# same number is the same setting in name only.
GRID_HIDDEN = [16, 32, 64]
GRID_LR = [0.01, 0.001]
GRID_L2 = [0, 1e-4]
FOLDS = 5
TEST_SIZE = 0.2


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def read_rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        r = list(csv.reader(f))
    return r[0], r[1:]


def write_rows(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def read_frame(path, target, task):
    # Only an empty cell is missing (pandas would also take "NA", "null", ...),
    # which is what nn reads as missing too.
    df = pd.read_csv(path, keep_default_na=False, na_values=[""],
                     dtype={target: str} if task == "classify" else None)
    return df.drop(columns=[target]), df[target]


def pipeline(num_cols, cat_cols, task, seed, **mlp):
    parts = []
    if num_cols:
        parts.append(("num", Pipeline([("impute", SimpleImputer(strategy="mean")),
                                       ("scale", StandardScaler())]), num_cols))
    if cat_cols:
        parts.append(("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                                       ("onehot", OneHotEncoder(handle_unknown="ignore"))]),
                      cat_cols))
    model = (MLPClassifier if task == "classify" else MLPRegressor)(random_state=seed, **mlp)
    return Pipeline([("prep", ColumnTransformer(parts)), ("mlp", model)])


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return "(no message)"


def run_nn(args, timeout, cwd):
    """Run nn in cwd; return (stdout, None) or (None, error message)."""
    try:
        p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    if p.returncode != 0:
        return None, first_line(p.stderr)
    return p.stdout, None


def nn_score(nn, cwd, model, test, task, timeout):
    out, err = run_nn([nn, "eval", "-model", model, "-data", test, "-json"], timeout, cwd)
    if err:
        return None, err
    try:
        v = json.loads(out)["accuracy" if task == "classify" else "r2"]
    except (ValueError, KeyError) as e:
        return None, f"unreadable nn eval output: {e}"
    if v is None:
        return None, "nn eval gave no score (null)"
    return float(v), None


def nn_default(nn, d, target, task, seed, timeout, flags=(), model="nn-default.json"):
    """nn train with its defaults, or with the extra flags given, and nn eval."""
    args = [nn, "train", "-data", "train.csv", "-target", target]
    if task == "regress":
        args += ["-task", "regress"]
    args += ["-seed", str(seed), "-o", model, "-quiet", *flags]
    _, err = run_nn(args, timeout, d)
    if err:
        return None, err
    return nn_score(nn, d, model, "test.csv", task, timeout)


def nn_tune(nn, d, target, task, seed, timeout):
    model = "nn-tune.json"
    args = [nn, "tune", "-data", "train.csv", "-target", target]
    if task == "regress":
        args += ["-task", "regress"]
    args += ["-hidden", ",".join(map(str, GRID_HIDDEN)),
             "-lr", ",".join(map(str, GRID_LR)),
             "-l2", ",".join(map(str, GRID_L2)),
             "-folds", str(FOLDS), "-seed", str(seed), "-o", model, "-quiet"]
    _, err = run_nn(args, timeout, d)
    if err:
        return None, err
    return nn_score(nn, d, model, "test.csv", task, timeout)


def sk_fit(pipe, X, y, Xt, yt, counter):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        pipe.fit(X, y)
    counter["not_converged"] += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    counter["fits"] += 1
    return float(pipe.score(Xt, yt))


def sk_default(cols, task, seed, X, y, Xt, yt, counter):
    return sk_fit(pipeline(*cols, task, seed), X, y, Xt, yt, counter)


def sk_scaled_y(cols, task, seed, X, y, Xt, yt, counter):
    # Not part of the comparison proper (--scale-target): the default
    # pipeline with the regression target standardised on the training rows,
    # as nn train does, and unscaled for prediction.
    if task != "regress":
        return None
    model = TransformedTargetRegressor(pipeline(*cols, task, seed), transformer=StandardScaler())
    return sk_fit(model, X, y, Xt, yt, counter)


def sk_grid(cols, task, seed, X, y, Xt, yt, counter):
    grid = {
        "mlp__hidden_layer_sizes": [(h,) for h in GRID_HIDDEN],
        "mlp__learning_rate_init": GRID_LR,
        "mlp__alpha": [float(a) for a in GRID_L2],
    }
    cv = (StratifiedKFold if task == "classify" else KFold)(FOLDS, shuffle=True, random_state=seed)
    search = GridSearchCV(pipeline(*cols, task, seed), grid, cv=cv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        search.fit(X, y)
    counter["not_converged"] += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    counter["fits"] += len(search.cv_results_["params"]) * FOLDS + 1
    return float(search.score(Xt, yt)), search.best_params_


NO_TUNE = "n/a: this nn has no tune command"


def cell(scores, errors):
    ok = [s for s in scores if s is not None]
    if errors and errors[0] == NO_TUNE:
        return NO_TUNE
    if not ok:
        msg = errors[0] if errors else "not run"
        msg = msg if len(msg) <= 90 else msg[:87] + "..."
        return "error: " + msg.replace("|", "\\|")
    c = f"{statistics.median(ok):.3f}"
    if len(ok) < len(scores):
        c += f" ({len(scores) - len(ok)} of {len(scores)} failed)"
    return c


def mean_cell(scores, errors):
    ok = [s for s in scores if s is not None]
    if not ok:
        return cell(scores, errors)
    c = f"{statistics.fmean(ok):.3f}"
    if len(ok) < len(scores):
        c += f" ({len(scores) - len(ok)} of {len(scores)} failed)"
    return c


# Two scores of a seed that differ by less than this are a tie: the same
# figure at the table's three decimals. A test row of the classification
# sets is worth 1/1274 (fair) or more, so there a tie is the same accuracy.
TIE = 0.0005


def versus(scores, base):
    """Wins, ties and losses of scores against base, seed by seed, and the
    mean of the differences with its standard error, over the seeds where
    both have a score."""
    pairs = [(s, b) for s, b in zip(scores, base) if s is not None and b is not None]
    if not pairs:
        return "-"
    diff = [s - b for s, b in pairs]
    won = sum(d >= TIE for d in diff)
    lost = sum(d <= -TIE for d in diff)
    c = f"{won}/{len(diff) - won - lost}/{lost}, {statistics.fmean(diff):+.3f}"
    if len(diff) > 1:
        c += f" ± {statistics.stdev(diff) / len(diff) ** 0.5:.3f}"
    return c


def parse_variant(text):
    """NAME=FLAGS into (NAME, [flags]); argparse's type for --variant."""
    name, eq, flags = text.partition("=")
    if not eq or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise argparse.ArgumentTypeError(
            f"{text!r}: want NAME=FLAGS, NAME of letters, digits, _ . -, FLAGS possibly empty")
    try:
        return name, shlex.split(flags)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: {e}")


def git(*args):
    try:
        return subprocess.run(["git", "-C", ROOT, *args], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def source_version(rev):
    """Say which source nn is built from, resolved now: the branch may move
    while the benchmark runs."""
    if rev:
        return f"commit {git('rev-parse', '--short=12', rev + '^{commit}')} (built from git archive)"
    s = f"commit {git('rev-parse', '--short=12', 'HEAD') or 'unknown'}"
    if git("status", "--porcelain", "--untracked-files=no", "--", "*.go", "go.mod", "go.sum"):
        s += " with uncommitted changes to the Go source"
    return s


def nn_version(nn, built_here, src):
    s = src
    if not built_here:
        s = f"{nn} (given by --nn; the repository is at {s})"
    try:
        gv = subprocess.run(["go", "version", nn], capture_output=True, text=True).stdout.strip()
        if gv:
            s += f", built with {gv.split(': ', 1)[-1]}"
    except OSError:
        pass
    return s


def has_tune(nn):
    p = subprocess.run([nn, "tune", "-h"], capture_output=True, text=True)
    text = p.stderr + p.stdout
    if 'unknown command "tune"' in text or "unknown command" in text.lower():
        return False, first_line(p.stderr)
    return True, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--nn", help="the nn binary (default: build it from this repository)")
    ap.add_argument("--rev", help="build nn from this git revision (git archive into a temporary "
                    "folder) instead of the working tree, which may hold uncommitted changes")
    ap.add_argument("--no-grid", action="store_true", help="skip nn tune and GridSearchCV")
    ap.add_argument("--json", metavar="FILE", help="write every seed's figures to FILE")
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds (default 0,1,2,3,4)")
    ap.add_argument("--only", help="comma-separated data set names (default all)")
    ap.add_argument("--keep", metavar="DIR", help="keep the splits and models in DIR")
    ap.add_argument("--scale-target", action="store_true",
                    help="add a column: sklearn's default pipeline with the regression target "
                         "standardised (TransformedTargetRegressor), as nn does")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds per nn command (default 1800)")
    ap.add_argument("--nn-train-flags", metavar="FLAGS", default="",
                    help="extra flags for nn train in the nn default column, "
                         "such as \"-val 0 -patience 0\"")
    ap.add_argument("--variant", metavar="NAME=FLAGS", action="append", type=parse_variant,
                    default=[], help="instead of the nn default column, one column per variant "
                    "running nn train with FLAGS (NAME= for nn's defaults); repeat for several")
    a = ap.parse_args()

    try:
        train_flags = shlex.split(a.nn_train_flags)
    except ValueError as e:
        ap.error(f"--nn-train-flags: {e}")
    if a.variant and train_flags:
        ap.error("--nn-train-flags and --variant do not go together: give the flags in the variants")
    vnames = [v[0] for v in a.variant]
    if len(set(vnames)) < len(vnames):
        ap.error(f"--variant: a name given twice in {vnames}")
    # The nn train columns: (key in the JSON, extra flags, model file); their
    # headings go into labels.
    labels = dict(LABELS)
    if a.variant:
        nn_sides = [("nn:" + name, flags, f"nn-{name}.json") for name, flags in a.variant]
        for name, flags in a.variant:
            labels["nn:" + name] = "nn " + name
    else:
        nn_sides = [("nn_default", train_flags, "nn-default.json")]
        if train_flags:
            labels["nn_default"] = "nn train " + shlex.join(train_flags)

    seeds = [int(s) for s in a.seeds.split(",")]
    sets = DATASETS
    if a.only:
        names = a.only.split(",")
        unknown = set(names) - {d[0] for d in DATASETS}
        if unknown:
            ap.error(f"unknown data sets {sorted(unknown)}; known: {[d[0] for d in DATASETS]}")
        sets = [d for d in DATASETS if d[0] in names]

    work = a.keep or tempfile.mkdtemp(prefix="nn-tabular-")
    os.makedirs(work, exist_ok=True)
    try:
        nn = a.nn
        if a.rev:
            a.rev = git("rev-parse", a.rev + "^{commit}") or sys.exit(f"unknown revision {a.rev}")
        src_version = source_version(a.rev)
        if nn is None:
            nn = os.path.join(work, "nn")
            src = ROOT
            if a.rev:
                src = os.path.join(work, "src")
                os.makedirs(src, exist_ok=True)
                log(f"git archive {a.rev} into {src}")
                arch = subprocess.run(["git", "-C", ROOT, "archive", a.rev], capture_output=True)
                if arch.returncode != 0:
                    sys.exit(f"git archive {a.rev} failed:\n{arch.stderr.decode()}")
                subprocess.run(["tar", "-x", "-C", src], input=arch.stdout, check=True)
            log(f"building nn in {src}: go build -o {nn} ./cmd/nn")
            b = subprocess.run(["go", "build", "-o", nn, "./cmd/nn"], cwd=src,
                               capture_output=True, text=True)
            if b.returncode != 0:
                sys.exit(f"go build failed:\n{b.stderr}")
        nn = os.path.abspath(nn)

        tune_ok, tune_msg = (False, None) if a.no_grid else has_tune(nn)
        if not a.no_grid and not tune_ok:
            log(f"nn has no tune command ({tune_msg}); the nn tune column is left empty, "
                "GridSearchCV still runs. Run with --no-grid to skip both.")

        sides = ([k for k, _, _ in nn_sides] + ["sk_default"]
                 + (["sk_scaled_y"] if a.scale_target else [])
                 + ([] if a.no_grid else ["nn_tune", "sk_grid"]))
        total = {s: 0.0 for s in sides}
        counters = {s: {"fits": 0, "not_converged": 0} for s in ("sk_default", "sk_scaled_y", "sk_grid")}
        results = []
        for name, rel, target, task in sets:
            header, rows = read_rows(os.path.join(ROOT, rel))
            t = header.index(target)
            y_all = [r[t] for r in rows]
            X_full, _ = read_frame(os.path.join(ROOT, rel), target, task)
            num_cols = [c for c in X_full.columns if pd.api.types.is_numeric_dtype(X_full[c])]
            cat_cols = [c for c in X_full.columns if c not in num_cols]
            missing = [c for c in X_full.columns if X_full[c].isna().any()]
            res = {"name": name, "file": rel, "target": target, "task": task,
                   "rows": len(rows), "features": len(header) - 1,
                   "categorical": cat_cols, "missing": missing,
                   "metric": "accuracy" if task == "classify" else "r2",
                   "seeds": seeds, "scores": {s: [] for s in sides},
                   "errors": {s: [] for s in sides}, "seconds": {s: 0.0 for s in sides},
                   "best_params": {"sk_grid": []}}
            for seed in seeds:
                d = os.path.join(work, name, f"seed{seed}")
                os.makedirs(d, exist_ok=True)
                idx = np.arange(len(rows))
                tr, te = train_test_split(idx, test_size=TEST_SIZE, random_state=seed,
                                          stratify=y_all if task == "classify" else None)
                write_rows(os.path.join(d, "train.csv"), header, [rows[i] for i in tr])
                write_rows(os.path.join(d, "test.csv"), header, [rows[i] for i in te])
                X, y = read_frame(os.path.join(d, "train.csv"), target, task)
                Xt, yt = read_frame(os.path.join(d, "test.csv"), target, task)

                def timed(side, fn):
                    t0 = time.perf_counter()
                    out = fn()
                    dt = time.perf_counter() - t0
                    res["seconds"][side] += dt
                    total[side] += dt
                    return out

                for side, flags, model in nn_sides:
                    s, err = timed(side, lambda: nn_default(nn, d, target, task, seed, a.timeout,
                                                            flags, model))
                    res["scores"][side].append(s)
                    if err:
                        res["errors"][side].append(err)
                s = timed("sk_default", lambda: sk_default((num_cols, cat_cols), task, seed,
                                                           X, y, Xt, yt, counters["sk_default"]))
                res["scores"]["sk_default"].append(s)
                if a.scale_target:
                    s = timed("sk_scaled_y", lambda: sk_scaled_y((num_cols, cat_cols), task, seed,
                                                                 X, y, Xt, yt, counters["sk_scaled_y"]))
                    res["scores"]["sk_scaled_y"].append(s)
                if not a.no_grid:
                    if tune_ok:
                        s, err = timed("nn_tune", lambda: nn_tune(nn, d, target, task, seed, a.timeout))
                    else:
                        s, err = None, NO_TUNE
                    res["scores"]["nn_tune"].append(s)
                    if err:
                        res["errors"]["nn_tune"].append(err)
                    s, best = timed("sk_grid", lambda: sk_grid((num_cols, cat_cols), task, seed,
                                                               X, y, Xt, yt, counters["sk_grid"]))
                    res["scores"]["sk_grid"].append(s)
                    res["best_params"]["sk_grid"].append(
                        {k: (list(v) if isinstance(v, tuple) else v) for k, v in best.items()})
                log(f"{name} seed {seed}: " + ", ".join(
                    f"{labels[k]} {'-' if v[-1] is None else f'{v[-1]:.3f}'}"
                    for k, v in res["scores"].items()))
            results.append(res)

        # Report.
        nnv = nn_version(nn, a.nn is None, src_version)
        print(f"Versions: scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
              f"pandas {pd.__version__}, Python {platform.python_version()}; nn {nnv}.")
        print(f"Machine: {os.cpu_count()} CPUs, {platform.machine()}; seeds {a.seeds}; "
              f"{int((1 - TEST_SIZE) * 100)}/{int(TEST_SIZE * 100)} split.")
        if a.variant:
            for name, flags in a.variant:
                print(f"nn {name}: nn train {shlex.join(flags) or '(its defaults)'}.")
        print()

        def table(cols, fn):
            head = ["data set", "task", "rows"] + [labels[s] for s in cols]
            print("| " + " | ".join(head) + " |")
            print("|" + "|".join(["---"] * 3 + ["---:"] * (len(head) - 3)) + "|")
            for r in results:
                task = "classify (accuracy)" if r["task"] == "classify" else "regress (R²)"
                row = [r["name"], task, str(r["rows"])]
                for s in cols:
                    if s == "sk_scaled_y" and r["task"] != "regress":
                        row.append("")
                    else:
                        row.append(fn(r, s))
                print("| " + " | ".join(row) + " |")
            print()

        table(sides, lambda r, s: cell(r["scores"][s], r["errors"][s]))
        print("Medians over the seeds of the test accuracy (classify) or test R² (regress).")
        if a.variant:
            print()
            table(sides, lambda r, s: mean_cell(r["scores"][s], r["errors"][s]))
            print("Means over the seeds.")
            if len(nn_sides) > 1:
                first = nn_sides[0][0]
                print()
                table([k for k, _, _ in nn_sides[1:]],
                      lambda r, s: versus(r["scores"][s], r["scores"][first]))
                print(f"Against {labels[first]}, seed by seed: wins/ties/losses (a tie is a "
                      f"difference under {TIE}), then the mean difference ± its standard error.")
        times = ", ".join(f"{labels[s]} {total[s]:.1f} s" for s in sides)
        print(f"Total time: {times}.")
        for s, c in counters.items():
            if c["fits"]:
                print(f"{labels[s]}: "
                      f"{c['not_converged']} of {c['fits']} MLP fits stopped at max_iter "
                      f"without converging (ConvergenceWarning).")

        if a.json:
            doc = {"date": time.strftime("%Y-%m-%d"), "versions": {
                       "scikit-learn": sklearn.__version__, "numpy": np.__version__,
                       "pandas": pd.__version__, "python": platform.python_version(), "nn": nnv},
                   "grid": None if a.no_grid else {"hidden": GRID_HIDDEN, "lr": GRID_LR,
                                                   "l2": GRID_L2, "folds": FOLDS},
                   "seconds": total, "sklearn_fits": counters, "datasets": results}
            if train_flags:
                doc["nn_train_flags"] = train_flags
            if a.variant:
                doc["variants"] = {name: flags for name, flags in a.variant}
            with open(a.json, "w") as f:
                json.dump(doc, f, indent=1)
                f.write("\n")
            log(f"wrote {a.json}")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
