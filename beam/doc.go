// Package nnbeam runs the models of github.com/neuralgo/nn on Apache Beam:
// batch scoring of large tables, in the spirit of Beam's RunInference, and
// data-parallel training, as Spark MLlib trains its multilayer perceptron.
// One pipeline runs on the local Prism runner in tests and unchanged on
// Dataflow, Flink or Spark.
//
// The package lives in a module of its own, github.com/neuralgo/nn/beam,
// so that users of the core library never download Beam's dependencies.
// Its name is nnbeam, not beam, to leave that name to Beam's own package.
//
// # Scoring
//
// ReadLines reads text files as Lines that know their file and line
// number. Score predicts a PCollection of Lines, CSV records, feature
// vectors or keyed feature vectors with a model file: each worker reads the
// model once (ReadModel), in the Setup of the DoFn, predicts the rows of a
// bundle in blocks through an nn.Predictor, the module's one streaming
// prediction path, and emits a Prediction per row, keyed to it, bit for bit
// what nn predict computes for the same row. Rows that cannot be scored,
// those the model's nn.Schema refuses and those whose outputs are not
// finite, go to a second output of DeadLetters (the row, where it was, and
// why) instead of failing the job, unless ScoreOptions.FailFast is set;
// so do lines longer than MaxLineBytes, which ReadLines skips without
// holding them in memory.
// The command nn-beam score (cmd/nn-beam) is a ready pipeline around them,
// writing each prediction as nn.Schema.AppendPrediction does; Match and
// IsLocal give it the files of a glob and the one test of a local path.
//
// # Training
//
// Train trains a network on CSV shards (files matched by a glob) with the
// driver keeping the weights: each iteration runs a pipeline whose
// CombineFn sums, over all shards, the cost, its gradient
// (Network.CostGradient, Network.Gradients' values without its
// allocations, on blocks of rows) and the number of rows, and the
// driver takes the step: full-batch gradient descent, as nn.Train's
// GradientDescent, or L-BFGS through gonum's optimize with the pipeline as
// its gradient evaluator. With a mini-batch method (SGD, Momentum, Adam…)
// each iteration is an epoch of parameter mixing instead: each shard is
// trained from the current weights for one pass, and the combiner averages
// the weights, weighted by rows. The driver's state is checkpointed after
// every iteration, and a run resumes from its checkpoint. FitScaler
// standardises the features over the shards beforehand.
//
// The sums are exact to about 2⁻¹⁰⁶ relative, in double-double arithmetic,
// so that the order in which a runner merges them does not change the
// result; with full-batch gradient descent the weights match those of a
// single-machine nn.Train with the same settings to 1e-12 relative,
// however the rows are sharded.
//
// # Registration and logging
//
// Every DoFn, CombineFn and type of the package is registered in its init
// functions, as Beam's runners other than the direct one require. The
// program must call beam.Init after parsing its flags (ptest.Main does it
// in tests). beam.Init replaces the process's default slog logger with one
// at Beam's log level, info by default; SetLogLevel("warn"), before
// beam.Init, keeps the logs of a run to its problems.
package nnbeam
