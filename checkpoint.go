package nn

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/neuralgo/nn/internal/atomicfile"
	"github.com/neuralgo/nn/internal/excerpt"
)

// Checkpoint is the state of a training run after a finished epoch. Its
// exported fields are plain data so that it can be stored (see
// SaveCheckpoint) and given back as Settings.Resume.
type Checkpoint struct {
	// Epoch is the number of finished epochs.
	Epoch int
	// Method is the training method the state belongs to.
	Method Method
	// Params are the network's weights and biases, as Network.Params.
	Params []float64
	// Steps, Moment1 and Moment2 are the optimizer's state: the number of
	// steps (updates) taken, the momentum velocity or Adam's first moment, and
	// Adam's second moment (nil where the method has none).
	Steps            int
	Moment1, Moment2 []float64
	// Random is the state of the shuffling source.
	Random []byte
	// History is the report so far.
	History []Epoch
	// Best, BestEpoch, BestParams and Wait are the early-stopping state:
	// the best monitored value (the loss, or minus the accuracy under
	// MonitorAccuracy), its epoch and weights (nil unless kept), and the
	// epochs since it improved.
	Best       float64
	BestEpoch  int
	BestParams []float64
	Wait       int
	// Fingerprint identifies the network, data and settings of the run,
	// for Train to compare with those of a run that resumes it; nil in
	// checkpoints written before version 2 of the file format.
	Fingerprint *Fingerprint
	// Plateau is the state of a Plateau schedule, nil for the others
	// (version 3 of the file format).
	Plateau *PlateauState
	// DropoutRandom is the state of the source of dropout masks, nil
	// without dropout (version 3).
	DropoutRandom []byte
}

// PlateauState is the state of a Plateau schedule: the learning rate it
// has come to, the best monitored value, the epochs since it improved and
// the epochs of rest left.
type PlateauState struct {
	Rate     float64
	Best     float64
	Bad      int
	Cooldown int
}

// resume restores the state saved in c.
func (r *run) resume(c *Checkpoint, pcg *rand.PCG) error {
	n, t := r.net, r.trainer
	bad := func(what string) error {
		return fmt.Errorf("nn: cannot resume from the checkpoint: %s", what)
	}
	switch {
	// What the fingerprint tells comes first: it names every difference.
	case c.Fingerprint != nil && !r.s.ResumeChanged && c.Fingerprint.diff(r.fingerprint) != "":
		return fmt.Errorf("nn: cannot resume from the checkpoint: it was written with %s: %w", c.Fingerprint.diff(r.fingerprint), ErrResumeChanged)
	case c.Method != r.s.Method:
		return bad(fmt.Sprintf("it was written by method %v, not %v", c.Method, r.s.Method))
	case len(c.Params) != len(n.params):
		return bad(fmt.Sprintf("it holds %d parameters, the network has %d", len(c.Params), len(n.params)))
	case len(c.Moment1) != len(t.m) || len(c.Moment2) != len(t.v):
		return bad("its optimizer state does not fit the method")
	case c.Epoch < 0 || c.Epoch != len(c.History):
		return bad(fmt.Sprintf("epoch %d does not match its history of %d epochs", c.Epoch, len(c.History)))
	case r.keepBest && len(c.BestParams) != len(n.params):
		return bad("it holds no best weights to restore, or weights that do not fit the network; resume with the settings it was written with")
	}
	if err := pcg.UnmarshalBinary(c.Random); err != nil {
		return bad(fmt.Sprintf("random state: %v", err))
	}
	// The dropout source: restored when both have one; a run that turns
	// dropout on (with ResumeChanged; the fingerprint refuses it
	// otherwise) keeps its freshly seeded one. Checked before anything
	// of the network changes.
	if t.dropRNG != nil && c.DropoutRandom != nil {
		var probe rand.PCG
		if err := probe.UnmarshalBinary(c.DropoutRandom); err != nil {
			return bad(fmt.Sprintf("dropout random state: %v", err))
		}
		*t.dropRNG = probe
	}
	copy(n.params, c.Params)
	copy(r.epochStart, c.Params)
	t.t = c.Steps
	copy(t.m, c.Moment1)
	copy(t.v, c.Moment2)
	r.report.History = append(r.report.History[:0], c.History...)
	if len(c.History) > 0 {
		r.elapsed0 = c.History[len(c.History)-1].Elapsed
	}
	r.best, r.bestEpoch, r.wait = c.Best, c.BestEpoch, c.Wait
	if p := c.Plateau; p != nil {
		r.plateau = plateau{rate: p.Rate, best: p.Best, bad: p.Bad, cooldown: p.Cooldown}
	}
	if r.keepBest {
		copy(r.bestParams, c.BestParams)
	}
	t.load()
	return nil
}

// save passes the state after epoch e to the Checkpoint callback when one
// is due.
func (r *run) save(e int, last bool, pcg *rand.PCG) error {
	if r.s.CheckpointEvery == 0 || r.s.Checkpoint == nil || (e%r.s.CheckpointEvery != 0 && !last) {
		return nil
	}
	t, c := r.trainer, &r.checkpoint
	m1, m2, best := c.Moment1, c.Moment2, c.BestParams // reused
	rs, err := pcg.MarshalBinary()
	if err != nil {
		return err
	}
	*c = Checkpoint{
		Epoch:       e,
		Method:      r.s.Method,
		Params:      append(c.Params[:0], r.net.params...),
		Steps:       t.t,
		Random:      rs,
		History:     append(c.History[:0], r.report.History...),
		Best:        r.best,
		BestEpoch:   r.bestEpoch,
		Wait:        r.wait,
		Fingerprint: r.fingerprint,
	}
	if r.s.Schedule == Plateau {
		p := r.plateau
		c.Plateau = &PlateauState{Rate: p.rate, Best: p.best, Bad: p.bad, Cooldown: p.cooldown}
	}
	if t.dropRNG != nil {
		if c.DropoutRandom, err = t.dropRNG.MarshalBinary(); err != nil {
			return err
		}
	}
	if t.m != nil {
		c.Moment1 = append(m1[:0], t.m...)
	}
	if t.v != nil {
		c.Moment2 = append(m2[:0], t.v...)
	}
	if r.keepBest {
		c.BestParams = append(best[:0], r.bestParams...)
	}
	if err := r.s.Checkpoint(c); err != nil {
		// The error is the caller's, with its own prefix (SaveCheckpoint's
		// names the package and the file): add the place only.
		return fmt.Errorf("%w (checkpoint after epoch %d)", err, e)
	}
	return nil
}

// SaveCheckpoint writes c to the file at path as JSON, replacing the file
// atomically as Model.Save does. The document is one object:
//
//	{
//	  "format": "github.com/neuralgo/nn checkpoint",
//	  "version": 2,
//	  "epoch": 2,
//	  "method": "adam",
//	  "params": [0.52,-1.3,...],
//	  "steps": 10,
//	  "moment1": [0.01,-0.2,...],
//	  "moment2": [0.003,0.07,...],
//	  "random": "cGNnOhhF...",
//	  "history": [
//	    {"epoch":1,"loss":0.9,"val_loss":"NaN","val_accuracy":"NaN","learning_rate":0.001,"elapsed_ns":41000},
//	    {"epoch":2,"loss":0.8,"val_loss":"NaN","val_accuracy":"NaN","learning_rate":0.001,"elapsed_ns":79000}
//	  ],
//	  "best": 0.8,
//	  "best_epoch": 2,
//	  "best_params": null,
//	  "wait": 0,
//	  "fingerprint": {"sizes":[4,16,3],"activations":["relu","softmax"],"bias":true,
//	    "loss":"cross-entropy","data":"2c2b3a36...","method":"adam","learning_rate":0.01,...}
//	}
//
// with one field per field of Checkpoint, and of Fingerprint, whose field
// "data" is the digest in hexadecimal ("fingerprint" is null for none;
// version 1 files, which had no fingerprint, are read as well); "method",
// and the enumerated fields of the fingerprint, are names as Method.UnmarshalText
// and the like accept them, "elapsed_ns" is Epoch.Elapsed in nanoseconds, and
// a nil slice is written as null and an empty one as [] so that both read
// back as they were. JSON has no NaN or infinities, so the floats of
// history and best that are not finite are written as the strings "NaN",
// "+Inf" and "-Inf" (a NaN with other bits than math.NaN()'s as
// "NaN(0x7ff8000000000000)", its bits in hexadecimal), and every float
// reads back with the same bits. Params, Moment1, Moment2 and BestParams
// must be finite.
//
// SaveCheckpoint returns an error naming the path, and writes nothing, if c
// is not valid as LoadCheckpoint checks it or if its file would be longer
// than LoadCheckpoint reads under the current memory budget (an error
// wrapping ErrMemoryBudget; see CheckFiles), and the errors of the file
// system with the path ("nn: checkpoint.json: ..."). It panics if c is nil.
func SaveCheckpoint(path string, c *Checkpoint) error {
	write := func(w io.Writer) error { return writeCheckpoint(w, c) }
	err := checkCheckpoint(c)
	if err == nil {
		err = checkLength("checkpoint", checkpointMaxLength(c), write)
	}
	if err == nil {
		err = atomicfile.Write(path, write)
	}
	if err != nil {
		return fileError(path, err)
	}
	return nil
}

// LoadCheckpoint reads a checkpoint file written by SaveCheckpoint. It
// returns an error naming the path if the file is not a complete JSON
// document of the format described on SaveCheckpoint, version 1 or 2, or if
// the checkpoint is inconsistent: no params; moments or best params neither
// null nor as long as params; an epoch that differs from the length of the
// history; negative counts; a best epoch after the epoch; params, moments
// or best params that are not finite; or a fingerprint whose network does
// not have as many parameters as params, or whose data is not a SHA-256
// digest. The message has the path after the package's prefix ("nn:
// checkpoint.json: checkpoint is truncated ..."). A file larger than 1/20
// of the memory budget, or whose history is too long for it, is refused
// with an error wrapping ErrMemoryBudget before it is decoded (see
// SetMemoryBudget). Errors of reading the file are returned as they are.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readLimited(f, "checkpoint")
	if err != nil {
		return nil, fileError(path, err)
	}
	c, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fileError(path, err)
	}
	return c, nil
}

// decodeCheckpoint returns the checkpoint whose JSON document is data, or
// an error without the package's prefix.
func decodeCheckpoint(data []byte) (*Checkpoint, error) {
	if err := checkVersion(data, "checkpoint", checkpointFormat, checkpointVersion); err != nil {
		return nil, err
	}
	if err := checkHistoryLen(data); err != nil {
		return nil, err
	}
	var d checkpointJSON
	if err := decodeStrict(data, "checkpoint", &d); err != nil {
		return nil, err
	}
	switch {
	case d.Best == nil:
		return nil, errors.New(`checkpoint has no "best" field`)
	case d.Method == nil:
		return nil, errors.New(`checkpoint has no "method" field`)
	}
	c := &Checkpoint{
		Epoch:       d.Epoch,
		Method:      *d.Method,
		Params:      d.Params,
		Steps:       d.Steps,
		Moment1:     d.Moment1,
		Moment2:     d.Moment2,
		Random:      d.Random,
		Best:        float64(*d.Best),
		BestEpoch:   d.BestEpoch,
		BestParams:  d.BestParams,
		Wait:        d.Wait,
		Fingerprint: d.Fingerprint,
	}
	if d.DropRandom != nil {
		if d.Version < 3 {
			return nil, fmt.Errorf(`checkpoint version %d has a "dropout_random" field, which version 3 added`, d.Version)
		}
		c.DropoutRandom = d.DropRandom
	}
	if p := d.Plateau; p != nil {
		switch {
		case d.Version < 3:
			return nil, fmt.Errorf(`checkpoint version %d has a "plateau" field, which version 3 added`, d.Version)
		case p.Rate == nil || p.Best == nil:
			return nil, errors.New(`checkpoint plateau has no "rate" or no "best"`)
		case !(*p.Rate > 0) || math.IsInf(*p.Rate, 0) || math.IsNaN(float64(*p.Best)) || p.Bad < 0 || p.Cooldown < 0:
			return nil, fmt.Errorf("checkpoint plateau state is invalid: rate %v, best %v, bad %d, cooldown %d", *p.Rate, float64(*p.Best), p.Bad, p.Cooldown)
		}
		c.Plateau = &PlateauState{Rate: *p.Rate, Best: float64(*p.Best), Bad: p.Bad, Cooldown: p.Cooldown}
	}
	if d.History != nil {
		c.History = make([]Epoch, len(d.History))
		for i, e := range d.History {
			c.History[i] = Epoch{
				Epoch:        e.Epoch,
				Loss:         float64(e.Loss),
				ValLoss:      float64(e.ValLoss),
				ValAccuracy:  float64(e.ValAccuracy),
				LearningRate: float64(e.LearningRate),
				Elapsed:      time.Duration(e.Elapsed),
			}
		}
	}
	if err := checkCheckpoint(c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkHistoryLen returns an error wrapping ErrMemoryBudget if the history
// of data, a checkpoint's JSON document, has more epochs than the budget
// allows decoding: an epoch can take as few as 3 bytes of text ("{},") and
// takes 144 decoded, counting the growth of the slice it is decoded into.
func checkHistoryLen(data []byte) error {
	var head struct {
		History json.RawMessage `json:"history"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return jsonError(data, "checkpoint", err)
	}
	n := jsonArrayLen(head.History)
	perEpoch := 2*reflect.TypeFor[epochJSON]().Size() + reflect.TypeFor[Epoch]().Size()
	return overBudget(float64(n)*float64(perEpoch), fmt.Sprintf("checkpoint history of %d epochs", n))
}

// checkpointJSON is the JSON document of a Checkpoint.
type checkpointJSON struct {
	Format      string       `json:"format"`
	Version     int          `json:"version"`
	Epoch       int          `json:"epoch"`
	Method      *Method      `json:"method"`
	Params      []float64    `json:"params"`
	Steps       int          `json:"steps"`
	Moment1     []float64    `json:"moment1"`
	Moment2     []float64    `json:"moment2"`
	Random      jsonBytes    `json:"random"`
	History     []epochJSON  `json:"history"`
	Best        *jsonFloat   `json:"best"`
	BestEpoch   int          `json:"best_epoch"`
	BestParams  []float64    `json:"best_params"`
	Wait        int          `json:"wait"`
	Fingerprint *Fingerprint `json:"fingerprint"`
	Plateau     *plateauJSON `json:"plateau"`
	DropRandom  jsonBytes    `json:"dropout_random"`
}

type plateauJSON struct {
	Rate     *float64   `json:"rate"`
	Best     *jsonFloat `json:"best"`
	Bad      int        `json:"bad"`
	Cooldown int        `json:"cooldown"`
}

type epochJSON struct {
	Epoch        int       `json:"epoch"`
	Loss         jsonFloat `json:"loss"`
	ValLoss      jsonFloat `json:"val_loss"`
	ValAccuracy  jsonFloat `json:"val_accuracy"`
	LearningRate jsonFloat `json:"learning_rate"`
	Elapsed      int64     `json:"elapsed_ns"`
}

// writeCheckpoint writes the JSON document of c, which checkCheckpoint
// has found valid, to w.
func writeCheckpoint(w io.Writer, c *Checkpoint) error {
	o := newJSONObject(w)
	o.field("format", checkpointFormat)
	o.field("version", checkpointVersion)
	o.field("epoch", c.Epoch)
	o.field("method", c.Method)
	o.field("params", c.Params)
	o.field("steps", c.Steps)
	o.field("moment1", c.Moment1)
	o.field("moment2", c.Moment2)
	o.field("random", c.Random)
	var history []epochJSON
	if c.History != nil {
		history = make([]epochJSON, len(c.History))
		for i, e := range c.History {
			history[i] = epochJSON{
				Epoch:        e.Epoch,
				Loss:         jsonFloat(e.Loss),
				ValLoss:      jsonFloat(e.ValLoss),
				ValAccuracy:  jsonFloat(e.ValAccuracy),
				LearningRate: jsonFloat(e.LearningRate),
				Elapsed:      int64(e.Elapsed),
			}
		}
	}
	jsonRows(o, "history", history)
	o.field("best", jsonFloat(c.Best))
	o.field("best_epoch", c.BestEpoch)
	o.field("best_params", c.BestParams)
	o.field("wait", c.Wait)
	o.field("fingerprint", c.Fingerprint)
	if c.DropoutRandom != nil {
		o.field("dropout_random", jsonBytes(c.DropoutRandom))
	}
	if p := c.Plateau; p != nil {
		best := jsonFloat(p.Best)
		o.field("plateau", plateauJSON{Rate: &p.Rate, Best: &best, Bad: p.Bad, Cooldown: p.Cooldown})
	}
	return o.close()
}

// checkpointMaxLength returns an upper bound of the length of c's file,
// with every number at its longest.
func checkpointMaxLength(c *Checkpoint) int64 {
	numbers := len(c.Params) + len(c.Moment1) + len(c.Moment2) + len(c.BestParams)
	numbers += 10 * len(c.History)                         // six numbers and their names a line
	bytes := 2*(len(c.Random)+len(c.DropoutRandom)) + 4096 // base64, and the fields of the fingerprint
	if f := c.Fingerprint; f != nil {
		numbers += 2*len(f.Sizes) + len(f.Activations) + len(f.Dropout) + len(f.Data)
	}
	return int64(numbers)*maxNumberLength + int64(bytes)
}

// checkCheckpoint returns an error saying what is wrong if c is not a
// consistent checkpoint.
func checkCheckpoint(c *Checkpoint) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("checkpoint "+format, args...)
	}
	n := len(c.Params)
	switch {
	case !methods.valid(c.Method):
		return bad("method %v is unknown", c.Method)
	case n == 0:
		return bad("has no params")
	case c.Moment1 != nil && len(c.Moment1) != n:
		return bad("has %d moment1 values, want %d (one per param) or none", len(c.Moment1), n)
	case c.Moment2 != nil && len(c.Moment2) != n:
		return bad("has %d moment2 values, want %d (one per param) or none", len(c.Moment2), n)
	case c.BestParams != nil && len(c.BestParams) != n:
		return bad("has %d best params, want %d (one per param) or none", len(c.BestParams), n)
	case c.Epoch < 0:
		return bad("epoch is %d, want zero or more", c.Epoch)
	case c.Epoch != len(c.History):
		return bad("epoch is %d but its history holds %d epochs", c.Epoch, len(c.History))
	case c.Steps < 0:
		return bad("steps is %d, want zero or more", c.Steps)
	case c.Wait < 0:
		return bad("wait is %d, want zero or more", c.Wait)
	case c.BestEpoch < 0 || c.BestEpoch > c.Epoch:
		return bad("best epoch is %d, want one in [0, %d]", c.BestEpoch, c.Epoch)
	}
	if f := c.Fingerprint; f != nil {
		switch {
		case len(f.Sizes) < 2 || len(f.Activations) != len(f.Sizes)-1:
			return bad("fingerprint has %d sizes and %d activations, want those of a network", len(f.Sizes), len(f.Activations))
		case slices.ContainsFunc(f.Sizes, func(s int) bool { return s <= 0 }):
			return bad("fingerprint has sizes %s, want positive sizes", excerpt.List(f.Sizes))
		case paramCount(f.Sizes, f.Bias) != float64(n):
			return bad("fingerprint has a network of %.0f parameters, want %d (one per param)", paramCount(f.Sizes, f.Bias), n)
		case len(f.Data) != 2*sha256.Size || strings.Trim(f.Data, "0123456789abcdef") != "":
			return bad("fingerprint data is %s, want a SHA-256 digest in hexadecimal", excerpt.Quote(f.Data))
		}
	}
	for _, s := range []struct {
		name string
		x    []float64
	}{{"checkpoint params", c.Params}, {"checkpoint moment1", c.Moment1}, {"checkpoint moment2", c.Moment2}, {"checkpoint best params", c.BestParams}} {
		if err := checkFiniteSlice(s.name, s.x); err != nil {
			return err
		}
	}
	return nil
}
