package main

// nn train -stream: training in passes over files larger than memory.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// trainStreamed runs nn train -stream with the checked flags f.
func trainStreamed(ctx context.Context, e *env, f *trainFlags) error {
	for _, path := range []string{f.out, f.checkpoint, f.plot} {
		if err := checkWritable(path); err != nil {
			return err
		}
	}
	files, err := f.streamFiles()
	if err != nil {
		return err
	}
	var resume *nn.Checkpoint
	if f.resume != "" {
		if resume, err = nn.LoadCheckpoint(f.resume); err != nil {
			return err
		}
		if f.epochs < resume.Epoch {
			return fileErrorf(f.resume, "the checkpoint has finished %d epochs, more than -epochs %d", resume.Epoch, f.epochs)
		}
	}
	est, err := f.estimator(nil, resume)
	if err != nil {
		return err
	}
	s := &nn.Stream{Files: files, CSV: f.csvOptions(), ShuffleBuffer: f.shuffleBuffer, CacheDir: f.cacheDir}
	s.Scanned = func(sc nn.StreamScan) error { return f.scanned(e, sc) }
	var reading []*readProgress
	var prog *progress
	if !f.quiet {
		s.Wrap = func(r io.Reader, file string) io.Reader {
			var size int64
			if fi, err := os.Stat(file); err == nil {
				size = fi.Size()
			}
			p := newReadProgress(e.stderr, e.stderrTTY, file, size, r)
			reading = append(reading, p)
			return p
		}
		start := time.Now()
		s.Scanned = func(sc nn.StreamScan) error {
			for _, p := range reading {
				p.done()
			}
			d := time.Since(start)
			n := sc.Train + sc.Validation
			fmt.Fprintf(e.stderr, "read %d rows of %s in %s (%.0f rows/s): %d to train on, %d held out for validation\n", n, filesText(files), roundDuration(d), float64(n)/d.Seconds(), sc.Train, sc.Validation)
			if err := f.scanned(e, sc); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "training a %s network (%s) by %v, batch %d, up to %d epochs, each reading the rows through a shuffle buffer of %d rows\n", joinInts(append(append([]int{sc.Inputs}, f.hidden...), sc.Outputs), "-"), f.activation, f.method, f.batch, f.epochs, min(f.shuffleBuffer, sc.Train))
			if resume != nil {
				fmt.Fprintf(e.stderr, "resuming after epoch %d from %s\n", resume.Epoch, f.resume)
			}
			return nil
		}
		prog = newProgress(e.stderr, e.stderrTTY, f.epochs, f.val > 0, f.task == "classify")
		est.setProgress(prog.epoch)
	}
	trainErr := est.fitStream(ctx, s)
	for _, p := range reading {
		p.done()
	}
	if prog != nil {
		prog.finish()
	}
	model, report, _ := est.fitted()
	if trainErr != nil && report == nil {
		if ctx.Err() != nil {
			return fmt.Errorf("nn: interrupted while reading %s", f.data)
		}
		if pe, ok := trainErr.(*nn.ParseError); ok {
			pe.Err = flagHints{pe.Err}
		}
		return trainErr
	}
	return f.finish(e, trainErr, model, report, nil)
}

// filesText names the files of a stream.
func filesText(files []string) string {
	if len(files) == 1 {
		return files[0]
	}
	return fmt.Sprintf("%d files (%s … %s)", len(files), files[0], files[len(files)-1])
}

// streamFiles returns the files of -data for -stream: the file it names,
// or else those its glob matches, sorted. None of them may be a file that
// the run writes, or the checkpoint it resumes from.
func (f *trainFlags) streamFiles() ([]string, error) {
	files := []string{f.data}
	if _, err := os.Stat(f.data); err != nil {
		if files, err = filepath.Glob(f.data); err != nil {
			return nil, &usageError{cmd: "train", msg: fmt.Sprintf("-data %s: %v", f.data, err)}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("nn: -data %s: no such file, and no file matches it as a pattern", f.data)
		}
		slices.Sort(files)
	}
	for _, file := range files {
		for _, r := range []pathRole{
			{"resume", f.resume, "the checkpoint to resume from", false},
			{"o", f.out, "the model", true},
			{"checkpoint", f.checkpoint, "the checkpoint", true},
			{"plot", f.plot, "the plot", true},
		} {
			if samePath(file, r.path) {
				what := "it would overwrite the training data"
				if !r.written {
					what = "a file cannot be both"
				}
				return nil, &usageError{cmd: "train", msg: fmt.Sprintf("-data %s takes %s, which -%s names as %s: %s; give them different names", f.data, file, r.flag, r.what, what)}
			}
		}
	}
	return files, nil
}

// scanned checks, after the first pass of -stream, what the table holds,
// as nn train does after reading a table in memory: names a model file
// can hold, the classes of -class-weight, a network whose files could be
// read back; and warns of a target of many classes.
func (f *trainFlags) scanned(e *env, sc nn.StreamScan) error {
	targets := sc.Targets
	if targets == nil {
		targets = []string{sc.Target}
	}
	if err := checkNameList(f.data, sc.Features, targets, sc.Classes); err != nil {
		return err
	}
	for c := range f.classWeights {
		if !slices.Contains(sc.Classes, c) {
			return &usageError{cmd: "train", msg: fmt.Sprintf("-class-weight names the class %s, which the target column %s does not hold (classes: %s)", excerpt.Quote(c), excerpt.Quote(sc.Target), excerpt.Quotes(sc.Classes))}
		}
	}
	if n := sc.Train + sc.Validation; !f.quiet && len(sc.Classes) > 20 && 2*len(sc.Classes) > n {
		fmt.Fprintf(e.stderr, "warning: the target column %s holds %d classes in %d rows; if it is a number to predict, use -task regress\n", excerpt.Quote(sc.Target), len(sc.Classes), n)
	}
	return f.checkSizes(sc.Inputs, sc.Outputs)
}
