package nn

// Training on tables larger than memory: a first pass over the CSV files
// learns what the model needs (categories, classes, the scaler, the fill
// of missing values) and writes the parsed rows to a binary cache; each
// epoch then reads the cache through a seeded shuffle buffer.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/neuralgo/nn/internal/excerpt"
)

// DefaultShuffleBuffer is the number of rows in the shuffle buffer of a
// Stream that does not set one.
const DefaultShuffleBuffer = 65536

// Stream is a table too large to hold in memory: CSV files read one after
// another as one table, whose rows FitStream trains on in passes.
//
// The first pass reads the files, checks every row (an error names the
// file, line and column, before any training), learns the categories,
// classes, scaler and fill values from the training rows, and writes the
// parsed rows to a binary cache, files of 8 bytes per value in CacheDir
// whose names are removed as soon as they are created (where the system
// allows; else when training ends), so that a program killed while it
// trains leaves no cache behind.
// Each epoch reads the cache in order through a shuffle buffer of
// ShuffleBuffer rows: a row read replaces one drawn at random from the
// buffer, which goes to the batch, so that rows are mixed within about
// ShuffleBuffer of their place in the files. (Rows sorted by class or
// time need a buffer of a good part of the table, or a shuffle of the
// files beforehand.) The draws come from the seed, so that a run is
// reproducible, and a checkpointed run resumes as it would have gone on.
//
// The validation rows (ValidationFraction) are chosen by their row number
// and the seed, not by their class, and are measured after every epoch
// from their own cache. Memory is bounded by the shuffle buffer, the
// batches and blocks of validation rows, not by the size of the table.
type Stream struct {
	// Files are the CSV files of the table, in order; a file whose name
	// ends in .gz is gzip-compressed. Each has the same columns in the
	// same order, and its own header if the options say so.
	Files []string
	// CSV are the options that read the files (nil for the zero ones).
	// CSVOptions.Classify and Target decide the task as for ReadCSV.
	CSV *CSVOptions
	// ShuffleBuffer is the number of rows of the shuffle buffer; zero
	// means DefaultShuffleBuffer.
	ShuffleBuffer int
	// CacheDir is the directory of the cache files of parsed rows; ""
	// means os.TempDir().
	CacheDir string
	// Wrap, if not nil, wraps the reader of each file in the first pass,
	// as nn train does to show how much of it has been read.
	Wrap func(r io.Reader, file string) io.Reader
	// Scanned, if not nil, is called after the first pass with what it
	// found; an error it returns ends FitStream before training, as nn
	// train does for a network whose model file would be too large.
	Scanned func(StreamScan) error
}

// StreamScan is what the first pass over a Stream found.
type StreamScan struct {
	// Train and Validation are the numbers of rows to train on and held
	// out for validation.
	Train, Validation int
	// Inputs and Outputs are the widths of the network's input (the
	// features, encoded) and output (the classes, or the targets).
	Inputs, Outputs int
	// Features, Target and Targets name the columns (Targets those of a
	// regression on several targets, nil for one), and Classes are the
	// class labels of a classifier, sorted.
	Features []string
	Target   string
	Targets  []string
	Classes  []string
}

// FitStream trains the classifier on the rows of s, with the first pass
// and cache that Stream describes, and sets c.Model and c.Report (HeldOut
// stays nil: the validation rows stay in the cache). The hyperparameters
// are those of Fit, but for Impute: a stream fills in a missing number
// with the mean (ImputeMean) only, and a missing category with the most
// frequent. Refit is not supported.
func (c *Classifier) FitStream(ctx context.Context, s *Stream) error {
	c.Model, c.Report, c.HeldOut, c.partial = nil, nil, nil, nil
	h, err := c.hyper()
	if err != nil {
		return err
	}
	m, report, err := fitStream(ctx, h, s, true)
	if report != nil {
		c.Model, c.Report = m, report
	}
	return err
}

// FitStream trains the regressor on the rows of s, as Classifier's
// FitStream does.
func (r *Regressor) FitStream(ctx context.Context, s *Stream) error {
	r.Model, r.Report, r.HeldOut, r.partial = nil, nil, nil, nil
	h, err := r.hyper()
	if err != nil {
		return err
	}
	m, report, err := fitStream(ctx, h, s, false)
	if report != nil {
		r.Model, r.Report = m, report
	}
	return err
}

func fitStream(ctx context.Context, h *hyper, s *Stream, classify bool) (*Model, *Report, error) {
	switch {
	case len(s.Files) == 0:
		return nil, nil, errors.New("nn: Stream has no Files")
	case s.ShuffleBuffer < 0:
		return nil, nil, fmt.Errorf("nn: Stream.ShuffleBuffer is %d, want a positive number of rows (or 0 for %d)", s.ShuffleBuffer, DefaultShuffleBuffer)
	case h.refit:
		return nil, nil, errors.New("nn: Refit trains twice on the rows in memory; FitStream does not support it")
	case h.impute != ImputeMean:
		return nil, nil, fmt.Errorf("nn: Impute %v needs every value of a column at once; FitStream fills in the mean (ImputeMean)", h.impute)
	}
	o := CSVOptions{}
	if s.CSV != nil {
		o = *s.CSV
	}
	if o.Classify != classify {
		if classify {
			return nil, nil, errors.New("nn: a Classifier's Stream reads class labels: set CSVOptions.Classify")
		}
		return nil, nil, errors.New("nn: a Regressor's Stream reads numeric targets: CSVOptions.Classify must be false")
	}
	dir := s.CacheDir
	if dir == "" {
		dir = os.TempDir()
	}
	sc := &streamScan{s: s, h: h, opts: o, dir: dir}
	defer sc.close() // whatever trainStream closed already
	if err := sc.scan(ctx); err != nil {
		return nil, nil, err
	}
	prep, err := sc.prepare()
	if err != nil {
		return nil, nil, err
	}
	outputs := len(sc.classes)
	if !classify {
		outputs = sc.targets
	}
	if s.Scanned != nil {
		scan := StreamScan{
			Train: sc.trainRows, Validation: sc.valRows, Inputs: prep.inputs(), Outputs: outputs,
			Features: slices.Clone(sc.features), Target: sc.target, Targets: slices.Clone(sc.targetNames), Classes: slices.Clone(sc.classes),
		}
		if err := s.Scanned(scan); err != nil {
			return nil, nil, err
		}
	}
	for label := range h.classWeights {
		if !slices.Contains(sc.classes, label) {
			return nil, nil, fmt.Errorf("nn: ClassWeights names the class %s, which the stream does not hold (classes: %s)", excerpt.Quote(label), excerpt.Quotes(sc.classes))
		}
	}
	net, err := New(h.config(prep.inputs(), outputs, classify))
	if err != nil {
		return nil, nil, err
	}
	train := &cacheSet{file: sc.trainCache.f, rows: sc.trainRows, prep: prep}
	var val passSet
	if sc.valRows > 0 {
		val = &cacheSet{file: sc.valCache.f, rows: sc.valRows, prep: prep, noWeights: true}
	}
	buffer := s.ShuffleBuffer
	if buffer == 0 {
		buffer = DefaultShuffleBuffer
	}
	report, err := trainStream(ctx, net, h.settings(h.epochs), train, val, min(buffer, sc.trainRows), sc.digest+"/"+prep.digest(sc.classes))
	if report == nil {
		return nil, nil, err
	}
	if prep.yScaler != nil {
		unscaleOutput(net, prep.yScaler)
	}
	m := &Model{Network: net, Scaler: prep.scaler, Encoding: prep.enc, Features: sc.features, Target: sc.target, Targets: sc.targetNames, Classes: slices.Clone(sc.classes)}
	if !sc.needEnc {
		m.Encoding = nil
	}
	return m, report, err
}

// isValidation reports whether data row i (0-based, over all the files)
// of a stream trained with seed is held out for validation, which a
// fraction frac of the rows are: a hash of the row number and the seed
// below frac of its range.
func isValidation(i int64, seed uint64, frac float64) bool {
	if frac <= 0 {
		return false
	}
	// SplitMix64 of the row number, keyed by the seed.
	z := uint64(i)*0x9e3779b97f4a7c15 + seed*0xbf58476d1ce4e5b9 + 0x6e6e2d76616c // "nn-val"
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11)/(1<<53) < frac
}
