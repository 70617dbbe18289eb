package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// A temporary file left by a process that no longer runs is removed by the
// next write; one of a running process is not.
func TestStaleTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	dead := 1 << 22 // above the usual pid_max of 4,194,304
	if running(dead) {
		t.Fatalf("process %d runs", dead)
	}
	stale := ".f.json.nn-tmp-" + strconv.Itoa(dead) + "-123"
	live := ".f.json.nn-tmp-" + strconv.Itoa(os.Getppid()) + "-456"
	other := ".g.json.nn-tmp-" + strconv.Itoa(dead) + "-789" // another destination's
	for _, name := range []string{stale, live, other} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	want := []string{live, other, "f.json"}
	slices.Sort(want)
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

// A replaced file keeps its mode; a new one is 0644.
func TestKeepsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	for _, mode := range []fs.FileMode{0o644, 0o600, 0o640} {
		if mode != 0o644 {
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
		}
		if err := WriteFile(path, []byte("data")); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("mode after the write: %v (%v), want %v", fi.Mode().Perm(), err, mode)
		}
	}
}

// Check finds what Write would fail on, and leaves nothing behind.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	if _, err := Check(dir); err == nil {
		t.Error("Check of a directory: no error")
	}
	if _, err := Check(filepath.Join(dir, "no", "f.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Check in a missing directory: got %v, want os.ErrNotExist", err)
	}
	path := filepath.Join(dir, "f.json")
	if old, err := Check(path); err != nil || old != nil {
		t.Errorf("Check of a new file: got %v, %v; want nil, nil", old, err)
	}
	if err := os.WriteFile(path, []byte("read only"), 0o444); err != nil {
		t.Fatal(err)
	}
	_, err := Check(path)
	werr := WriteFile(path, []byte("new"))
	b, _ := os.ReadFile(path)
	switch {
	case os.Geteuid() == 0:
		// root may write any file, as cp would.
		if err != nil || werr != nil || string(b) != "new" {
			t.Errorf("as root: Check %v, WriteFile %v, file %q; want nil, nil, %q", err, werr, b, "new")
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o444 {
			t.Errorf("as root: mode %v, want 0444 kept", fi.Mode().Perm())
		}
	default:
		if !errors.Is(err, fs.ErrPermission) || !errors.Is(werr, fs.ErrPermission) || string(b) != "read only" {
			t.Errorf("Check %v, WriteFile %v, file %q; want permission errors and the file unchanged", err, werr, b)
		}
	}
	if got := names(t, dir); !slices.Equal(got, []string{"f.json"}) {
		t.Errorf("directory holds %q, want f.json alone", got)
	}
}
