// Package atomicfile replaces files atomically, so that a reader, or a
// program that crashes or is killed halfway, never sees a file in part.
//
// The new contents go to a temporary file in the destination's directory,
// named .NAME.nn-tmp-PID-RANDOM after the destination and the writing
// process, which is synced and renamed over the destination. A temporary
// file left by a process that was killed is removed by the next write to
// the same destination.
package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Write replaces the file at path by what write writes. It writes to a
// temporary file in the same directory, syncs it, gives it the mode (and,
// where the process may, the owner) of the file it replaces, or mode 0644
// for a new file, and renames it over path, then syncs the directory so
// that the rename itself survives a crash where the system allows it. It
// refuses to replace a file that the process may not write, as cp would.
// On error the temporary file is removed and path is left as it was. The
// errors of the file system are returned as they are (*fs.PathError and
// *os.LinkError), and those of write unchanged.
func Write(path string, write func(io.Writer) error) (err error) {
	old, err := Check(path)
	if err != nil {
		return err
	}
	dir, base := split(path)
	removeStale(dir, base)
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close returns an error, which is of no interest
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if old != nil {
		mode = old.Mode().Perm()
		chown(tmp, old)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// Make the rename durable. Some systems cannot sync a directory; the
	// file is in place all the same.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteFile replaces the file at path by data, as Write does.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Check returns an error if Write could not replace the file at path: its
// directory does not exist or cannot be written, path is a directory, or
// the file exists and the process may not write it. It returns the
// information of the existing file, or nil if there is none. Check leaves
// nothing behind; a program calls it before a long computation whose
// result it will write.
func Check(path string) (fs.FileInfo, error) {
	old, err := os.Stat(path)
	switch {
	case err == nil && old.IsDir():
		return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("is a directory")}
	case err == nil:
		// Opening for writing, without truncating, asks the system what
		// it would allow.
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		f.Close()
	case errors.Is(err, fs.ErrNotExist):
		old = nil
	default:
		return nil, err
	}
	dir, base := split(path)
	f, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return nil, err
	}
	f.Close()
	os.Remove(f.Name())
	return old, nil
}

// split returns the directory of path ("." for none) and its base name.
func split(path string) (dir, base string) {
	dir, base = filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	return dir, base
}

// tempPrefix returns the start of the names of the temporary files of this
// process for the destination base: .base.nn-tmp-PID-.
func tempPrefix(base string) string {
	return "." + base + ".nn-tmp-" + strconv.Itoa(os.Getpid()) + "-"
}

// removeStale removes the temporary files for the destination base in dir
// that processes which no longer run have left.
func removeStale(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".nn-tmp-"
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pid, _, ok := strings.Cut(rest, "-")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n <= 0 || n == os.Getpid() || running(n) {
			continue
		}
		os.Remove(filepath.Join(dir, e.Name()))
	}
}
