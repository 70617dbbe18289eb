package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// names returns the names of the files in dir, sorted, dot files (the
// temporary ones) included.
func names(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := f.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	return all
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, data := range []string{"first", "second, longer than the first"} {
		if err := WriteFile(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != data {
			t.Errorf("file holds %q (%v), want %q", b, err, data)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("mode %v (%v), want 0644", fi.Mode().Perm(), err)
		}
	}
	if names := names(t, dir); !slices.Equal(names, []string{"f.json"}) {
		t.Errorf("directory holds %q, want f.json alone", names)
	}
}

// A write that fails half-way, and a rename that fails, leave the old file
// and no temporary file.
func TestWriteFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	if err := WriteFile(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	errDisk := errors.New("disk full")
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("half of the n"))
		return errDisk
	})
	if !errors.Is(err, errDisk) {
		t.Errorf("failing write: got error %v, want %v", err, errDisk)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("after a failing write the file holds %q, want %q", b, "old")
	}
	busy := filepath.Join(dir, "busy")
	if err := os.MkdirAll(filepath.Join(busy, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(busy, []byte("new")); err == nil {
		t.Error("renaming over a directory that is not empty: got no error")
	}
	if names := names(t, dir); !slices.Equal(names, []string{"busy", "f.json"}) {
		t.Errorf("directory holds %q, want busy and f.json", names)
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir", "f"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: got error %v, want os.ErrNotExist", err)
	}
}
