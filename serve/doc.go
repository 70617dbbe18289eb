// Package serve serves the predictions of nn models over HTTP and gRPC:
// an http.Handler, Server, that a Go program mounts in its own
// http.Server, and a gRPC service (Server.NewGRPCServer), which the nn
// serve command runs.
//
// # Endpoints
//
// A Server speaks two protocols over the same models:
//
//   - The Open Inference Protocol (KServe's and Triton's "V2" REST API):
//     GET /v2 or /v2/ (server metadata), GET /v2/health/live, GET /v2/health/ready,
//     GET /v2/models/{name} (model metadata), GET /v2/models/{name}/ready
//     and POST /v2/models/{name}/infer, and the same for a version under
//     /v2/models/{name}/versions/{version}/; and the model repository
//     extension: POST /v2/repository/index, POST
//     /v2/repository/models/{name}/load and POST
//     /v2/repository/models/{name}/unload.
//   - MLflow's scoring server: POST /invocations with a JSON body
//     ({"inputs": ...}, {"instances": ...}, {"dataframe_split": ...} or
//     {"dataframe_records": ...}) or a CSV body (Content-Type text/csv)
//     with a header row, answered with {"predictions": [...]}; and GET
//     /ping and GET /health, which answer 200 once the models are loaded.
//
// GET /metrics serves the Server's metrics in Prometheus's text format,
// from a registry of its own (Server.Registry). HEAD is answered wherever
// GET is.
//
// Server.NewGRPCServer returns a grpc.Server of the gRPC form of the Open
// Inference Protocol, the service inference.GRPCInferenceService of
// KServe's grpc_predict_v2.proto (ServerLive, ServerReady, ModelReady,
// ServerMetadata, ModelMetadata, ModelInfer), with Triton's repository
// methods (RepositoryIndex, RepositoryModelLoad, RepositoryModelUnload),
// over the same models and through the same prediction path as the REST
// endpoints. Package inferencepb holds its Go types and client. A tensor's
// values are in the typed contents of its datatype (fp64_contents for
// FP64, int_contents for INT8 to INT32, bytes_contents for BYTES, …) or,
// for every input of a request at once, in raw_input_contents
// (little-endian; a BYTES element as a 4-byte length and its bytes; FP16
// and BF16 only there); the answer's outputs are raw if the inputs were.
// A NaN is a missing value, as a JSON null is. The token is the metadata
// "authorization: Bearer <token>" (ServerLive needs none), and errors are
// gRPC status codes with the message the REST endpoints give:
// InvalidArgument for a 400 or 422, NotFound for a 404, Unauthenticated,
// ResourceExhausted for more rows than Options.MaxRows (gRPC's own for a
// message larger than Options.MaxBodyBytes), Unavailable for a 503,
// PermissionDenied for a load or unload without Options.ModelControl. A
// tensor whose shape declares more values than it holds is
// InvalidArgument, whatever the size it declares; one whose values match
// a shape of more rows than Options.MaxRows, ResourceExhausted.
//
// # Versions and the repository
//
// A model file given to New is version 1 of its model. Options.Repository
// adds the models of a directory in Triton's layout: a subdirectory per
// model, named by it, which holds a subdirectory per version, named by its
// number (1, 2, …; other entries are ignored), which holds the model file,
// model.json. A config.pbtxt beside the versions, in protocol buffer text
// format as Triton's, may set version_policy (latest: { num_versions: N }
// serves the N highest, and is the default with N = 1; all: {} serves
// every version; specific: { versions: [1, 3] } those listed),
// max_batch_size (the most rows of a batch, Options.BatchRows),
// dynamic_batching { max_queue_delay_microseconds: N }
// (Options.BatchDelay) and default_model_filename (the model file's name
// in a version directory); the fields of Triton's that the Server does
// not use are skipped, and a platform or backend other than
// "neuralgo_nn" is refused. The batching settings are read when a model
// is first seen.
//
// A request to a model without a version goes to the highest version
// served, and the answer says which (model_version). The repository is
// polled with the model files (Options.ReloadInterval): models and
// versions that appear are loaded, files replaced are loaded again, and
// versions removed, or that the policy no longer keeps, stop being
// served; requests already running finish on the version they started
// with. If a version that the policy keeps fails to load, the versions
// served stay as they were, until its file changes. The load endpoint
// loads a model (from the repository if it is not known yet) or loads it
// again, and answers 400, the versions served unchanged, if a version
// fails; unload stops serving every version of a model, which then
// answers 404 until a load, whatever the polls find. The index lists
// every version served (state READY) and the models without one
// (UNAVAILABLE, with the reason).
//
// # Inputs
//
// A model predicts from rows of its feature columns (nn.Model.Features,
// or col0, col1, … for a model saved without names). A V2 inference
// request gives them as one input tensor of shape [N, features], whatever
// its name, with the columns in the model's order, or as one tensor of
// shape [N] (or [N, 1]) per feature, named by the feature; the data may be
// flat, or nested as the shape says at every level ([[1, 2], [3, 4]] for
// [2, 2]), in row-major order. Numeric datatypes (FP64, FP32,
// FP16, INT*, UINT*) hold JSON numbers, which are read at float64
// precision whatever the declared type, and null; BYTES holds strings,
// for the categories of a categorical column, as well as numbers. The model metadata lists the single
// tensor "input" [-1, features] (FP64) for a model of numeric columns,
// and one tensor per feature ([-1], FP64 or BYTES) for a model with
// categorical columns. The specification's model metadata has no field
// for the names of the columns and classes: they are in a field of this
// server's own, "neuralgo_nn", an object of "features" (the column
// names, in order), "classes" (the class labels, in the order of the
// probabilities), "targets" (the names of a regression's outputs) and
// "categories" (the categories of each categorical column, in the order
// of their codes), the last three when the model has them. They are the
// model's nn.Schema: a model saved without names has the features col0,
// col1, … and, for a classifier, the classes "0", "1", ….
//
// MLflow's "inputs" and "instances" hold rows as arrays of values in the
// model's column order, or as objects keyed by feature, or (for "inputs")
// one array per feature keyed by its name. "dataframe_split" names its
// columns, and "dataframe_records" keys each row by column name. Columns
// given by name are found in any order, and columns that are not
// features (a target, an id) are ignored, as nn predict does; a
// positional row must hold exactly one value per feature. A CSV body is
// read as nn predict reads a file, with a header row required. The body
// is CSV when its Content-Type is text/csv or application/csv, and JSON
// otherwise: with no Content-Type, and with curl -d's
// application/x-www-form-urlencoded, too.
//
// Every value goes through the model's nn.Schema, as the values of a CSV
// file do (nn.RowParser), so that a value means the same in every path
// of the module. A JSON string is read as the same text in a CSV field
// is: in a numeric column, a number ("5.1", spaces around it ignored) or
// a spelling of a missing value, and anything else is refused; in a
// categorical column (a model with an nn.Encoding), a category ("red").
// A JSON number in a categorical column stands for the category of its
// shortest spelling (1.0 is the category "1"). A category the model has
// not seen encodes as all zeros, as nn.Encoding does, and is counted in
// the metrics. JSON null, or a string that the model's training data
// spelt a missing value with (nn.Encoding.Missing), is a missing value,
// which the encoding fills in; a model without an encoding takes no
// missing values. Rows then reach the network through
// nn.Schema.Prepare, which refuses a value that is not finite, before or
// after scaling, naming the row and the feature.
//
// # Outputs
//
// A classifier answers with the class label of each row ("label", BYTES
// [N] in V2; the "predictions" of MLflow) and, in V2, the class
// probabilities ("probabilities", FP64 [N, classes]: the softmax outputs,
// or 1−p and p for a single sigmoid output p), or the raw outputs
// ("scores") for a classifier whose outputs are not probabilities. A
// regression model answers with "prediction", FP64 [N] for one target or
// [N, targets] for several; MLflow's predictions are then numbers, or one
// array per row. A V2 request may ask for some outputs only ("outputs";
// an empty list asks for all); its "id" is echoed, and its "parameters"
// must be an object of strings, numbers and booleans, none of which is
// defined yet. Triton's binary tensor data extension is not implemented:
// a request for it (the parameters binary_data, binary_data_output or
// binary_data_size) is refused with 400.
//
// With several models loaded, POST /invocations predicts with the model
// named by the query parameter model (/invocations?model=iris), or with
// Options.Default, or with the only model if there is one.
//
// # Errors
//
// Every error is answered with a JSON body {"error": "..."}; those of
// POST /invocations also carry MLflow's fields, {"error_code":
// "BAD_REQUEST", "message": "...", "error": "..."} (the code is
// UNAUTHENTICATED for 401, RESOURCE_DOES_NOT_EXIST for 404,
// TEMPORARILY_UNAVAILABLE for 503). A mistake of
// the client is a 4xx: 400 for a body that is not valid JSON or CSV, a
// value of the wrong type, a tensor of the wrong shape, a missing column,
// a NaN or infinite value, an empty batch; 401 without the token; 404 for
// an unknown model, version or path; 405 for a wrong method; 413 for a body larger
// than Options.MaxBodyBytes or more rows than Options.MaxRows; 415 for a
// body with a Content-Encoding (gzip), which is not decoded; 422 for a row
// whose outputs are NaN or infinite (a model whose weights overflow for
// it), with the error of nn.Schema.CheckOutputs that every path of the
// module gives for that row. The server's own state is a 503: a request
// refused by admission control (see Memory), with "Retry-After: 1", and
// any request once the Server is closed. The message
// names the place of the problem, such as inputs[3][2] or
// line 4, and the feature, such as feature "petal_width". Errors that Go's HTTP server answers
// itself, before a request reaches the Server (a malformed request line,
// 431 for headers larger than http.Server.MaxHeaderBytes, 400 for a bad
// Host), are plain text, as net/http writes them.
//
// JSON bodies are read as RFC 8259 defines JSON, by the package's own
// scanner: numbers such as 01, +1, .5 or 5., control characters and
// invalid UTF-8 in strings are errors. What a request can make the server
// hold is bounded by its body, whatever the body says: a table of rows
// takes at most a value for every two bytes of a JSON body (every byte of
// a CSV body), a V2 request at most one input tensor per feature, and a
// dataframe_split or a CSV header at most 16 columns per feature and
// 1024 more; the body itself is read into a buffer that grows as its
// bytes arrive.
//
// # Memory
//
// The prediction requests being handled hold at most
// Options.MaxInflightBytes of memory together: by default a quarter of the
// memory budget (nn.MemoryBudget, which nn serve's -max-memory sets), and
// at least Options.MaxBodyBytes. Before its body is read, a request
// reserves the most that it can hold: its body (its Content-Length, or
// MaxBodyBytes for a body without one, until it is read), 64 KiB and 64
// bytes per model column for its state, and for every row that the body
// can hold (a value for every two bytes of JSON, every byte of CSV, at
// most Options.MaxRows) the row's values, network inputs and outputs and
// class, the intermediate results of the network (two layers of the
// widest), and twice the longest response text of a row. Decoding
// multiplies the bytes of a body: a V2 request of 15 MB of iris rows,
// with MaxRows lifted, allocates 42 times its body, 16 MB of zeros for a
// model of 1000 columns 10 times. Once the body is decoded, the request
// gives back what its rows do not need; it releases the rest when its
// response is written. A request whose reservation would exceed the bound
// with those already made is refused at once, before any of its body is
// read, with 503 Service Unavailable, "Retry-After: 1", the protocol's
// JSON error (MLflow's error_code TEMPORARILY_UNAVAILABLE) and, over
// HTTP/1, "Connection: close", since the unread body cannot be skipped.
// A client that sends "Expect: 100-continue" (curl does for large
// bodies) then never uploads it; from one that sends it anyway, what
// arrives in the 2 seconds after the answer is read into a small buffer
// and dropped, as nginx's lingering close does, so that closing the
// connection does not reset it before the client has read the answer.
// A request that could hold more than the whole
// bound reserves the whole bound: it runs alone. The metrics count the
// refusals (nn_serve_overload_refusals_total) and the bytes reserved
// (nn_serve_inflight_bytes, of nn_serve_inflight_bytes_limit).
//
// A gRPC message is read whole by the gRPC library before the Server sees
// it (at most MaxBodyBytes, as many at once as there are streams), and
// copied once; the Server then reads it in place, as it reads a JSON
// body, rather than through the protocol buffer library, which would turn
// a message of millions of empty tensors or values into 60 to 80 times
// its size of Go structures before anything could count them. Its
// tensors are checked and their values counted against the model first,
// allocating nothing beyond a tensor per feature; the request then
// reserves what its rows need, exactly, with the message; and only then
// are its values read into the table.
//
// The bound counts live memory: the garbage that requests leave, which
// the Go runtime lets grow to about as much again before it collects it
// (GOGC=100), and the Server's models, batchers and pools come on top.
// Pooled buffers of more than 1 MiB are dropped rather than pooled, so
// that memory returns after a burst of large requests. A negative
// MaxInflightBytes turns the bound off.
//
// # Batching
//
// Concurrent requests to one model are predicted together, as Triton's
// dynamic batcher does: a request's rows are scaled and queued, and one
// goroutine per model gathers queued requests into one matrix product of
// up to Options.BatchRows rows. It waits for more requests for at most
// Options.BatchDelay, and only while other requests to the model are
// being read, so that a lone request is predicted at once. Requests of
// more than BatchRows rows are predicted on their own. The outputs of a
// row do not depend on the rows predicted with it: the gemm kernels
// compute each row of a product in the same order whatever the number of
// rows (tested), so batched predictions equal unbatched ones bit for bit.
// (A program built with -tags openblas sends small products to OpenBLAS,
// whose kernels may sum in another order for another number of rows;
// there batched and unbatched outputs may differ in the last bits.)
//
// # Reloading
//
// A Server polls the files of its models (Options.ReloadInterval) and
// loads a file whose size, modification time or inode changed, as
// nn.Model.Save's atomic rename changes them; Reload loads them all at
// once. A model file must be a regular file: it is opened without
// blocking, and a named pipe (whose open would wait for a writer), a
// device or a directory is refused as not a regular file, so that
// neither a poll nor Reload can hang on it. A model that loads and
// passes the checks of New takes over atomically: requests already
// running finish with the model they started with. A file that fails to load leaves the old model serving;
// the failure is logged at warning level and counted in the metrics.
//
// # Logs
//
// Options.Logger receives a line per request at debug level, a line per
// failed request at info level for a client's mistake (4xx: scanners and
// misconfigured clients send many) and at warning level for the server's
// failure (5xx), reloads at info level and failed reloads at warning
// level.
//
// # Security
//
// Model names map to the files given to New and to the directories of
// the repository, and to nothing else: no other part of a request reaches
// the file system, and a name that is not a path segment (a slash, a dot
// segment) names no directory. With Options.Token set, every
// endpoint but /v2/health/live requires the header
// "Authorization: Bearer <token>", compared in constant time.
//
// # Concurrency
//
// A Server is safe for use by many goroutines at once. New returns an
// error for models that cannot be served; the methods of Server panic only
// on programmer errors, as documented.
package serve
