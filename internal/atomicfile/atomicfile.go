// Package atomicfile replaces files atomically, so that a reader, or a
// program that crashes or is killed halfway, never sees a file in part.
//
// The new contents go to a temporary file in the destination's directory,
// named .NAME.nn-tmp-HOST-PID-RANDOM after the destination and the writing
// host and process, which is synced and renamed over the destination. A
// destination that is a symbolic link is written through: the file it
// points to is replaced, and the link kept.
//
// # Temporary files of killed writers
//
// A write removes, as it starts, the temporary files for its destination
// that writers of this host (by name) which no longer run have left,
// however young: those whose process is gone, as the system says when
// asked for the process of their PID, or, on Linux, whose PID has been
// taken by a process that started after the file was last written. The
// temporary files of a writer that may still run are kept: those whose
// process runs and, where the system has flock (Linux, macOS, the BSDs),
// those whose lock is held; every write holds a lock on its temporary
// file until the rename, which tells writers in other PID namespaces
// under the same host name (containers sharing the directory) that it
// runs. So are the temporary files of writers this host cannot ask about:
// another host's, and a name that does not parse. None is removed for its
// age alone. Where a PID cannot be asked about (Windows), no temporary
// file is removed; where the start of a process is not known (other than
// Linux), a file whose PID a running process has taken is kept until that
// process ends.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
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
// refuses to replace a file that the process may not write, as cp would,
// and a destination that is not a regular file (a device such as
// /dev/null, a named pipe), which renaming would remove. If path is a
// symbolic link, the file it points to is replaced. On error the
// temporary file is removed and path is left as it was. The errors of the
// file system are returned as they are (*fs.PathError and
// *os.LinkError), and those of write unchanged.
//
// Before it writes, Write removes the temporary files for path that
// writers killed on this host left, however young, and keeps those of
// writers that may still run, as the package documentation says; it
// holds a lock on its own temporary file, where the system has flock,
// until the file is renamed or removed.
func Write(path string, write func(io.Writer) error) (err error) {
	old, err := Check(path)
	if err != nil {
		return err
	}
	if path, err = resolve(path); err != nil {
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
	// The lock tells other writers that this one runs; it is released
	// once the file is renamed or removed.
	defer hold(tmp)()
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
// directory does not exist or cannot be written, path is a directory or
// another file that is not a regular one, or the file exists and the
// process may not write it. It returns the information of the existing
// file, or nil if there is none. Check leaves nothing behind; a program
// calls it before a long computation whose result it will write.
func Check(path string) (fs.FileInfo, error) {
	path, err := resolve(path)
	if err != nil {
		return nil, err
	}
	old, err := os.Stat(path)
	switch {
	case err == nil && old.IsDir():
		return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("is a directory")}
	case err == nil && !old.Mode().IsRegular():
		return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("is not a regular file (a device or a pipe); the file is written whole, then renamed into place")}
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

// resolve returns the file that path names: path itself, or the target of
// the symbolic links it is, so that writing replaces the target and keeps
// the link. A link to nothing is an error, as its target's directory may
// not exist.
func resolve(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("is a symbolic link that cannot be followed: %w", err)}
	}
	return target, nil
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
// process for the destination base: .base.nn-tmp-HOST-PID-.
func tempPrefix(base string) string {
	return "." + base + ".nn-tmp-" + host + "-" + strconv.Itoa(os.Getpid()) + "-"
}

// host is the name of this host as temporary names hold it: letters,
// digits, dots and underscores, up to 64 bytes.
var host = func() string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		name = "unknown"
	}
	b := []byte(name[:min(len(name), 64)])
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}()

// removeStale removes the temporary files for the destination base in dir
// that writers of this host which no longer run have left, as the package
// documentation says.
func removeStale(dir, base string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := "." + base + ".nn-tmp-" + host + "-"
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pid, _, ok := strings.Cut(rest, "-")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n <= 0 || n > math.MaxInt32 {
			continue
		}
		fi, err := e.Info()
		if err != nil || !gone(n, fi.ModTime()) {
			continue
		}
		removeUnlocked(filepath.Join(dir, e.Name()))
	}
}
