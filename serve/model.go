package serve

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// entry is one loaded version of a model with what serving it needs,
// computed once at load: immutable once built, and replaced as a whole on
// reload.
type entry struct {
	name, path string
	m          *nn.Model
	schema     *nn.Schema
	stat       fileStat
	loaded     time.Time

	features []string       // one name per table column
	colIndex map[string]int // feature name → column
	cats     []map[string]int
	catNames [][]string // the categories of each column, nil for numeric
	missing  map[string]bool
	encoded  bool // the model has an Encoding: NaN is a missing value
	inputs   []string

	cols, in, out int
	classes       []string // nil for regression
	labelJSON     [][]byte // each class label as a JSON string
	proba         bool     // the outputs are probabilities (sigmoid or softmax)
	targets       []string // the names of a regression's outputs

	outputs  []string // the V2 output names, in order
	meta     []byte   // the V2 model metadata response
	nameJSON []byte   // the name as a JSON string
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
	s := fileStat{size: fi.Size(), mtime: fi.ModTime()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.ino = uint64(st.Ino)
	}
	return s, nil
}

// loadEntry loads the model file path as the model name.
func loadEntry(name, path string) (*entry, error) {
	st, err := statFile(path)
	if err != nil {
		return nil, err
	}
	m, err := nn.LoadModel(path)
	if err != nil {
		return nil, err
	}
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
	sizes := m.Network.Sizes()
	e := &entry{
		name: name, path: path, m: m, loaded: time.Now(),
		cols: m.Columns(), in: sizes[0], out: sizes[len(sizes)-1],
		encoded: m.Encoding != nil,
	}
	s, err := m.Schema()
	if err != nil {
		return nil, err
	}
	e.schema = s
	e.features = slices.Clone(m.Features)
	if e.features == nil {
		e.features = make([]string, e.cols)
		for j := range e.features {
			e.features[j] = "col" + strconv.Itoa(j)
		}
	}
	if len(e.features) != e.cols {
		return nil, fmt.Errorf("the model names %d features for its %d columns", len(e.features), e.cols)
	}
	e.colIndex = make(map[string]int, e.cols)
	for j, f := range e.features {
		if _, dup := e.colIndex[f]; dup {
			return nil, fmt.Errorf("the model names the feature %q twice, so its columns cannot be told apart", f)
		}
		e.colIndex[f] = j
	}
	e.cats = make([]map[string]int, e.cols)
	e.catNames = make([][]string, e.cols)
	if enc := m.Encoding; enc != nil {
		for j := range enc.Columns {
			if c := enc.Columns[j].Categories; c != nil {
				e.catNames[j] = c
				e.cats[j] = make(map[string]int, len(c))
				for k, s := range c {
					e.cats[j][s] = k
				}
			}
		}
		e.missing = make(map[string]bool, len(enc.Missing))
		for _, s := range enc.Missing {
			e.missing[s] = true
		}
		e.inputs = enc.Inputs(e.features)
	} else {
		e.inputs = e.features
	}
	if err := e.setClasses(); err != nil {
		return nil, err
	}
	e.meta = append(e.metadata(), '\n')
	e.nameJSON, _ = json.Marshal(name)
	return e, nil
}

// setClasses sets the classes, or the targets of a regression, and the
// V2 outputs.
func (e *entry) setClasses() error {
	cfg := e.m.Network.Config()
	if e.m.Classes == nil && cfg.Loss == nn.SquaredError {
		e.targets = slices.Clone(e.m.Targets)
		if len(e.targets) != e.out {
			e.targets = nil
		}
		e.outputs = []string{"prediction"}
		return nil
	}
	k := max(e.out, 2) // a single output stands for classes 0 and 1
	e.classes = slices.Clone(e.m.Classes)
	if e.classes == nil {
		for i := range k {
			e.classes = append(e.classes, strconv.Itoa(i))
		}
	}
	if len(e.classes) != k {
		return fmt.Errorf("the model has %d class labels for its %d outputs", len(e.classes), e.out)
	}
	act := cfg.Activations[len(cfg.Activations)-1]
	e.proba = e.out > 1 || act == nn.Sigmoid
	e.labelJSON = make([][]byte, k)
	for i, c := range e.classes {
		e.labelJSON[i], _ = json.Marshal(c)
	}
	e.outputs = []string{"label", "probabilities"}
	if !e.proba {
		e.outputs[1] = "scores"
	}
	return nil
}

// tensorMeta is a V2 $metadata_tensor.
type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

// metadata returns the V2 model metadata response of e.
func (e *entry) metadata() []byte {
	var ins []tensorMeta
	categorical := slices.ContainsFunc(e.catNames, func(c []string) bool { return c != nil })
	if categorical {
		for j, f := range e.features {
			dt := "FP64"
			if e.catNames[j] != nil {
				dt = "BYTES"
			}
			ins = append(ins, tensorMeta{f, dt, []int{-1}})
		}
	} else {
		ins = []tensorMeta{{"input", "FP64", []int{-1, e.cols}}}
	}
	var outs []tensorMeta
	if e.classes != nil {
		outs = []tensorMeta{{"label", "BYTES", []int{-1}}, {e.outputs[1], "FP64", []int{-1, max(e.out, 2)}}}
		if !e.proba {
			outs[1].Shape[1] = e.out
		}
	} else if e.out == 1 {
		outs = []tensorMeta{{"prediction", "FP64", []int{-1}}}
	} else {
		outs = []tensorMeta{{"prediction", "FP64", []int{-1, e.out}}}
	}
	type param struct {
		Features []string            `json:"features"`
		Classes  []string            `json:"classes,omitempty"`
		Targets  []string            `json:"targets,omitempty"`
		Cats     map[string][]string `json:"categories,omitempty"`
	}
	p := param{Features: e.features, Classes: e.classes, Targets: e.targets}
	for j, c := range e.catNames {
		if c != nil {
			if p.Cats == nil {
				p.Cats = make(map[string][]string)
			}
			p.Cats[e.features[j]] = c
		}
	}
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

// cellNumber returns the table value of the JSON number v in column j.
func (e *entry) cellNumber(j int, v float64, unknown *int) float64 {
	if e.cats[j] == nil {
		return v
	}
	return e.category(j, strconv.FormatFloat(v, 'g', -1, 64), unknown)
}

// cellString returns the table value of the string s in column j: a
// category code, or NaN for a missing value.
func (e *entry) cellString(j int, s string, unknown *int) (float64, error) {
	if e.missing[s] || e.missing[strings.TrimSpace(s)] {
		return nan, nil
	}
	if e.cats[j] == nil {
		if e.encoded {
			return 0, fmt.Errorf("want a number or null (missing), got the string %s", excerpt.Quote(s))
		}
		return 0, fmt.Errorf("want a number, got the string %s", excerpt.Quote(s))
	}
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		s = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return e.category(j, s, unknown), nil
}

// category returns the code of the category s of column j, or −1,
// counted in unknown, if the model has not seen it.
func (e *entry) category(j int, s string, unknown *int) float64 {
	if k, ok := e.cats[j][s]; ok {
		return float64(k)
	}
	*unknown++
	return -1
}

// cellNull returns the table value of a JSON null in column j: a missing
// value, if the model takes them.
func (e *entry) cellNull(j int) (float64, error) {
	if !e.encoded {
		return 0, errMissing
	}
	return nan, nil
}
