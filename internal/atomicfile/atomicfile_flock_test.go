//go:build unix && !aix && !solaris

package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// A write holds the lock of its temporary file while it writes, and the
// temporary file of a writer whose PID is gone here but which holds its
// lock, as a writer in another PID namespace under the same host name
// does, is kept; once the lock is released, it is removed.
func TestTempLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	err := Write(path, func(w io.Writer) error {
		tmp := w.(*os.File).Name()
		if !strings.HasPrefix(filepath.Base(tmp), tempPrefix("f.json")) {
			t.Errorf("temporary file %s, want it to start %s", tmp, tempPrefix("f.json"))
		}
		f, err := os.Open(tmp)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := tryLock(f); !errors.Is(err, syscall.EWOULDBLOCK) {
			t.Errorf("locking the temporary file of a write: got %v, want EWOULDBLOCK", err)
		}
		_, err = io.WriteString(w, "new")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	other := filepath.Join(dir, ".f.json.nn-tmp-"+host+"-"+strconv.Itoa(deadPID(t))+"-1")
	if err := os.WriteFile(other, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	release := hold(other)
	if err := WriteFile(path, []byte("newer")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the temporary file of a writer holding its lock was removed: %v", err)
	}
	release()
	if err := WriteFile(path, []byte("newest")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temporary file of a gone writer, its lock released, is still there: %v", err)
	}
}
