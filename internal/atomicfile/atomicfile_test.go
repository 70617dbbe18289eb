package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
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

// A replaced file keeps its mode; a new one is 0644.
func TestKeepsMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows files have no Unix mode")
	}
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

// A symbolic link is written through: its target is replaced, the link
// kept; a link to nothing is refused.
func TestSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.json")
	link := filepath.Join(dir, "link.json")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("target.json", link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := WriteFile(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "new" {
		t.Errorf("target holds %q (%v), want %q", b, err, "new")
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v, %v", fi, err)
	}
	dangling := filepath.Join(dir, "dangling.json")
	if err := os.Symlink(filepath.Join("no", "such", "dir", "f.json"), dangling); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(dangling, []byte("new")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("writing through a dangling link: got %v, want fs.ErrNotExist", err)
	}
	if got, want := names(t, dir), []string{"dangling.json", "link.json", "target.json"}; !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}
