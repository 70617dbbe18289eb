//go:build unix

package regular

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A regular file opens; a named pipe with no writer, a directory and a
// missing file are refused at once, with their kind.
func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, fi, err := Open(file, "")
	if err != nil || fi.Size() != 2 {
		t.Fatalf("Open of a regular file: %v", err)
	}
	f.Close()

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := Open(fifo, "a model file is read whole")
		done <- err
	}()
	select {
	case err := <-done:
		var pe *fs.PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), "not a regular file but a named pipe (FIFO): a model file is read whole") {
			t.Errorf("Open of a FIFO: got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open of a FIFO without a writer blocked")
	}
	if _, _, err := Open(dir, ""); err == nil || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("Open of a directory: got %v", err)
	}
	if _, _, err := Open(filepath.Join(dir, "none"), ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing file: got %v", err)
	}
}
