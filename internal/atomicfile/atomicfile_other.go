//go:build !unix

package atomicfile

import (
	"io/fs"
	"time"
)

// gone reports that no process is known to be gone: without a portable
// way to ask, no temporary file is taken for stale.
func gone(pid int, mod time.Time) bool { return false }

// chown does nothing where files have no Unix owner.
func chown(path string, old fs.FileInfo) {}
