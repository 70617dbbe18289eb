package serve

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Defaults of Options.
const (
	// DefaultBatchDelay is the longest a request waits for others to be
	// batched with.
	DefaultBatchDelay = 200 * time.Microsecond
	// DefaultBatchRows is the most rows of a batch.
	DefaultBatchRows = 256
	// DefaultMaxBodyBytes is the largest request body.
	DefaultMaxBodyBytes = 16 << 20
	// DefaultMaxRows is the most rows of a request.
	DefaultMaxRows = 100_000
	// DefaultReloadInterval is the time between two polls of the model
	// files.
	DefaultReloadInterval = time.Second
)

// ModelFile names a model file to serve.
type ModelFile struct {
	// Name is the name of the model in URLs: /v2/models/{Name}/infer.
	Name string
	// Path is the model file, as nn.Model.Save writes it.
	Path string
}

// Options configures a Server. The zero value of each field means its
// default, and a nil *Options means all defaults.
type Options struct {
	// BatchDelay is the longest that the batcher of a model waits for
	// more requests to batch with a first one, and only while requests
	// to the model are being read; zero means DefaultBatchDelay, and a
	// negative value batches only the requests already waiting.
	BatchDelay time.Duration
	// BatchRows is the most rows of a batch; a request of more rows is
	// predicted on its own. Zero means DefaultBatchRows.
	BatchRows int
	// NoBatching predicts every request on its own, in the goroutine of
	// its handler.
	NoBatching bool
	// MaxBodyBytes is the largest request body, beyond which a request is
	// refused with 413; zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxRows is the most rows of a request, beyond which it is refused
	// with 413; zero means DefaultMaxRows.
	MaxRows int
	// MaxInflightBytes bounds the memory that the prediction requests
	// being handled hold at once, together: each reserves, before its
	// body is read, the most that it can hold (its body, and for each row
	// that the body can hold its values, network inputs and outputs, the
	// intermediate results of the network and its response), and a
	// request that does not fit is refused at once with 503 and a
	// Retry-After header, its body unread (see the package
	// documentation). Zero means a quarter of the memory budget
	// (nn.MemoryBudget) when New is called, and at least MaxBodyBytes; a
	// negative value means no bound. New refuses a positive value less
	// than MaxBodyBytes.
	MaxInflightBytes int64
	// ReloadInterval is the time between two polls of the model files
	// for a replaced file, and of the repository for models and versions
	// added, replaced and removed; zero means DefaultReloadInterval and a
	// negative value no polling (Reload still reloads, and the repository
	// endpoints load and unload).
	ReloadInterval time.Duration
	// Repository, if not empty, is a directory of models in Triton's
	// layout, served beside the ModelFiles: a subdirectory per model,
	// named by it, holding a subdirectory per version, named by its
	// number (1, 2, …), which holds the model file, model.json; and, if
	// the model needs one, a config.pbtxt (see the package
	// documentation).
	Repository string
	// ModelControl enables the loading and unloading of models on
	// request: POST /v2/repository/models/{name}/load and unload, and
	// the gRPC RepositoryModelLoad and RepositoryModelUnload, as
	// Triton's explicit model control mode does. Without it they are
	// refused with 403 (gRPC PermissionDenied), so that no client can
	// take a model down; the repository index is always served.
	ModelControl bool
	// Precision is the floating-point type in which the models predict
	// (nn.Network.SetPrecision): nn.Float64, the zero value, or
	// nn.Float32, faster, which suits models trained in float32. It
	// applies to every model and version, as each is loaded.
	Precision nn.Precision
	// Token, if not empty, is required on every endpoint but
	// /v2/health/live, in the header "Authorization: Bearer <Token>"
	// (the scheme in any case), and on every gRPC method but ServerLive,
	// in the metadata "authorization: Bearer <Token>". New refuses a token with white space
	// around it, which HTTP would strip from the header, or with control
	// characters.
	Token string
	// Default names the model that POST /invocations predicts with when
	// no model is named in its query (?model=NAME); "" means the only
	// model, if there is one.
	Default string
	// Logger receives the Server's logs: a line per request at debug
	// level, failed requests at info level (4xx) or warning level (5xx),
	// reloads at info level and failed reloads at warning level. Nil
	// means no logs.
	Logger *slog.Logger
}

// Server is an http.Handler that serves the predictions of models over
// HTTP, and through NewGRPCServer over gRPC (see the package
// documentation for its endpoints). It polls the files of its models and
// its repository and loads what changes until Close is called.
type Server struct {
	opts    Options
	cat     atomic.Pointer[catalog]
	catMu   sync.Mutex // serialises changes of cat
	def     *model     // the model of /invocations without ?model, or nil
	log     *slog.Logger
	reg     *prometheus.Registry
	metrics *metrics
	promh   http.Handler
	auth    *[sha256.Size]byte // the SHA-256 of the token, or nil
	version string

	inflight limiter // the bound on the bytes of requests in flight

	closed     atomic.Bool
	repoFailed atomic.Bool // the repository could not be read at the last poll
	quit       chan struct{}
	watching   sync.WaitGroup
}

// slot is a version of a model, and its file as last loaded.
type slot struct {
	name, path string
	version    string // its label, the decimal number
	num        int64
	m          *model
	cur        atomic.Pointer[entry]

	mu      sync.Mutex // serialises reloads
	failed  fileStat   // the file last seen failing to load
	missing bool       // the file was missing at the last poll
}

// New loads the model files and the models of Options.Repository and
// returns a Server of them, polling the files and the repository for
// changes unless Options.ReloadInterval is negative. It returns an error
// if there are no models and no repository, a name is empty, holds a
// slash or is given twice (in the repository too), Options.Default names no model, Options.Token cannot be
// sent in a header as it is, Options.MaxInflightBytes is less than
// Options.MaxBodyBytes, a ModelFile cannot be loaded or served (a model
// file must be a regular file, and a classifier must have one class
// label per output), or the repository cannot be read. A model of the
// repository that fails to load is logged, and tried again at the next
// poll.
func New(models []ModelFile, opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BatchDelay == 0 {
		o.BatchDelay = DefaultBatchDelay
	}
	if o.BatchRows <= 0 {
		o.BatchRows = DefaultBatchRows
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	if o.ReloadInterval == 0 {
		o.ReloadInterval = DefaultReloadInterval
	}
	switch {
	case o.MaxInflightBytes == 0:
		o.MaxInflightBytes = max(nn.MemoryBudget()/4, o.MaxBodyBytes)
	case o.MaxInflightBytes > 0 && o.MaxInflightBytes < o.MaxBodyBytes:
		return nil, fmt.Errorf("serve: Options.MaxInflightBytes, %d, is less than MaxBodyBytes, %d: the bound would not hold the largest body that a request may send", o.MaxInflightBytes, o.MaxBodyBytes)
	}
	if _, err := o.Precision.MarshalText(); err != nil {
		return nil, fmt.Errorf("serve: Options.Precision: %v", err)
	}
	if len(models) == 0 && o.Repository == "" {
		return nil, errors.New("serve: no models to serve")
	}
	s := &Server{
		opts: o,
		log:  o.Logger, reg: prometheus.NewRegistry(), quit: make(chan struct{}),
		version: moduleVersion(), inflight: limiter{limit: o.MaxInflightBytes},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if o.Token != "" {
		if err := checkToken(o.Token); err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(o.Token))
		s.auth = &sum
	}
	s.metrics = newMetrics(s.reg, &s.inflight)
	s.promh = promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg})
	s.cat.Store(&catalog{})
	for _, mf := range models {
		if err := checkName(mf.Name); err != nil {
			s.Close()
			return nil, err
		}
		if s.model(mf.Name) != nil {
			s.Close()
			return nil, fmt.Errorf("serve: the model name %s is given twice", excerpt.Quote(mf.Name))
		}
		if o.Repository != "" {
			if fi, err := os.Stat(filepath.Join(o.Repository, mf.Name)); err == nil && fi.IsDir() {
				s.Close()
				return nil, fmt.Errorf("serve: the model name %s is given as a file and is a model of the repository", excerpt.Quote(mf.Name))
			}
		}
		m, err := newFileModel(mf, o.Precision)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("serve: model %s: %w", excerpt.Quote(mf.Name), err)
		}
		s.catMu.Lock()
		s.addModel(m)
		s.catMu.Unlock()
	}
	if o.Repository != "" {
		// The repository itself must be readable; a model of it that
		// fails to load is logged, and polled again, as Triton does
		// when it does not exit on errors: a version being copied in
		// should not keep the others from serving.
		if _, err := os.ReadDir(o.Repository); err != nil {
			s.Close()
			return nil, fmt.Errorf("serve: the repository: %w", err)
		}
		s.scanRepository(false)
	}
	switch c := s.cat.Load(); {
	case o.Default != "":
		s.def = s.model(o.Default)
		if s.def == nil {
			s.Close()
			return nil, fmt.Errorf("serve: the default model %s is not one of the models", excerpt.Quote(o.Default))
		}
	case len(c.names) == 1 && o.Repository == "":
		s.def = s.model(c.names[0])
	}
	if o.ReloadInterval > 0 {
		s.watching.Add(1)
		go s.watch(o.ReloadInterval)
	}
	return s, nil
}

// checkName returns an error for a model name that cannot be a path
// segment.
func checkName(name string) error {
	if name == "" {
		return errors.New("serve: a model name is empty")
	}
	if name == "." || name == ".." {
		return fmt.Errorf("serve: the model name %s is a dot segment, which a URL path cleans away and a repository cannot hold", excerpt.Quote(name))
	}
	for _, c := range name {
		if c == '/' || c == '?' || c == '#' || c == '%' || c < 0x20 || c == 0x7f {
			return fmt.Errorf("serve: the model name %s holds %q, which cannot be in a URL path segment as it is", excerpt.Quote(name), c)
		}
	}
	return nil
}

// moduleVersion returns the version of this module in the program's
// build information.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if bi.Main.Path == "github.com/neuralgo/nn" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/neuralgo/nn" {
			return d.Version
		}
	}
	return "(unknown)"
}

// Models returns the names of the models, sorted: those of the
// ModelFiles and those of the repository, loaded or not.
func (s *Server) Models() []string { return slices.Clone(s.cat.Load().names) }

// Registry returns the Prometheus registry of the Server's metrics, which
// GET /metrics serves; a program may register its own collectors in it.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Close stops polling the model files and the batchers; requests
// answered after it fail with 503 (gRPC Unavailable). Call it once the
// http.Server that mounts s and the grpc.Server of NewGRPCServer have
// shut down. It returns nil.
func (s *Server) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.quit)
	s.watching.Wait()
	s.catMu.Lock() // no model is added after
	defer s.catMu.Unlock()
	for _, m := range s.cat.Load().models {
		if m.b != nil {
			m.b.stop()
		}
	}
	return nil
}

// Reload loads every model file again, whether or not it changed, and
// scans the repository, as nn serve does on SIGHUP. A model that loads
// takes over; one that fails keeps its old version serving. Models
// unloaded on request stay unloaded. Reload returns the errors of the
// files that failed, joined.
func (s *Server) Reload() error {
	if s.closed.Load() {
		return nil
	}
	return s.scanRepository(true)
}

// watch polls the model files every interval until Close.
func (s *Server) watch(interval time.Duration) {
	defer s.watching.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.scanRepository(false)
	}
}

// reload loads the file of sl if it changed since it was loaded (or last
// failed to load), or always with force.
func (s *Server) reload(sl *slot, force bool) error {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	st, err := statFile(sl.path)
	if err != nil {
		// A missing file is reported once, or whenever forced.
		if force || !sl.missing {
			sl.missing = true
			s.failed(sl, fileStat{}, err)
		}
		return fmt.Errorf("serve: model %s: %w", excerpt.Quote(sl.name), err)
	}
	sl.missing = false
	old := sl.cur.Load()
	if !force && (sameStat(st, old.stat) || sameStat(st, sl.failed)) {
		return nil
	}
	e, err := loadEntry(sl.name, sl.path, s.opts.Precision)
	if err != nil {
		s.failed(sl, st, err)
		return fmt.Errorf("serve: model %s: %w", excerpt.Quote(sl.name), err)
	}
	sl.cur.Store(e)
	sl.failed = fileStat{}
	s.metrics.reloads.WithLabelValues(sl.name, "success").Inc()
	s.log.Info("model reloaded", "model", sl.name, "path", sl.path, "size", e.stat.size, "modified", e.stat.mtime)
	return nil
}

// failed records a failed reload of sl.
func (s *Server) failed(sl *slot, st fileStat, err error) {
	sl.failed = st
	s.metrics.reloads.WithLabelValues(sl.name, "failure").Inc()
	s.log.Warn("model reload failed; the old model keeps serving", "model", sl.name, "path", sl.path, "error", err)
}

// sameStat reports whether a and b describe the same version of a file.
func sameStat(a, b fileStat) bool {
	return a.size == b.size && a.ino == b.ino && a.mtime.Equal(b.mtime)
}

// checkToken returns an error for a token that a client cannot send as it
// is in an Authorization header.
func checkToken(token string) error {
	if strings.TrimSpace(token) != token {
		return errors.New("serve: Options.Token has white space around it, which HTTP strips from headers: no request could carry it")
	}
	for _, c := range []byte(token) {
		if c < 0x20 || c == 0x7f {
			return errors.New("serve: Options.Token holds a control character, which a header cannot carry")
		}
	}
	return nil
}

// authorized reports whether r carries the token: the header
// "Authorization: Bearer <token>", its scheme in any case (RFC 7235).
// The SHA-256 digests of the tokens are compared, in constant time, so
// that the time of the comparison tells nothing of the token, not even
// its length.
func (s *Server) authorized(r *http.Request) bool {
	if s.auth == nil {
		return true
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimLeft(token, " ")
	sum := sha256.Sum256([]byte(token))
	ok := subtle.ConstantTimeCompare(sum[:], s.auth[:]) == 1
	return strings.EqualFold(scheme, "Bearer") && ok
}
