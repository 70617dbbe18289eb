#!/usr/bin/env bash
# Measures nn on Apache Beam's Prism runner against one machine:
#   - scoring 1,000,000 rows with the iris model and with a
#     784-256-128-10 model (Fashion-MNIST's images, cycled): nn predict
#     against nn-beam score;
#   - training on Fashion-MNIST's 60,000 images in 4 shards: nn.Train
#     against nnbeam.Train (L-BFGS, 30 epochs), and the time of a training
#     iteration on 150 rows, which is the pipeline's overhead.
# Needs hyperfine and dataset-fashion-mnist (apt-get install hyperfine
# dataset-fashion-mnist) and about 3 GB in $DIR. Takes about 10 minutes.
# Results: bench/beam/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${DIR:-/tmp/nn-beam-bench}
mkdir -p "$DIR/bin"

go build -o "$DIR/bin/nn" ./cmd/nn
(cd beam && go build -o "$DIR/bin/nn-beam" ./cmd/nn-beam && go build -o "$DIR/bin/beambench" ./internal/beambench)
(cd beam && "$DIR/bin/beambench" data -dir "$DIR" -rows 1000000)

echo "== scoring 1,000,000 rows: iris model"
hyperfine --runs 3 \
	"$DIR/bin/nn predict -model $DIR/iris.json -data $DIR/iris.csv > /dev/null" \
	"$DIR/bin/nn-beam score -model $DIR/iris.json -input $DIR/iris.csv -output $DIR/out-iris 2>/dev/null"
echo "== the same pipeline without writing its output"
"$DIR/bin/beambench" score -model "$DIR/iris.json" -input "$DIR/iris.csv"

echo "== scoring 1,000,000 rows: 784-256-128-10 model"
time "$DIR/bin/nn" predict -model "$DIR/mnist.json" -data "$DIR/mnist.csv" > /dev/null
time "$DIR/bin/nn-beam" score -model "$DIR/mnist.json" -input "$DIR/mnist.csv" -output "$DIR/out-mnist"

echo "== training on Fashion-MNIST, 4 shards"
(cd beam && "$DIR/bin/beambench" train -dir "$DIR" -shards 4 -epochs 30 -hidden 128)
