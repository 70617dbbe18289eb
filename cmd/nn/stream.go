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
)

// trainStreamed runs nn train -stream with the checked flags f.
func trainStreamed(ctx context.Context, e *env, f *trainFlags) error {
	for _, path := range []string{f.out, f.checkpoint, f.plot} {
		if err := checkWritable(path); err != nil {
			return err
		}
	}
	files, err := filepath.Glob(f.data)
	if err != nil {
		return fmt.Errorf("nn: -data %s: %w", f.data, err)
	}
	if len(files) == 0 {
		if _, err := os.Stat(f.data); err != nil {
			return err
		}
		files = []string{f.data}
	}
	slices.Sort(files)
	var resume *nn.Checkpoint
	if f.resume != "" {
		if resume, err = nn.LoadCheckpoint(f.resume); err != nil {
			return err
		}
	}
	est, err := f.estimator(nil, resume)
	if err != nil {
		return err
	}
	s := &nn.Stream{Files: files, CSV: f.csvOptions(), ShuffleBuffer: f.shuffleBuffer, CacheDir: f.cacheDir}
	s.Scanned = func(sc nn.StreamScan) error { return f.checkSizes(sc.Inputs, sc.Outputs) }
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
			if err := f.checkSizes(sc.Inputs, sc.Outputs); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "training a %s network (%s) by %v, batch %d, up to %d epochs, each reading the rows through a shuffle buffer of %d rows\n", joinInts(append(append([]int{sc.Inputs}, f.hidden...), sc.Outputs), "-"), f.activation, f.method, f.batch, f.epochs, f.shuffleBuffer)
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
