// Package regular opens files that must be regular files, such as model
// files and certificates, without blocking on those that are not: a named
// pipe's open waits for a writer, and would hang a reload that reads it.
package regular

import (
	"fmt"
	"io/fs"
	"os"
)

// Open opens the file at path for reading, without blocking, and returns
// it with its FileInfo if it is a regular file. Another kind of file (a
// named pipe, a device, a directory) is closed again and refused with an
// *fs.PathError that names its kind, followed by why, if why is not "".
func Open(path, why string) (*os.File, fs.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|nonblock, 0)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		msg := "not a regular file but " + Kind(fi.Mode())
		if why != "" {
			msg += ": " + why
		}
		return nil, nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%s", msg)}
	}
	return f, fi, nil
}

// Kind names the type of a file that is not a regular file: "a named
// pipe (FIFO)", "a directory".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a file of mode " + m.String()
}
