package main

import (
	"cmp"
	"encoding"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// Flag values that check what they are given, so that a bad value is a
// usage error reported by the flag package with the flag's name:
// invalid value "x" for flag -epochs: want a whole number ≥ 1.

// choiceFlag is a string flag restricted to a list of choices.
type choiceFlag struct {
	v       *string
	choices []string
}

func newChoice(v *string, def string, choices ...string) choiceFlag {
	*v = def
	return choiceFlag{v: v, choices: choices}
}

func (f choiceFlag) String() string {
	if f.v == nil {
		return ""
	}
	return *f.v
}

func (f choiceFlag) Set(s string) error {
	if !slices.Contains(f.choices, s) {
		return fmt.Errorf("want %s", orList(f.choices))
	}
	*f.v = s
	return nil
}

// orList returns "a, b or c".
func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// floatFlag is a float flag whose value must satisfy ok, which want
// describes.
type floatFlag struct {
	v    *float64
	ok   func(float64) bool
	want string
}

// String returns "" for 0, so that usage texts show no default for a
// flag whose zero value means "unset" or "none".
func (f floatFlag) String() string {
	if f.v == nil || *f.v == 0 {
		return ""
	}
	return strconv.FormatFloat(*f.v, 'g', -1, 64)
}

func (f floatFlag) Set(s string) error {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || !f.ok(x) {
		return errors.New("want " + f.want)
	}
	*f.v = x
	return nil
}

func positive(x float64) bool    { return x > 0 }
func nonNegative(x float64) bool { return x >= 0 }
func fraction(x float64) bool    { return x >= 0 && x < 1 }

// intFlag is an int flag with a least value.
type intFlag struct {
	v   *int
	min int
}

func (f intFlag) String() string {
	if f.v == nil {
		return ""
	}
	return strconv.Itoa(*f.v)
}

func (f intFlag) Set(s string) error {
	x, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || x < f.min {
		return fmt.Errorf("want a whole number ≥ %d", f.min)
	}
	*f.v = x
	return nil
}

// sizesFlag is a comma-separated list of positive layer sizes; "" or
// "none" is the empty list.
type sizesFlag struct{ v *[]int }

func (f sizesFlag) String() string {
	if f.v == nil {
		return ""
	}
	s := make([]string, len(*f.v))
	for i, n := range *f.v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func (f sizesFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		*f.v = nil
		return nil
	}
	var sizes []int
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 {
			return fmt.Errorf("%s is not a layer size: want positive whole numbers separated by commas, such as 64,32 (or none)", excerpt.Quote(part))
		}
		sizes = append(sizes, n)
	}
	*f.v = sizes
	return nil
}

// enum is an enumerated type of package nn, such as nn.Method, whose
// values 0, 1, … have names.
type enum interface {
	~int
	encoding.TextMarshaler
}

// names returns the names of the values of E, less those of skip: the
// choices of a flag whose values are of type E. They come from the
// package's table of names, so that a value added there is a choice here.
func names[E enum](skip ...E) []string {
	var s []string
	for e := E(0); ; e++ {
		name, err := e.MarshalText()
		if err != nil {
			return s
		}
		if !slices.Contains(skip, e) {
			s = append(s, string(name))
		}
	}
}

// headerUsage describes the -header flag of train, eval and predict, which
// all detect a header as nn.ReadCSV does.
var headerUsage = "header `mode`: " + orList(names[nn.Header]()) + "; auto takes the first row for a header if it names the target or a field other than the target is not a number"

// rowFlags are the flags of eval and predict that say which model scores
// which rows.
type rowFlags struct {
	model, data string
	header      nn.Header
	precision   nn.Precision
}

// register defines the flags -model, -data (described by dataUsage),
// -header and -precision on fs.
func (f *rowFlags) register(fs *flag.FlagSet, dataUsage string) {
	fs.StringVar(&f.model, "model", "", "the model `file` written by nn train (required)")
	fs.StringVar(&f.data, "data", "", dataUsage)
	fs.TextVar(&f.header, "header", f.header, headerUsage)
	fs.TextVar(&f.precision, "precision", f.precision, precisionUsage)
}

// precisionUsage describes the -precision flag of predict, eval and serve.
var precisionUsage = "floating-point `type` of the network's forward pass: " + orList(names[nn.Precision]()) + "; float32 is faster, and suits a classifier trained with -precision float32 (a regression whose targets lie far from zero loses their digits in float32)"

// byteSize is a -max-memory flag: a number of bytes with an optional unit,
// K, M, G or T (also KiB, MiB, GiB, TiB) for powers of 1024, or KB, MB, GB
// or TB for powers of 1000.
type byteSize struct{ v *int64 }

var byteUnits = []struct {
	suffix string
	size   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

func (f byteSize) String() string {
	if f.v == nil {
		return ""
	}
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if *f.v >= u.size && *f.v%u.size == 0 {
			return strconv.FormatInt(*f.v/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(*f.v, 10)
}

func (f byteSize) Set(s string) error {
	x, ok := parseBytes(s)
	if !ok || !(x >= 1<<20) || x >= math.MaxInt64 { // MaxInt64 rounds up to 2⁶³ as a float64
		return errors.New("want a size of at least 1MiB, such as 512MiB or 8GiB")
	}
	*f.v = int64(x)
	return nil
}

// parseBytes reads a size in bytes with an optional unit of byteUnits,
// and reports whether s is one.
func parseBytes(s string) (float64, bool) {
	t := strings.TrimSpace(s)
	scale := 1.0
	for _, u := range byteUnits {
		if n, ok := strings.CutSuffix(t, u.suffix); ok {
			t, scale = strings.TrimSpace(n), u.size
			break
		}
	}
	x, err := strconv.ParseFloat(t, 64)
	return x * scale, err == nil
}

// memoryFlag defines -max-memory on fs, whose value is the memory budget
// of the command, nn.DefaultMemoryBudget unless given.
func memoryFlag(fs *flag.FlagSet) *int64 {
	v := new(int64)
	*v = nn.DefaultMemoryBudget
	fs.Var(byteSize{v}, "max-memory", "memory `budget` of one step: inputs that would need more (classes, layer widths, rows, model sizes, line lengths) are refused with an error before they are allocated; units K, M, G (powers of 1024) or KB, MB, GB")
	return v
}

// setMemoryBudget makes bytes the budget of the package nn, and a quarter
// more the soft memory limit of the Go runtime, which collects garbage more
// often near it: the program holds the results of steps that each keep
// within the budget, and a limit that live memory reaches would have the
// runtime collect without end.
func setMemoryBudget(bytes int64) {
	nn.SetMemoryBudget(bytes)
	debug.SetMemoryLimit(bytes + min(bytes/4, math.MaxInt64-bytes))
}

// holdData sets the garbage collector for a command that holds a table
// in memory: a collection when the heap has grown by a quarter (GOGC=25)
// rather than doubled, unless the environment sets GOGC. Reading CSV
// leaves a string per row behind (encoding/csv's), and with the default
// the heap would grow to twice the table before it is collected; the
// table itself is a few arrays of numbers, which the collector does not
// scan, so collecting more often costs almost nothing (nn train on
// 1,000,000 rows peaks at 176 MB, against 192 MB at GOGC=50 and 223 MB
// at the default, in the same time).
func holdData() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(25)
	}
}

// listFlag is a comma-separated list of names; "none" is the empty list,
// and "" (two double quotes) in the list is the empty name, which String
// writes so that a default with an empty name shows.
type listFlag struct{ v *[]string }

func (f listFlag) String() string {
	if f.v == nil {
		return ""
	}
	s := make([]string, len(*f.v))
	for i, name := range *f.v {
		s[i] = cmp.Or(name, `""`)
	}
	return strings.Join(s, ",")
}

func (f listFlag) Set(s string) error {
	if strings.TrimSpace(s) == "none" {
		*f.v = nil
		return nil
	}
	var list []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == `""` {
			part = ""
		}
		list = append(list, part)
	}
	*f.v = list
	return nil
}

// classWeightFlag is -class-weight: "balanced", or label=weight pairs
// separated by commas.
type classWeightFlag struct {
	weights  *map[string]float64
	balanced *bool
}

func (f classWeightFlag) String() string {
	if f.balanced != nil && *f.balanced {
		return "balanced"
	}
	return ""
}

func (f classWeightFlag) Set(s string) error {
	if strings.TrimSpace(s) == "balanced" {
		*f.balanced = true
		return nil
	}
	m := make(map[string]float64)
	for _, part := range strings.Split(s, ",") {
		label, w, ok := strings.Cut(part, "=")
		label = strings.TrimSpace(label)
		if !ok || label == "" {
			return fmt.Errorf("%s is not label=weight: want balanced, or pairs such as yes=2,no=1", excerpt.Quote(part))
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(w), 64)
		if err != nil || !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("the weight of %s is %s: want a finite number ≥ 0", excerpt.Quote(label), excerpt.Quote(strings.TrimSpace(w)))
		}
		m[label] = v
	}
	*f.weights = m
	return nil
}
