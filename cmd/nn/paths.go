package main

// The files nn train writes: checked to be writable and distinct before a
// long run starts.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/neuralgo/nn/internal/atomicfile"
)

// pathRole is a file flag of nn train and what its file holds.
type pathRole struct {
	flag, path, what string
	written          bool // the run writes the file
}

// checkDistinctPaths returns a usageError naming the two flags if two of
// the files of the run that must differ are the same file, so that no file
// of the run overwrites another: -checkpoint the training data, or -plot
// the checkpoint. Only -resume and -checkpoint may name the same file.
func checkDistinctPaths(f *trainFlags) error {
	roles := []pathRole{
		{"data", f.data, "the training data", false},
		{"resume", f.resume, "the checkpoint to resume from", false},
		{"o", f.out, "the model", true},
		{"checkpoint", f.checkpoint, "the checkpoint", true},
		{"plot", f.plot, "the plot", true},
	}
	for i, a := range roles {
		for _, b := range roles[i+1:] {
			if !a.written && !b.written || a.flag == "resume" && b.flag == "checkpoint" || !samePath(a.path, b.path) {
				continue
			}
			which := fmt.Sprintf("-%s and -%s both name %s", a.flag, b.flag, b.path)
			if a.path != b.path {
				which = fmt.Sprintf("-%s %s and -%s %s are the same file", a.flag, a.path, b.flag, b.path)
			}
			what := fmt.Sprintf("%s would overwrite %s", b.what, a.what) // b is written: roles list the read ones first
			if a.written {
				what = fmt.Sprintf("%s and %s would overwrite each other", a.what, b.what)
			}
			return &usageError{cmd: "train", msg: fmt.Sprintf("%s: %s; give them different names", which, what)}
		}
	}
	return nil
}

// samePath reports whether the paths a and b, if neither is empty, name
// the same file: the same path once cleaned and made absolute, or, when
// both exist, the same file by os.SameFile (another spelling, a symbolic
// or a hard link).
func samePath(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(fa, fb)
}

// checkWritable returns an error if the file at path could not be
// written: its directory is missing or cannot be written, path is a
// directory, or an existing file is read-only. A long training run thus
// does not end in a write error that could have been seen at the start.
func checkWritable(path string) error {
	if path == "" {
		return nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fileErrorf(path, "is a directory, not a file to write")
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return fileErrorf(path, "cannot write there: directory %s does not exist", dir)
	case !fi.IsDir():
		return fileErrorf(path, "cannot write there: %s is not a directory", dir)
	}
	if _, err := atomicfile.Check(path); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fileErrorf(path, "cannot write there: %v", err)
	}
	return nil
}
