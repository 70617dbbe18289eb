//go:build unix

package atomicfile

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// running reports whether a process with the given id runs: one that does
// not answers a signal 0 with ESRCH.
func running(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// chown gives the file at path the owner and group of old, where the
// process may (a process run by root saving over another user's file).
func chown(path string, old fs.FileInfo) {
	st, ok := old.Sys().(*syscall.Stat_t)
	if !ok || (int(st.Uid) == os.Geteuid() && int(st.Gid) == os.Getegid()) {
		return
	}
	os.Chown(path, int(st.Uid), int(st.Gid)) // best effort: only root may give a file away
}
