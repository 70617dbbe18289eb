package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
	"github.com/neuralgo/nn/internal/regular"
	"github.com/neuralgo/nn/serve"
)

const serveSynopsis = `Usage: nn serve -model NAME=PATH [-model NAME2=PATH2 ...] [flags]
       nn serve -repository DIR [flags]

Serve serves the predictions of model files over HTTP, and over gRPC with
-grpc-addr, until it is stopped with SIGTERM or SIGINT (Ctrl-C), speaking
two protocols over HTTP:

  - the Open Inference Protocol ("V2", as KServe and Triton speak it):
    GET /v2, /v2/health/live, /v2/health/ready, /v2/models/NAME and
    /v2/models/NAME/ready, and POST /v2/models/NAME/infer, the same under
    /v2/models/NAME/versions/VERSION/, and the repository endpoints POST
    /v2/repository/index, /v2/repository/models/NAME/load and
    /v2/repository/models/NAME/unload;
  - MLflow's scoring server: POST /invocations with a JSON body
    ({"inputs": [[...], ...]}, {"dataframe_split": {...}},
    {"dataframe_records": [...]} or {"instances": [...]}) or a CSV body with
    a header row (Content-Type: text/csv), answered with
    {"predictions": [...]}. With several models, /invocations?model=NAME
    names one, or -default gives it.

With -grpc-addr HOST:PORT it also serves the gRPC form of the Open
Inference Protocol (service inference.GRPCInferenceService: ServerLive,
ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer, and
Triton's RepositoryIndex, RepositoryModelLoad and RepositoryModelUnload)
on that address, with the same models, token (metadata "authorization:
Bearer TOKEN"), TLS, limits and batching. -addr '' turns HTTP off.

GET /metrics serves metrics in Prometheus's text format. -model NAME=PATH
serves the file PATH as NAME, its version 1; -model PATH names it by the
file's base name without extension. Names map only to these files and to
the repository.

-repository DIR serves the models of DIR in Triton's layout, beside the
-model files: DIR/NAME/VERSION/model.json, VERSION a whole number from 1,
and an optional DIR/NAME/config.pbtxt in Triton's text format, of which
nn serve reads version_policy ({ latest: { num_versions: N } }, the
default being the latest 1; { all: {} }; { specific: { versions: [1, 3] } }),
max_batch_size, dynamic_batching { max_queue_delay_microseconds: N } and
default_model_filename, and skips the rest. Every -reload-interval it
loads the versions added or replaced and drops those removed; a version
that fails to load leaves the versions served as they were. Requests
name a version (/v2/models/NAME/versions/2/infer) or go to the latest.
With -model-control, clients may also load and unload models (a model
unloaded stays so until it is loaded); without it those endpoints answer
403, and POST /v2/repository/index only lists what is served.

Concurrent requests to a model are batched into one matrix product, for
at most -batch-delay, and only while more requests are on their way;
batched and unbatched predictions are equal bit for bit.

The prediction requests being handled hold at most -max-inflight-bytes
of memory together (by default a quarter of -max-memory): before its body
is read, a request reserves the most it can hold, its body and, for every
row the body can hold (up to -max-rows), the row's values, the network's
inputs, outputs and intermediate results and the response text, and
gives back what its rows do not need once they are read. A request that
does not fit is answered at once with 503 Service Unavailable,
"Retry-After: 1" and the protocol's JSON error (MLflow's error_code
TEMPORARILY_UNAVAILABLE), without its body being read, and counted in
nn_serve_overload_refusals_total. A body without a Content-Length
reserves as much as one of -max-body until it is read.

A model file that is replaced (as nn train and nn.Model.Save replace it,
by renaming) is loaded again within -reload-interval, and on SIGHUP;
requests in flight finish on the old model, and a file that fails to load
leaves the old model serving, with a warning in the log and in the
metrics. Model files must be regular files: a named pipe or a device is
refused, not waited on. A reload on SIGHUP runs beside the signal loop,
one at a time (SIGHUPs during one ask for one more after it); SIGTERM
never waits for it.

It listens on loopback (127.0.0.1:8080) unless -addr says otherwise, and
prints the address it listens on to standard error (-addr 127.0.0.1:0
picks a free port). With -token-file, every endpoint but /v2/health/live
requires "Authorization: Bearer TOKEN", the first line of the file
without the white space around it. With -tls-cert and -tls-key (regular
files) it serves HTTPS (HTTP/1.1 and HTTP/2), and loads the certificate
again on SIGHUP. Logs are lines of key=value pairs on standard error:
one per request at -log-level debug, failed requests at info (4xx) or
warn (5xx), failed reloads at warn. On SIGTERM or SIGINT it stops
accepting connections and waits up to -drain-timeout for the requests in
flight; a second signal stops it at once, with exit status 1.

Examples:

	nn serve -model iris=iris.json
	curl -d '{"inputs": [[5.1, 3.5, 1.4, 0.2]]}' localhost:8080/invocations
	curl -d '{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP64",
	  "data": [5.1, 3.5, 1.4, 0.2]}]}' localhost:8080/v2/models/iris/infer
`

// modelsFlag is -model NAME=PATH or -model PATH, repeatable.
type modelsFlag struct{ v *[]serve.ModelFile }

func (f modelsFlag) String() string {
	if f.v == nil {
		return ""
	}
	var s []string
	for _, m := range *f.v {
		s = append(s, m.Name+"="+m.Path)
	}
	return strings.Join(s, " ")
}

func (f modelsFlag) Set(s string) error {
	name, path, ok := strings.Cut(s, "=")
	if !ok {
		path = s
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if name == "" || path == "" {
		return errors.New("want NAME=PATH or PATH")
	}
	*f.v = append(*f.v, serve.ModelFile{Name: name, Path: path})
	return nil
}

// durationFlag is a duration flag with a least value.
type durationFlag struct {
	v   *time.Duration
	min time.Duration
}

func (f durationFlag) String() string {
	if f.v == nil {
		return ""
	}
	return f.v.String()
}

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d < f.min {
		return fmt.Errorf("want a duration of at least %v, such as 500us, 2ms or 10s", f.min)
	}
	*f.v = d
	return nil
}

// bodySize is -max-body: a size in bytes, with the units of byteSize, of
// at least 1KiB.
type bodySize struct{ v *int64 }

func (f bodySize) String() string {
	if f.v == nil {
		return ""
	}
	return byteSize(f).String()
}

func (f bodySize) Set(s string) error {
	x, ok := parseBytes(s)
	if !ok || !(x >= 1<<10) || x >= 1<<40 {
		return errors.New("want a size from 1KiB to 1TiB, such as 64KiB or 16MiB")
	}
	*f.v = int64(x)
	return nil
}

// inflightSize is -max-inflight-bytes: a size in bytes, with the units of
// byteSize, of at least 1KiB, or 0 for the default.
type inflightSize struct{ v *int64 }

func (f inflightSize) String() string {
	if f.v == nil || *f.v == 0 {
		return ""
	}
	return byteSize(f).String()
}

func (f inflightSize) Set(s string) error {
	x, ok := parseBytes(s)
	if !ok || !(x >= 1<<10) || x >= math.MaxInt64 { // MaxInt64 rounds up to 2⁶³ as a float64
		return errors.New("want a size of at least 1KiB, such as 256MiB or 2GiB")
	}
	*f.v = int64(x)
	return nil
}

// serveFlags are the flags of nn serve.
type serveFlags struct {
	models         []serve.ModelFile
	addr           string
	tokenFile      string
	tlsCert        string
	tlsKey         string
	maxBody        int64
	maxInflight    int64 // 0: a quarter of maxMemory
	maxMemory      *int64
	maxRows        int
	batchDelay     time.Duration
	batchRows      int
	noBatch        bool
	reloadInterval time.Duration
	drainTimeout   time.Duration
	logLevel       string
	def            string
	grpcAddr       string
	repository     string
	precision      nn.Precision
	modelControl   bool
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	fs.Var(modelsFlag{&f.models}, "model", "a model to serve, as `NAME=PATH` (or PATH, named by its base name); repeat for several")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "the `address` to listen on, host:port; a port of 0 picks a free one")
	fs.StringVar(&f.tokenFile, "token-file", "", "require the bearer token on the first line of `file` on every endpoint but liveness")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with the certificate (chain) in PEM `file`, with -tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the private key in PEM `file` of -tls-cert")
	f.maxBody = serve.DefaultMaxBodyBytes
	fs.Var(bodySize{&f.maxBody}, "max-body", "the largest request body, in `bytes` (units KiB, MiB); larger ones are refused with 413")
	fs.Var(inflightSize{&f.maxInflight}, "max-inflight-bytes", "the most memory, in `bytes` (units KiB, MiB, GiB), that the prediction requests being handled may hold together; a request that would need more is refused at once with 503 and Retry-After (default: a quarter of -max-memory, at least -max-body)")
	f.maxMemory = memoryFlag(fs)
	f.maxRows = serve.DefaultMaxRows
	fs.Var(intFlag{&f.maxRows, 1}, "max-rows", "the most `rows` of a request; more are refused with 413")
	f.batchDelay = serve.DefaultBatchDelay
	fs.Var(durationFlag{&f.batchDelay, 0}, "batch-delay", "the longest `duration` a request waits for others to be batched with (0: batch only requests already waiting)")
	f.batchRows = serve.DefaultBatchRows
	fs.Var(intFlag{&f.batchRows, 1}, "batch-rows", "the most `rows` of a batch; larger requests are predicted on their own")
	fs.BoolVar(&f.noBatch, "no-batch", false, "predict every request on its own, without batching")
	f.reloadInterval = serve.DefaultReloadInterval
	fs.Var(durationFlag{&f.reloadInterval, 0}, "reload-interval", "the `interval` at which to check the model files for a new version (0: only on SIGHUP)")
	f.drainTimeout = 10 * time.Second
	fs.Var(durationFlag{&f.drainTimeout, 0}, "drain-timeout", "the longest `duration` to wait for requests in flight on SIGTERM or SIGINT")
	fs.Var(newChoice(&f.logLevel, "info", "debug", "info", "warn", "error"), "log-level", "the least `level` logged: debug (a line per request), info, warn or error")
	fs.StringVar(&f.def, "default", "", "the model `NAME` of /invocations without ?model= (default: the only model)")
	fs.StringVar(&f.grpcAddr, "grpc-addr", "", "also serve the gRPC Open Inference Protocol on `address`, host:port (a port of 0 picks a free one)")
	fs.StringVar(&f.repository, "repository", "", "serve the models of the `directory` DIR, in Triton's layout DIR/NAME/VERSION/model.json")
	fs.TextVar(&f.precision, "precision", f.precision, precisionUsage)
	fs.BoolVar(&f.modelControl, "model-control", false, "let clients load and unload models (POST /v2/repository/models/NAME/load and unload, and gRPC's RepositoryModelLoad and RepositoryModelUnload)")
}

// HTTP server limits: time to read a request's headers, to read it
// whole, to write the answer, and for an idle keep-alive connection.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 30 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

func runServe(e *env, args []string) error {
	var f serveFlags
	fs := newFlagSet("serve")
	f.register(fs)
	if err := parseFlags(e, fs, "serve", serveSynopsis, args); err != nil {
		return err
	}
	if len(f.models) == 0 && f.repository == "" {
		return &usageError{cmd: "serve", msg: "flag -model or -repository is required: the model files to serve, as -model NAME=PATH, or a directory of models"}
	}
	if f.addr == "" && f.grpcAddr == "" {
		return &usageError{cmd: "serve", msg: "-addr is empty and there is no -grpc-addr: nothing would be served"}
	}
	if f.repository != "" {
		if fi, err := os.Stat(f.repository); err != nil {
			return fmt.Errorf("nn: -repository: %v", err)
		} else if !fi.IsDir() {
			return fmt.Errorf("nn: -repository %s: not a directory", excerpt.Quote(f.repository))
		}
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return &usageError{cmd: "serve", msg: "-tls-cert and -tls-key go together: give both to serve HTTPS"}
	}
	if f.maxInflight != 0 && f.maxInflight < f.maxBody {
		return &usageError{cmd: "serve", msg: fmt.Sprintf("-max-inflight-bytes %v is less than -max-body %v: the bound would not hold the largest body that a request may send", byteSize{&f.maxInflight}, byteSize{&f.maxBody})}
	}
	setMemoryBudget(*f.maxMemory)
	var level slog.Level
	level.UnmarshalText([]byte(f.logLevel)) // checked by the flag
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	opts := &serve.Options{
		BatchDelay: f.batchDelay, BatchRows: f.batchRows, NoBatching: f.noBatch,
		MaxBodyBytes: f.maxBody, MaxInflightBytes: f.maxInflight, MaxRows: f.maxRows,
		ReloadInterval: f.reloadInterval, Default: f.def, Logger: log,
		Repository: f.repository, ModelControl: f.modelControl,
		Precision: f.precision,
	}
	if f.batchDelay == 0 {
		opts.BatchDelay = -1 // batch only what is waiting
	}
	if f.reloadInterval == 0 {
		opts.ReloadInterval = -1
	}
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return err
		}
		// The first line, without the white space around it, which HTTP
		// strips from the header that carries it.
		token, _, _ := strings.Cut(string(b), "\n")
		token = strings.TrimSpace(token)
		if token == "" {
			return fileErrorf(f.tokenFile, "the token file is empty: write the token on its first line")
		}
		opts.Token = token
	}
	var tlsConfig *tls.Config
	var certs *certificate
	if f.tlsCert != "" {
		certs = &certificate{certFile: f.tlsCert, keyFile: f.tlsKey}
		if err := certs.load(); err != nil {
			return err
		}
		tlsConfig = &tls.Config{GetCertificate: certs.get, MinVersion: tls.VersionTLS12}
	}
	s, err := serve.New(f.models, opts)
	if err != nil {
		return err
	}
	defer closeServer(s, log)
	var ln, gln net.Listener
	if f.addr != "" {
		if ln, err = net.Listen("tcp", f.addr); err != nil {
			return fmt.Errorf("nn: %v", err)
		}
	}
	if f.grpcAddr != "" {
		if gln, err = net.Listen("tcp", f.grpcAddr); err != nil {
			if ln != nil {
				ln.Close()
			}
			return fmt.Errorf("nn: -grpc-addr: %v", err)
		}
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		TLSConfig:         tlsConfig,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	// The signals are caught before the address is announced: a SIGHUP
	// sent as soon as it is would otherwise kill the process.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	models := strings.Join(s.Models(), ", ")
	if models == "" {
		models = "none yet"
	}
	if ln != nil {
		fmt.Fprintf(e.stderr, "nn serve: listening on %s://%s (models: %s)\n", scheme, ln.Addr(), models)
	}
	var gs *grpc.Server
	if gln != nil {
		var opts []grpc.ServerOption
		if tlsConfig != nil {
			opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConfig)))
		}
		gs = s.NewGRPCServer(opts...)
		fmt.Fprintf(e.stderr, "nn serve: gRPC listening on %s (models: %s)\n", gln.Addr(), models)
	}
	served := make(chan error, 2)
	if ln != nil {
		go func() {
			if tlsConfig != nil {
				// ServeTLS offers HTTP/2 besides HTTP/1.1; the certificate
				// comes from the configuration's GetCertificate.
				served <- srv.ServeTLS(ln, "", "")
				return
			}
			served <- srv.Serve(ln)
		}()
	}
	if gs != nil {
		go func() {
			if err := gs.Serve(gln); err != nil {
				served <- fmt.Errorf("gRPC: %v", err)
			}
		}()
	}
	reloads := startReloads(s.Reload, certs, log)
	defer close(reloads)
	for {
		select {
		case err := <-served:
			return fmt.Errorf("nn: serving: %v", err)
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				askReload(reloads)
				continue
			}
			return drain(srv, gs, log, signals, sig, f.drainTimeout)
		}
	}
}

// reloadWarning is how long a reload on SIGHUP runs before a warning
// that it is still running.
const reloadWarning = 30 * time.Second

// startReloads starts the goroutine that reloads the models with reload
// (Server.Reload) and the certificate certs (if not nil) for each value
// received on the channel it returns (see askReload), until the channel
// is closed: reloads run off the signal loop, one at a time, so that a
// reload that takes long (a model file on a stalled network file system)
// neither delays SIGTERM nor piles up goroutines. A reload that runs for
// longer than reloadWarning is reported.
func startReloads(reload func() error, certs *certificate, log *slog.Logger) chan<- struct{} {
	reloads := make(chan struct{}, 1)
	go func() {
		for range reloads {
			start := time.Now()
			slow := time.AfterFunc(reloadWarning, func() {
				log.Warn("reload on SIGHUP: still running; later SIGHUPs wait for it", "after", time.Since(start).Round(time.Second))
			})
			if err := reload(); err != nil {
				log.Warn("reload on SIGHUP: some models failed to load and keep their old version", "error", err)
			} else {
				log.Info("reloaded every model on SIGHUP")
			}
			if certs != nil {
				if err := certs.load(); err != nil {
					log.Warn("reload on SIGHUP: the TLS certificate failed to load; the old one keeps serving", "error", err)
				} else {
					log.Info("reloaded the TLS certificate on SIGHUP")
				}
			}
			slow.Stop()
		}
	}()
	return reloads
}

// askReload asks the goroutine of startReloads for a reload, without
// waiting: a request while one reload runs asks for one more after it,
// and more requests then ask for nothing more.
func askReload(reloads chan<- struct{}) {
	select {
	case reloads <- struct{}{}:
	default:
	}
}

// closeWait is the longest that nn serve waits, once drained, for the
// Server to close: for a reload of the model files to finish.
const closeWait = time.Second

// closeServer closes s, waiting at most closeWait for it, so that a
// reload that hangs does not keep the process from exiting.
func closeServer(s *serve.Server, log *slog.Logger) {
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(closeWait):
		log.Warn("exiting with a reload of the model files still running")
	}
}

// drain shuts srv and gs (if not nil) down on the signal sig: they stop
// accepting connections and wait up to timeout for the requests in
// flight. A second SIGTERM or SIGINT during the wait cuts them and exits
// with status 1.
func drain(srv *http.Server, gs *grpc.Server, log *slog.Logger, signals <-chan os.Signal, sig os.Signal, timeout time.Duration) error {
	log.Info("shutting down: draining requests in flight (send the signal again to stop at once)", "signal", sig.String(), "timeout", timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Both servers stop accepting at once, and drain together.
	done := make(chan error, 1)
	go func() {
		grpcDone := make(chan error, 1)
		go func() {
			if gs == nil {
				grpcDone <- nil
				return
			}
			stopped := make(chan struct{})
			go func() { gs.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
				grpcDone <- nil
			case <-ctx.Done():
				gs.Stop()
				grpcDone <- ctx.Err()
			}
		}()
		err := srv.Shutdown(ctx)
		done <- errors.Join(err, <-grpcDone)
	}()
	stop := func() {
		srv.Close()
		if gs != nil {
			gs.Stop()
		}
	}
	for {
		select {
		case err := <-done:
			if err != nil {
				stop()
				return fmt.Errorf("nn: shutting down: requests still running after -drain-timeout %v were cut: %v", timeout, err)
			}
			log.Info("stopped")
			return nil
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				continue
			}
			stop()
			return fmt.Errorf("nn: shutting down: a second signal (%v): requests still running were cut", sig)
		}
	}
}

// certificate is the TLS certificate of -tls-cert and -tls-key, loaded
// again on SIGHUP: connections made after take the new one.
type certificate struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// load loads the certificate files, which must be regular files; on
// error the old certificate stays.
func (c *certificate) load() error {
	certPEM, err := readRegular(c.certFile)
	if err != nil {
		return fmt.Errorf("nn: -tls-cert: %v", err)
	}
	keyPEM, err := readRegular(c.keyFile)
	if err != nil {
		return fmt.Errorf("nn: -tls-key: %v", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("nn: -tls-cert %s and -tls-key %s: %v", excerpt.Quote(c.certFile), excerpt.Quote(c.keyFile), err)
	}
	c.cur.Store(&cert)
	return nil
}

// maxPEM is the largest certificate or key file: a chain of a few
// certificates takes a few KiB.
const maxPEM = 1 << 20

// readRegular reads the regular file path, of at most maxPEM bytes. It
// opens the file without blocking and refuses any other kind of file, so
// that a named pipe, whose open waits for a writer, cannot hang a reload.
func readRegular(path string) ([]byte, error) {
	f, _, err := regular.Open(path, "")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxPEM+1))
	if err == nil && len(b) > maxPEM {
		err = &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d bytes", maxPEM)}
	}
	return b, err
}

// get is tls.Config.GetCertificate.
func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cur.Load(), nil
}
