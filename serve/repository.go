package serve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
	"github.com/neuralgo/nn/internal/regular"
)

// model is a model name and the versions of it being served. A model of
// a ModelFile has one version, "1", its file; a model of the repository
// has the versions of its directory that its version policy keeps.
type model struct {
	name string
	dir  string // its directory in the repository; "" for a ModelFile
	file string // the path of a ModelFile; "" in the repository
	b    *batcher
	set  atomic.Pointer[versionSet]

	mu sync.Mutex // serialises loads and unloads; guards the fields below
	// unloaded says that the model was unloaded on request: polls leave
	// it unloaded until a load request.
	unloaded bool
	// reason says why the model has no version served, for the
	// repository index and the 404s; atomic, so that a lookup does not
	// wait for a load.
	reason atomic.Pointer[string]
	// failed holds the version files that failed to load, as they were
	// when they failed, so that a poll tries a file again only once it
	// changes.
	failed map[int64]fileStat
	// missing holds the versions whose model file was missing at the
	// last poll, reported once.
	missing map[int64]bool
	// cfgFailed is the error of the config file when it last failed to
	// read, reported once.
	cfgFailed string
}

// versionSet is the versions of a model being served, immutable: a load
// or an unload replaces it as a whole.
type versionSet struct {
	vers []*slot // by ascending version number
	json []byte  // the version labels, a JSON array of strings
}

// latest returns the version of the highest number, nil if there is none.
func (vs *versionSet) latest() *slot {
	if len(vs.vers) == 0 {
		return nil
	}
	return vs.vers[len(vs.vers)-1]
}

// find returns the version labelled v, or nil.
func (vs *versionSet) find(v string) *slot {
	for _, sl := range vs.vers {
		if sl.version == v {
			return sl
		}
	}
	return nil
}

// labels returns the labels of the versions.
func (vs *versionSet) labels() []string {
	l := make([]string, len(vs.vers))
	for i, sl := range vs.vers {
		l[i] = sl.version
	}
	return l
}

// newVersionSet returns the set of vers, which it sorts.
func newVersionSet(vers []*slot) *versionSet {
	slices.SortFunc(vers, func(a, b *slot) int { return cmpInt(a.num, b.num) })
	b := []byte{'['}
	for i, sl := range vers {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, sl.version)
	}
	return &versionSet{vers: vers, json: append(b, ']')}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// catalog is the models of a Server, immutable: a model that appears in
// the repository replaces it with a copy that holds it. A model, once in
// the catalog, stays there, with no versions if it is unloaded or its
// directory removed.
type catalog struct {
	models map[string]*model
	names  []string // sorted
}

// model returns the model name, or nil.
func (s *Server) model(name string) *model { return s.cat.Load().models[name] }

// lookup returns version v of the model name ("" for its latest), or the
// 404 that says why there is none.
func (s *Server) lookup(name, v string) (*slot, *httpError) {
	m := s.model(name)
	if m == nil {
		return nil, s.unknownModel(name)
	}
	return m.version(v)
}

// version returns version v of m ("" for the latest), or the 404 that
// says why there is none.
func (m *model) version(v string) (*slot, *httpError) {
	vs := m.set.Load()
	if len(vs.vers) == 0 {
		return nil, &httpError{Status: 404, Msg: "the model " + excerpt.Quote(m.name) + " has no version loaded" + m.why()}
	}
	if v == "" {
		return vs.latest(), nil
	}
	if sl := vs.find(v); sl != nil {
		return sl, nil
	}
	return nil, &httpError{Status: 404, Msg: "the model " + excerpt.Quote(m.name) + " has no version " + excerpt.Quote(v) + " loaded; the versions loaded are " + excerpt.Quotes(vs.labels())}
}

// why returns ": the reason" of a model without versions, or "".
func (m *model) why() string {
	r := m.reason.Load()
	if r == nil || *r == "" {
		return ""
	}
	return ": " + *r
}

// setReason sets why m has no version served, "" when it has.
func (m *model) setReason(r string) { m.reason.Store(&r) }

// addModel adds a model to the catalog, unless the Server is closed, and
// reports whether it did; the caller holds s.catMu, which Close takes
// before it stops the batchers.
func (s *Server) addModel(m *model) bool {
	if s.closed.Load() {
		return false
	}
	old := s.cat.Load()
	c := &catalog{models: make(map[string]*model, len(old.models)+1), names: append(slices.Clone(old.names), m.name)}
	for k, v := range old.models {
		c.models[k] = v
	}
	c.models[m.name] = m
	slices.Sort(c.names)
	if !s.opts.NoBatching {
		rows, delay := s.opts.BatchRows, s.opts.BatchDelay
		if m.dir != "" {
			// The configuration as the model is first seen; a change
			// of its batching takes effect when the server restarts.
			if cfg, _, err := readConfig(m.dir); err == nil {
				if cfg.batchRows > 0 {
					rows = cfg.batchRows
				}
				if cfg.batchDelay != 0 {
					delay = cfg.batchDelay
				}
			}
		}
		m.b = newBatcher(delay, rows, s.metrics.batches.WithLabelValues(m.name))
	}
	// Make the series of every model visible from the start.
	s.metrics.reloads.WithLabelValues(m.name, "success")
	s.metrics.reloads.WithLabelValues(m.name, "failure")
	s.metrics.rows.WithLabelValues(m.name)
	s.metrics.refused.WithLabelValues(m.name)
	s.cat.Store(c)
	return true
}

// newFileModel returns the model of a ModelFile, its one version loaded.
func newFileModel(mf ModelFile, p nn.Precision) (*model, error) {
	e, err := loadEntry(mf.Name, mf.Path, p)
	if err != nil {
		return nil, err
	}
	m := &model{name: mf.Name, file: mf.Path}
	sl := &slot{name: mf.Name, version: "1", num: 1, path: mf.Path, m: m}
	sl.cur.Store(e)
	m.set.Store(newVersionSet([]*slot{sl}))
	return m, nil
}

// maxConfigBytes is the largest config.pbtxt read.
const maxConfigBytes = 1 << 20

// configFile is the name of a model's configuration in its directory,
// as Triton names it.
const configFile = "config.pbtxt"

// defaultModelFile is the model file of a version directory unless the
// configuration's default_model_filename names another.
const defaultModelFile = "model.json"

// readConfig returns the configuration of the model in dir, from its
// config.pbtxt if it has one, and the stat of that file.
func readConfig(dir string) (modelConfig, fileStat, error) {
	path := filepath.Join(dir, configFile)
	f, fi, err := regular.Open(path, "")
	if errors.Is(err, os.ErrNotExist) {
		return defaultConfig(), fileStat{}, nil
	}
	if err != nil {
		return modelConfig{}, fileStat{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return modelConfig{}, fileStat{}, err
	}
	if len(b) > maxConfigBytes {
		return modelConfig{}, statOf(fi), fmt.Errorf("%s: larger than %d bytes", path, maxConfigBytes)
	}
	c, err := parseConfig(b)
	if err != nil {
		return modelConfig{}, statOf(fi), fmt.Errorf("%s: %w", path, err)
	}
	return c, statOf(fi), nil
}

// versionDirs returns the version numbers of the model in dir: its
// subdirectories named by a positive whole number, in its canonical
// form ("3", not "03"); other entries are ignored, as Triton ignores them.
func versionDirs(dir string) ([]int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var nums []int64
	for _, ent := range ents {
		n, err := strconv.ParseInt(ent.Name(), 10, 64)
		if err != nil || n <= 0 || strconv.FormatInt(n, 10) != ent.Name() {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, ent.Name()))
		if err != nil || !fi.IsDir() {
			continue
		}
		nums = append(nums, n)
	}
	slices.Sort(nums)
	return nums, nil
}

// syncModel brings the versions of m served in line with its directory
// (or its file): it loads the versions that its policy keeps and that are
// not loaded, loads again those whose file changed (or all, with force),
// and drops those that its policy no longer keeps. If a version fails to
// load, the set of versions served stays as it was, and the error says
// which; the versions already served that loaded again take over. A model
// unloaded on request is left alone unless explicit, which loads it.
func (s *Server) syncModel(m *model, force, explicit bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unloaded && !explicit {
		return nil
	}
	if m.file != "" {
		// A ModelFile: its one version, reloaded in place.
		vs := m.set.Load()
		sl := vs.latest()
		if sl == nil {
			// Unloaded: load it again, from the file as it is.
			e, err := loadEntry(m.name, m.file, s.opts.Precision)
			if err != nil {
				s.metrics.reloads.WithLabelValues(m.name, "failure").Inc()
				return fmt.Errorf("serve: model %s: %w", excerpt.Quote(m.name), err)
			}
			sl = &slot{name: m.name, version: "1", num: 1, path: m.file, m: m}
			sl.cur.Store(e)
			m.set.Store(newVersionSet([]*slot{sl}))
			m.unloaded = false
			m.setReason("")
			s.metrics.reloads.WithLabelValues(m.name, "success").Inc()
			s.log.Info("model loaded", "model", m.name, "path", m.file)
			return nil
		}
		m.unloaded = false
		return s.reload(sl, force)
	}
	cfg, _, err := readConfig(m.dir)
	if err != nil {
		// Reported once while it fails the same way, or whenever forced.
		if force || explicit || err.Error() != m.cfgFailed {
			m.cfgFailed = err.Error()
			s.metrics.reloads.WithLabelValues(m.name, "failure").Inc()
			s.log.Warn("model configuration failed to load; the versions loaded keep serving", "model", m.name, "error", err)
		}
		return fmt.Errorf("serve: model %s: %w", excerpt.Quote(m.name), err)
	}
	m.cfgFailed = ""
	old := m.set.Load()
	nums, err := versionDirs(m.dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			// The model's directory is gone: so are its versions.
			if len(old.vers) > 0 {
				m.set.Store(newVersionSet(nil))
				s.log.Info("model unloaded: its directory is no longer in the repository", "model", m.name)
			}
			m.setReason("its directory is not in the repository")
			m.unloaded = false
			return nil
		}
		return fmt.Errorf("serve: model %s: %w", excerpt.Quote(m.name), err)
	}
	want := cfg.policy.keep(nums)
	var next []*slot
	var errs []error
	for _, n := range want {
		label := strconv.FormatInt(n, 10)
		if sl := old.find(label); sl != nil {
			// Loaded already: again if its file changed. A failure
			// leaves it serving as it was.
			if err := s.reload(sl, force); err != nil {
				errs = append(errs, err)
			}
			next = append(next, sl)
			continue
		}
		path := filepath.Join(m.dir, label, cfg.file)
		st, err := statFile(path)
		if err != nil {
			// No file yet (a version being copied in) or none of that
			// name: reported once, or whenever forced.
			err = fmt.Errorf("serve: model %s version %s: %w", excerpt.Quote(m.name), label, err)
			if force || explicit || !m.missing[n] {
				if m.missing == nil {
					m.missing = make(map[int64]bool)
				}
				m.missing[n] = true
				s.metrics.reloads.WithLabelValues(m.name, "failure").Inc()
				s.log.Warn("model version failed to load; the versions loaded keep serving", "model", m.name, "version", label, "error", err)
			}
			errs = append(errs, err)
			continue
		}
		delete(m.missing, n)
		if !force && !explicit && sameStat(st, m.failed[n]) {
			errs = append(errs, fmt.Errorf("serve: model %s version %s: it failed to load, and its file has not changed since", excerpt.Quote(m.name), label))
			continue
		}
		e, err := loadEntry(m.name, path, s.opts.Precision)
		if err != nil {
			if m.failed == nil {
				m.failed = make(map[int64]fileStat)
			}
			m.failed[n] = st
			s.metrics.reloads.WithLabelValues(m.name, "failure").Inc()
			s.log.Warn("model version failed to load; the versions loaded keep serving", "model", m.name, "version", label, "error", err)
			errs = append(errs, fmt.Errorf("serve: model %s version %s: %w", excerpt.Quote(m.name), label, err))
			continue
		}
		delete(m.failed, n)
		sl := &slot{name: m.name, version: label, num: n, path: path, m: m}
		sl.cur.Store(e)
		next = append(next, sl)
		s.metrics.reloads.WithLabelValues(m.name, "success").Inc()
		s.log.Info("model version loaded", "model", m.name, "version", label, "path", path)
	}
	if len(errs) > 0 {
		// The new versions wait until every version the policy keeps
		// loads: the set served stays as it was.
		return errors.Join(errs...)
	}
	for _, sl := range old.vers {
		if !slices.Contains(next, sl) {
			s.log.Info("model version unloaded", "model", m.name, "version", sl.version)
		}
	}
	if !slices.Equal(next, old.vers) {
		m.set.Store(newVersionSet(next))
	}
	m.unloaded = false
	m.setReason("")
	if len(next) == 0 {
		m.setReason("its directory holds no version directory (1, 2, …) that its version policy keeps")
	}
	return nil
}

// unloadModel stops serving every version of m until it is loaded on
// request. Requests already running finish.
func (s *Server) unloadModel(m *model) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.set.Load().vers) > 0 {
		m.set.Store(newVersionSet(nil))
	}
	m.unloaded = true
	m.setReason("unloaded on request")
	s.log.Info("model unloaded on request", "model", m.name)
}

// scanRepository adds to the catalog the models of the repository that it
// does not hold (each subdirectory of Options.Repository with a name that
// can be a model name) and syncs every model of the repository. It
// returns the errors of the models that failed, joined.
func (s *Server) scanRepository(force bool) error {
	var errs []error
	if s.opts.Repository != "" {
		ents, err := os.ReadDir(s.opts.Repository)
		if err != nil {
			// Reported once while it fails the same way; the models
			// already known are polled all the same.
			err = fmt.Errorf("serve: the repository: %w", err)
			errs = append(errs, err)
			if !s.repoFailed.Swap(true) || force {
				s.log.Warn("the repository cannot be read; the models loaded keep serving", "error", err)
			}
		} else {
			s.repoFailed.Store(false)
		}
		s.catMu.Lock()
		for _, ent := range ents {
			name := ent.Name()
			// Hidden entries (.git, Kubernetes' ..data) are no models.
			if strings.HasPrefix(name, ".") || s.model(name) != nil || checkName(name) != nil {
				continue
			}
			dir := filepath.Join(s.opts.Repository, name)
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				continue
			}
			m := &model{name: name, dir: dir}
			m.set.Store(newVersionSet(nil))
			if !s.addModel(m) {
				break
			}
		}
		s.catMu.Unlock()
	}
	c := s.cat.Load()
	for _, name := range c.names {
		m := c.models[name]
		if err := s.syncModel(m, force, false); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// loadModel loads the model name on request, from the repository if it
// is not in the catalog: every version that its policy keeps must load,
// or the versions served stay as they were.
func (s *Server) loadModel(name string) (*model, *httpError) {
	if s.closed.Load() {
		return nil, &httpError{Status: 503, Msg: errClosed.Error()}
	}
	m := s.model(name)
	if m == nil && s.opts.Repository != "" && checkName(name) == nil && !strings.HasPrefix(name, ".") {
		dir := filepath.Join(s.opts.Repository, name)
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
			s.catMu.Lock()
			if m = s.model(name); m == nil {
				m = &model{name: name, dir: dir}
				m.set.Store(newVersionSet(nil))
				if !s.addModel(m) {
					m = nil
				}
			}
			s.catMu.Unlock()
		}
	}
	if m == nil {
		return nil, s.unknownModel(name)
	}
	if err := s.syncModel(m, true, true); err != nil {
		return m, badRequest("loading the model %s failed, and the versions it serves are as they were: %v", excerpt.Quote(name), err)
	}
	if len(m.set.Load().vers) == 0 {
		return m, badRequest("loading the model %s loaded no version%s", excerpt.Quote(name), m.why())
	}
	return m, nil
}

// errNoControl is the answer to a load or unload without
// Options.ModelControl.
var errNoControl = &httpError{Status: http.StatusForbidden, Msg: "loading and unloading models on request is off: start the server with model control (nn serve -model-control, Options.ModelControl)"}

// indexEntry is an entry of the repository index: a version of a model
// served (state READY), or a model with none (UNAVAILABLE, and why).
type indexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
}

// index returns the repository index: every version served of every
// model, and the models without a version served unless ready.
func (s *Server) index(ready bool) []indexEntry {
	c := s.cat.Load()
	var idx []indexEntry
	for _, name := range c.names {
		m := c.models[name]
		vs := m.set.Load()
		for _, sl := range vs.vers {
			idx = append(idx, indexEntry{Name: name, Version: sl.version, State: "READY"})
		}
		if len(vs.vers) == 0 && !ready {
			reason := m.why()
			if reason != "" {
				reason = reason[len(": "):]
			}
			idx = append(idx, indexEntry{Name: name, State: "UNAVAILABLE", Reason: reason})
		}
	}
	return idx
}

// repository answers the repository extension's endpoints, under
// /v2/repository/: POST index, POST models/{name}/load and POST
// models/{name}/unload.
func (s *Server) repository(w http.ResponseWriter, r *http.Request, st *reqState, rest string) {
	st.endpoint = "repository"
	if rest == "index" {
		if !s.method(w, r, st, http.MethodPost) {
			return
		}
		// The body, if any, is {"ready": bool}.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
		if err != nil {
			s.fail(w, st, badRequest("reading the body: %v", err))
			return
		}
		var req struct {
			Ready *bool `json:"ready"`
		}
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				s.fail(w, st, badRequest("the body: want {\"ready\": true or false}: %v", err))
				return
			}
		}
		idx := s.index(req.Ready != nil && *req.Ready)
		if idx == nil {
			idx = []indexEntry{}
		}
		b, _ := json.Marshal(idx)
		s.write(w, st, http.StatusOK, append(b, '\n'))
		return
	}
	name, action, ok := strings.Cut(strings.TrimPrefix(rest, "models/"), "/")
	if !ok || !strings.HasPrefix(rest, "models/") || (action != "load" && action != "unload") {
		s.fail(w, st, &httpError{Status: http.StatusNotFound, Msg: "no endpoint " + excerpt.Quote(r.URL.Path) + "; see /v2/repository/index, /v2/repository/models/{name}/load and /v2/repository/models/{name}/unload"})
		return
	}
	if !s.method(w, r, st, http.MethodPost) {
		return
	}
	st.model = name
	if !s.opts.ModelControl {
		st.model = ""
		s.fail(w, st, errNoControl)
		return
	}
	// Triton's parameters (a configuration, files) are not taken: the
	// body, if any, must be an empty object.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<10))
	if err != nil {
		s.fail(w, st, badRequest("reading the body: %v", err))
		return
	}
	if b := bytes.TrimSpace(body); len(b) > 0 && !bytes.Equal(b, []byte("{}")) && !bytes.Equal(bytes.Join(bytes.Fields(b), nil), []byte(`{"parameters":{}}`)) {
		s.fail(w, st, badRequest("the body: the repository endpoints take no parameters; send no body, or {}"))
		return
	}
	if action == "unload" {
		m := s.model(name)
		if m == nil {
			st.model = ""
			s.fail(w, st, s.unknownModel(name))
			return
		}
		s.unloadModel(m)
		s.write(w, st, http.StatusOK, []byte("{}\n"))
		return
	}
	m, herr := s.loadModel(name)
	if m == nil {
		st.model = ""
	}
	if herr != nil {
		s.fail(w, st, herr)
		return
	}
	b := append([]byte(`{"name":`), m.nameJSON()...)
	b = append(b, `,"versions":`...)
	b = append(b, m.set.Load().json...)
	s.write(w, st, http.StatusOK, append(b, "}\n"...))
}
