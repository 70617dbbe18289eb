// Package atomicfile replaces files atomically, so that a reader, or a
// program that crashes or is killed halfway, never sees a file in part.
package atomicfile

import (
	"io"
	"os"
	"path/filepath"
)

// Write replaces the file at path by what write writes. It writes to a
// temporary file in the same directory, syncs it, makes it mode 0644 and
// renames it over path, then syncs the directory so that the rename
// itself survives a crash where the system allows it. On error the
// temporary file is removed and path is left as it was. The errors of the
// file system are returned as they are (*fs.PathError and *os.LinkError,
// naming the temporary file), and those of write unchanged.
func Write(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
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
	if err := os.Chmod(tmp, 0o644); err != nil {
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
