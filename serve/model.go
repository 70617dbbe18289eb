package serve

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/regular"
)

// entry is one loaded version of a model with what serving it needs,
// computed once at load: immutable once built, and replaced as a whole on
// reload. What the model reads and writes, by name (its features and
// their categories, its classes or targets), is its nn.Schema's: the
// entry keeps only the sizes that the hot loops read and the JSON texts
// that the answers copy.
type entry struct {
	name, path string
	m          *nn.Model
	schema     *nn.Schema
	csv        *nn.CSVOptions // how a CSV body is read: the features by name, the target ignored
	stat       fileStat
	loaded     time.Time

	cols, in, out int          // the columns of the table, the network's inputs and outputs
	labelJSON     [][]byte     // each class label as a JSON string, nil for regression
	outputs       []string     // the V2 output names, in order
	ins, outs     []tensorMeta // the V2 input and output tensors of the metadata
	labelBytes    [][]byte     // each class label, nil for regression
	meta          []byte       // the V2 model metadata response after its name: `,"platform":…}`
	nameJSON      []byte       // the name as a JSON string
	// rowBytes is the most bytes that a request holds for each of its
	// rows, for admission (Options.MaxInflightBytes): the row's values,
	// network inputs and outputs (a float64 each), its class, the
	// intermediate results of the forward pass (two layers of the
	// widest), and its response text, twice (the response grows by
	// doubling).
	rowBytes int64
	// reqBytes is the most bytes that a request holds besides its body
	// and its rows: requestBytes, and columnBytes for each column.
	reqBytes int64
	// wsRowBytes is the bytes of a row in an nn.Workspace: two layers of
	// the widest.
	wsRowBytes int64
}

// fileStat is what a poll compares to tell that a file was replaced.
type fileStat struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// statFile returns the fileStat of path.
func statFile(path string) (fileStat, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStat{}, err
	}
	return statOf(fi), nil
}

// statOf returns the fileStat of fi.
func statOf(fi fs.FileInfo) fileStat {
	s := fileStat{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = uint64(st.Ino)
	}
	return s
}

// loadEntry loads the model file path as the model name, predicting in
// precision p. The file must
// be a regular file: it is opened without blocking, so that a named pipe
// (which would block the open until a writer comes, and then hand out
// another stream on every reload) or a device is refused, not waited on.
func loadEntry(name, path string, p nn.Precision) (*entry, error) {
	f, fi, err := regular.Open(path, "a model file is read whole, and again on every reload")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st := statOf(fi)
	m, err := nn.DecodeModel(f)
	if err != nil {
		// As nn.LoadModel words it: "nn: PATH: what is wrong".
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, fmt.Errorf("nn: %s: %w", path, err)
	}
	m.Network.SetPrecision(p)
	e, err := newEntry(name, path, m)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	e.stat = st
	return e, nil
}

// newEntry checks that m can be served and computes what serving it
// needs.
func newEntry(name, path string, m *nn.Model) (*entry, error) {
	s, err := m.Schema()
	if err != nil {
		return nil, err
	}
	if _, err := s.Parser(nil, false); err != nil {
		return nil, err
	}
	e := &entry{
		name: name, path: path, m: m, schema: s, loaded: time.Now(),
		cols: len(s.Features()), in: len(s.Inputs()), out: s.Outputs(),
	}
	e.csv = m.CSVOptions()
	e.csv.Classify, e.csv.Classes, e.csv.Header = false, nil, nn.HeaderYes // the target, if any, is ignored
	e.outputs = []string{"prediction"}
	if classes := s.Classes(); classes != nil {
		e.labelJSON = make([][]byte, len(classes))
		e.labelBytes = make([][]byte, len(classes))
		for i, c := range classes {
			e.labelJSON[i], _ = json.Marshal(c)
			e.labelBytes[i] = []byte(c)
		}
		e.outputs = []string{"label", "probabilities"}
		if !s.Probabilities() {
			e.outputs[1] = "scores"
		}
	}
	e.nameJSON, _ = json.Marshal(name)
	// What follows {"name":"…" in the metadata, for the versions to go
	// between.
	e.meta = append(e.metadata()[len(`{"name":`)+len(e.nameJSON):], '\n')
	widest := 0
	for _, n := range m.Network.Sizes()[1:] {
		widest = max(widest, n)
	}
	// The longest response text of a row: a label, and a value of
	// every output or class, each with a comma, and brackets.
	text := 0
	for _, l := range e.labelJSON {
		text = max(text, len(l))
	}
	text += max(e.out, len(e.labelJSON))*(maxFloatText+1) + 4
	const f = 8 // bytes of a float64 or an int
	e.wsRowBytes = int64(f * 2 * widest)
	e.reqBytes = requestBytes + columnBytes*int64(e.cols)
	e.rowBytes = int64(f*(e.cols+e.in+e.out+1)+2*text) + e.wsRowBytes
	return e, nil
}

// tensorMeta is a V2 $metadata_tensor.
type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

// metadata returns the V2 model metadata response of e, from its schema,
// without the versions of the model.
func (e *entry) metadata() []byte {
	s := e.schema
	features := s.Features()
	type param struct {
		Features []string            `json:"features"`
		Classes  []string            `json:"classes,omitempty"`
		Targets  []string            `json:"targets,omitempty"`
		Cats     map[string][]string `json:"categories,omitempty"`
	}
	p := param{Features: features, Classes: s.Classes(), Targets: s.Targets()}
	for j, f := range features {
		if c := s.Categories(j); c != nil {
			if p.Cats == nil {
				p.Cats = make(map[string][]string)
			}
			p.Cats[f] = c
		}
	}
	// A model of numbers takes one matrix; a model with categorical
	// columns one tensor per feature, strings for the categories.
	ins := []tensorMeta{{"input", "FP64", []int{-1, e.cols}}}
	if p.Cats != nil {
		ins = make([]tensorMeta, len(features))
		for j, f := range features {
			ins[j] = tensorMeta{f, "FP64", []int{-1}}
			if s.Categories(j) != nil {
				ins[j].Datatype = "BYTES"
			}
		}
	}
	var outs []tensorMeta
	switch {
	case p.Classes != nil:
		// The probabilities of every class, or the raw outputs.
		k := len(p.Classes)
		if !s.Probabilities() {
			k = e.out
		}
		outs = []tensorMeta{{"label", "BYTES", []int{-1}}, {e.outputs[1], "FP64", []int{-1, k}}}
	case e.out == 1:
		outs = []tensorMeta{{"prediction", "FP64", []int{-1}}}
	default:
		outs = []tensorMeta{{"prediction", "FP64", []int{-1, e.out}}}
	}
	e.ins, e.outs = ins, outs
	// The specification's $metadata_model_response has no parameters;
	// what the model's inputs and outputs are called is in a field of
	// this server's own, named as its platform.
	b, err := json.Marshal(struct {
		Name     string       `json:"name"`
		Platform string       `json:"platform"`
		Inputs   []tensorMeta `json:"inputs"`
		Outputs  []tensorMeta `json:"outputs"`
		Model    param        `json:"neuralgo_nn"`
	}{e.name, platform, ins, outs, p})
	if err != nil {
		panic(err) // strings and ints always marshal
	}
	return b
}

// platform is the V2 platform of every model.
const platform = "neuralgo_nn"

// metadata returns the V2 model metadata response of sl: its model's
// name, the versions of the model being served, and what sl's version
// takes and gives.
func (sl *slot) metadata() []byte {
	e := sl.cur.Load()
	b := make([]byte, 0, len(e.meta)+len(e.nameJSON)+64)
	b = append(b, `{"name":`...)
	b = append(b, e.nameJSON...)
	b = append(b, `,"versions":`...)
	b = append(b, sl.m.set.Load().json...)
	return append(b, e.meta...)
}

// nameJSON returns the name of m as a JSON string.
func (m *model) nameJSON() []byte { return appendJSONString(nil, m.name) }
