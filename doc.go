// Package nn trains and runs perceptrons and multilayer neural networks on
// top of gonum.
//
// It grows out of the tutorial "Basics of Neural Networks" (Ganesh KT, 2020):
// a Rosenblatt perceptron trained by the perceptron rule, and a sigmoid
// network trained by backpropagation and gradient descent on a squared-error
// cost. The tutorial's names survive in the code: the forward pass computes
// z2 = X·W1, a2 = σ(z2), z3 = a2·W2, ŷ = σ(z3), and backpropagation computes
// δ3, ∂J/∂W2, δ2 and ∂J/∂W1 with one gonum call each.
//
// The sections below follow the path of a model from a file of data to a
// prediction: load, scale, build, train, evaluate, save, predict.
//
// # Tables in one step
//
// [Classifier] and [Regressor] take that path in one call, as a
// scikit-learn pipeline does: their fields are hyperparameters whose zero
// values suit small tables (one hidden layer of 32 ReLU units, Adam, early
// stopping), and Fit learns from a [Dataset] the one-hot encoding of its
// text columns, the filling in of its missing values ([Encoding]) and the
// scaling, all kept in the fitted [Model]. [CrossValidate] and [Search]
// compare settings by k-fold cross-validation ([Dataset.Folds]),
// [ClassificationReport] and [RegressionReport] score a model class by
// class or target by target, and [Model.PredictCSV] streams rows to
// predictions. The raw [Network] and [Train] below keep the tutorial's
// zero values.
//
// # Tables larger than memory
//
// Fit holds a Dataset once: the training and validation rows are indexes
// into it, encoded and scaled a batch at a time. A table that does not
// fit in memory at all trains from its files: [Classifier.FitStream] and
// [Regressor.FitStream] read a [Stream] (CSV files, gzip ones too) in a
// first pass that checks every row and learns the encoding, scaler and
// classes, then train on a cache of the parsed rows through a seeded
// shuffle buffer, in memory bounded by the buffer, not the table.
// [Classifier.PartialFit] and [Regressor.PartialFit] train on batches of
// rows that the caller brings, one pass per call, as scikit-learn's
// partial_fit does.
//
// # One way from a row to a prediction
//
// A fitted model reads tables by name, as scikit-learn's feature_names_in_
// and a CSV header do: its [Schema] holds its columns in order, the
// categories of each text column, the spellings of a missing value, and
// its outputs. Every entry point that takes a [Dataset] (the estimators'
// Predict, PredictProba, Score and Evaluate, [Model.PredictDataset],
// [Model.Evaluate]) finds the model's columns in it by name, whatever
// their order, and recodes its categories to the model's
// ([Schema.Table]); a missing column is an error naming it, and a
// category the model has not seen is counted (or, strictly, an error).
// CSV rows come through [CSVReader] with [Model.CSVOptions], single
// values through a [RowParser] from [Schema.Parser]. [Schema.Prepare] is
// the gate every row passes to become the network's inputs, and
// [Predictor] predicts a stream of rows a block at a time and writes each
// prediction in the module's one CSV format ([Schema.AppendPrediction]).
// The command-line tool, the server, Beam's Score and the estimators all
// predict through these. Matrix-level calls ([Network.Predict],
// [Model.Predict]) stay positional: a matrix has no column names.
//
// # Load
//
// [LoadCSV] and [ReadCSV] read a table into a [Dataset]: features X, targets
// Y (one-hot over the class labels for classification, numbers for
// regression), and the names of the columns and classes. [CSVOptions] say
// which column is the target, whether it holds class labels, and whether
// the first row is a header ([Header]; by default it is detected).
// [NewCSVReader] streams rows one at a time into a slice the caller owns,
// finding the features a model was trained on by name in any order, for
// data larger than memory; [RowParser] parses records that arrive one by
// one. Problems in the data are a [*ParseError] that names the file, line
// and column.
//
// [Dataset.Split] holds out a seeded, stratified test set, and
// [Dataset.Subset] takes rows. [LoadIDXImages] and [LoadIDXLabels] read
// the IDX files of MNIST and Fashion-MNIST; [OneHot] and [ArgMax] turn
// class indices into target rows and outputs back into classes.
//
// # Scale
//
// [FitScaler] fits a [Scaler] of a [ScaleKind] (standardisation, min-max,
// max-abs) to the training rows; [Scaler.Transform] applies it to a matrix,
// [Scaler.TransformRow] to one row without allocating, and
// [Scaler.InverseTransform] undoes it, for targets scaled for training.
//
// # Build
//
// [New] builds a [Network] from a [Config]: layer sizes, one [Activation]
// per layer, optional biases, a [Loss], a weight [Init] scheme and a seed.
// Weights are [mat.Dense] values laid out as in the tutorial: W(l) has one
// row per input and one column per output of layer l, so a batch X with
// one example per row goes forward as X·W1. All parameters of a network
// live in one contiguous slice ([Network.Params]); the weight matrices
// ([Network.Weights]) and bias vectors ([Network.Bias]) are views of it,
// which lets optimizers update everything in one loop.
//
// [Network.Cost] and [Network.Gradients] give the cost and its gradient by
// backpropagation, and [Network.NumericalGradients] checks that gradient
// by central differences.
//
// # Train
//
// [Train] fits a network to a training set as [Settings] say: a [Method]
// (the tutorial's full-batch gradient descent, mini-batch SGD, momentum,
// Nesterov, Adam, or L-BFGS through gonum's optimize), the learning rate
// and its [Schedule], L2 weight decay, a validation set with early
// stopping, a progress callback, and checkpoints ([Checkpoint],
// [SaveCheckpoint], [LoadCheckpoint]) to resume from. It returns a
// [Report] with one [Epoch] per pass and the [StopReason]. A [Trainer]
// takes steps on batches the caller streams in, allocating nothing once
// warm. [TrainPerceptron] trains the tutorial's [Perceptron].
//
// [Settings.Precision] (and the same field of [Classifier] and
// [Regressor]) trains in [Float32], as PyTorch does by default: the
// weights, activations, gradients and optimizer state are float32, the
// matrix products run on gemm.Sgemm, and the loss and other sums that
// float32 would round badly are taken in float64. The network keeps its
// float64 face: its weights are written back after every epoch, as
// float32 values that float64 holds exactly, and model files do not
// change. [Network.SetPrecision] makes predictions run in float32 too.
//
// # Evaluate
//
// [Network.Predict] runs the forward pass; [Network.Classify] and
// [Network.ClassesTo] read its outputs as classes. [Accuracy],
// [NewConfusion] (with precision, recall and F1 per class), [LogLoss],
// [MeanSquaredError], [MeanAbsoluteError] and [R2] score the predictions,
// as scikit-learn's metrics do.
//
// # Save
//
// A [Model] keeps with the network what it needs to score raw rows: the
// fitted scaler, the names of the feature and target columns, and the
// class labels. [Model.Save] writes it atomically as a versioned JSON
// document ([Model.Encode] to any writer), and [LoadModel] ([DecodeModel])
// reads it back, rejecting files that are corrupt or do not fit together.
//
// # Predict
//
// [Model.Predict] encodes and scales rows laid out as the model's table,
// by position, and predicts them; [Model.PredictDataset] finds the
// columns of a Dataset by name first. For a stream of rows, a
// [Predictor] prepares each row into a block and predicts the block
// through [Network.PredictTo], allocating nothing once warm; one
// [Workspace] per goroutine lets [Network.PredictTo] predict batches into
// matrices the caller owns; [Network.PredictParallel]
// splits a large batch over GOMAXPROCS goroutines. [Backend] names the
// BLAS implementation and kernels in use.
//
// # Errors and panics
//
// As in gonum, a panic signals a programmer error: a wrong layer index, a
// destination of the wrong size, a nil argument where one is required. Every
// such panic is documented on the function that raises it. Anything that
// depends on data — matrices whose shapes do not fit the network, empty
// input, NaN or infinite values, files that cannot be parsed, training that
// diverges — is reported as an error that says what is wrong and where.
// The errors wrap the package's error values ([ErrShape], [ErrNotFinite],
// [ErrEmpty], [ErrDiverged], …) for errors.Is.
//
// Messages start with the package's name, then the file if one is
// concerned: "nn: model.json: model is truncated ...". A [*ParseError] in
// CSV or IDX data starts with its place instead, as compilers write it:
// "iris.csv:4:3: not a number ...". The errors of the enumerated types'
// MarshalText and UnmarshalText methods have no prefix, since the flag
// or JSON package that calls them names the flag or type itself.
//
// # Memory
//
// Sizes that come from input — the rows and classes of a data set, the
// length of a CSV row, the dimensions of an IDX file, the layer widths of
// a network or a model file — are checked against a memory budget before
// what they size is allocated, and an operation that would need more
// returns an error wrapping [ErrMemoryBudget]. Model and checkpoint files
// are read whole, then decoded: their length, and the length of a
// checkpoint's history, are what is checked, so that decoding stays within
// the budget. [SetMemoryBudget] sets the budget, [DefaultMemoryBudget] (4
// GiB) by default; [CheckMemoryBudget] lets a program check its own
// allocations against it. The budget bounds one operation, not what a
// program holds in all. Prediction splits large batches into blocks of
// rows instead of refusing them.
//
// # Text
//
// Every enumerated type — [Activation], [Loss], [Init], [Method],
// [Schedule], [Monitor], [StopReason], [Header], [ScaleKind], [Impute],
// [Output] — implements [fmt.Stringer], [encoding.TextMarshaler] and
// [encoding.TextUnmarshaler] from one table of names, so that its values
// read the same in flags (flag.TextVar), JSON and messages; UnmarshalText
// is how a program reads one from text.
//
// # Concurrency
//
// A trained Network may be used for prediction ([Network.Predict],
// [Network.PredictTo] with one [Workspace] per goroutine, [Network.Cost]) by
// any number of goroutines at once, as long as none of them changes it.
// Training changes the network and must not run concurrently with anything
// else that uses it.
//
// # Reproducibility
//
// Randomness comes only from seeds given by the caller ([Config.Seed],
// [Settings.Seed], [PerceptronSettings.Seed], the seed of [Dataset.Split]):
// the same seeds and data give bit-identical weights and training reports,
// whatever GOMAXPROCS is, in either precision.
package nn
