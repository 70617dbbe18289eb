#!/usr/bin/python3
"""Regenerate testdata/tabular/*.csv from the files Debian's packages ship.

Run from the repository root with Debian's python3 (no third-party modules
are needed; the source files are read as text):

    apt-get install -y python3-statsmodels
    # the two packages below are unpacked, not installed (r-cran-palmerpenguins
    # would pull in R); their files are read from the unpacked tree
    cd "$(mktemp -d)" && apt-get download python3-vega-datasets r-cran-palmerpenguins \
        && for f in *.deb; do dpkg -x "$f" root; done && cd -
    /usr/bin/python3 bench/tabular/make_data.py --unpacked /that/dir/root

--unpacked defaults to / (packages installed normally). The output is
deterministic: the same package versions give byte-identical files. What
each file is and what was changed is in testdata/tabular/README.md.
"""

import argparse
import csv
import json
import os
import sys

SM = "usr/lib/python3/dist-packages/statsmodels/datasets"
VEGA = "usr/lib/python3/dist-packages/vega_datasets/_data"
PENGUINS = "usr/lib/R/site-library/palmerpenguins/extdata/penguins.csv"


def write(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    print(f"{path}: {len(rows)} rows, {len(header)} columns, {os.path.getsize(path)} bytes")


def num(s):
    """Format a number read from JSON without a spurious .0."""
    if s is None:
        return ""
    if isinstance(s, float) and s.is_integer():
        return str(int(s))
    return str(s)


def penguins(src, out):
    # species is the target; "NA" cells become empty cells (missing values);
    # island and sex stay text (categorical). Target moved to the last column.
    with open(src, newline="") as f:
        r = list(csv.reader(f))
    head, body = r[0], r[1:]
    t = head.index("species")
    order = [i for i in range(len(head)) if i != t] + [t]
    rows = [["" if row[i] == "NA" else row[i] for i in order] for row in body]
    write(out, [head[i] for i in order], rows)


def cars(src, out):
    # Miles_per_Gallon is the target. Dropped: Name (an identifier) and the 8
    # rows whose target is missing. Year "1970-01-01" becomes 1970. Missing
    # Horsepower (6 rows) becomes an empty cell; Origin stays text.
    with open(src) as f:
        data = json.load(f)
    cols = ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs",
            "Acceleration", "Year", "Origin", "Miles_per_Gallon"]
    rows = []
    for d in data:
        if d["Miles_per_Gallon"] is None:
            continue
        row = []
        for c in cols:
            v = d[c]
            if c == "Year":
                v = v[:4]
            row.append(v if isinstance(v, str) else num(v))
        rows.append(row)
    write(out, cols, rows)


def anes96(src, out):
    # Tab-separated with quoted names in the source. vote (0 Clinton, 1 Dole
    # per the statsmodels notes) becomes the text labels Clinton/Dole.
    with open(src, newline="") as f:
        r = list(csv.reader(f, delimiter="\t"))
    head = [h.strip("'") for h in r[0]]
    t = head.index("vote")
    label = {"0": "Clinton", "1": "Dole"}
    rows = []
    for row in r[1:]:
        row = list(row)
        row[t] = label[row[t]]
        rows.append(row)
    write(out, head, rows)


def fair(src, out):
    # affairs (time spent in affairs) becomes the binary target had_affair
    # (yes if affairs > 0); affairs itself is dropped, as it is the target.
    with open(src, newline="") as f:
        r = list(csv.reader(f))
    head = r[0]
    a = head.index("affairs")
    cols = [h for i, h in enumerate(head) if i != a] + ["had_affair"]
    rows = []
    for row in r[1:]:
        y = "yes" if float(row[a]) > 0 else "no"
        rows.append([v for i, v in enumerate(row) if i != a] + [y])
    write(out, cols, rows)


def grunfeld(src, out):
    # invest is the target, moved to the last column; firm stays text.
    with open(src, newline="") as f:
        r = list(csv.reader(f))
    head = r[0]
    t = head.index("invest")
    order = [i for i in range(len(head)) if i != t] + [t]
    write(out, [head[i] for i in order], [[row[i] for i in order] for row in r[1:]])


def star98(src, out):
    # The target pct_above_median = 100 * PR50M / MATHTOT (share of a
    # district's students above the national median in maths, the quantity
    # the statsmodels binomial example models). Dropped: MATHTOT and PR50M
    # (the target is computed from them) and the 8 interaction columns
    # (products of the kept columns).
    with open(src, newline="") as f:
        r = list(csv.reader(f))
    head = r[0]
    keep = ["LOWINC", "PERASIAN", "PERBLACK", "PERHISP", "PERMINTE", "AVYRSEXP",
            "AVSALK", "PERSPENK", "PTRATIO", "PCTAF", "PCTCHRT", "PCTYRRND"]
    idx = [head.index(k) for k in keep]
    tot, above = head.index("MATHTOT"), head.index("PR50M")
    rows = []
    for row in r[1:]:
        y = 100 * float(row[above]) / float(row[tot])
        rows.append([row[i] for i in idx] + [f"{y:.4f}"])
    write(out, keep + ["pct_above_median"], rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--unpacked", default="/",
                   help="root of the tree holding the packages' files (default /)")
    p.add_argument("--out", default="testdata/tabular", help="output folder")
    a = p.parse_args()
    root = a.unpacked
    sm = os.path.join("/", SM)  # statsmodels is installed normally
    if not os.path.isdir(sm):
        sm = os.path.join(root, SM)
    os.makedirs(a.out, exist_ok=True)
    o = lambda n: os.path.join(a.out, n + ".csv")
    penguins(os.path.join(root, PENGUINS), o("penguins"))
    cars(os.path.join(root, VEGA, "cars.json"), o("cars"))
    anes96(os.path.join(sm, "anes96", "anes96.csv"), o("anes96"))
    fair(os.path.join(sm, "fair", "fair.csv"), o("fair"))
    grunfeld(os.path.join(sm, "grunfeld", "grunfeld.csv"), o("grunfeld"))
    star98(os.path.join(sm, "star98", "star98.csv"), o("star98"))


if __name__ == "__main__":
    sys.exit(main())
