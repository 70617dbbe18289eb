//go:build unix && !aix && !solaris

package atomicfile

import (
	"errors"
	"os"
	"syscall"
)

// hold takes an exclusive flock on the temporary file at path, until the
// returned function is called, to tell other writers that its writer
// runs: a lock is released when its process ends, whatever its PID and
// PID namespace. The lock is on a descriptor of its own, so that it
// outlives the closing of the file before its rename. A lock that cannot
// be taken, on a file system without locks, is done without.
func hold(path string) (release func()) {
	f, err := os.Open(path)
	if err != nil {
		return func() {}
	}
	if tryLock(f) != nil {
		f.Close()
		return func() {}
	}
	return func() { f.Close() }
}

// removeUnlocked removes the temporary file at path unless a writer holds
// its lock. A file that cannot be opened to try the lock, or on a file
// system without locks, is removed.
func removeUnlocked(path string) {
	if f, err := os.Open(path); err == nil {
		defer f.Close()
		if err := tryLock(f); errors.Is(err, syscall.EWOULDBLOCK) {
			return
		}
	}
	os.Remove(path)
}

// tryLock takes an exclusive flock on f without waiting, and returns
// EWOULDBLOCK if another descriptor holds one.
func tryLock(f *os.File) error {
	c, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := c.Control(func(fd uintptr) {
		lerr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
	}); err != nil {
		return err
	}
	return lerr
}
