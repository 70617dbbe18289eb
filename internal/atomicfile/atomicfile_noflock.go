//go:build !unix || aix || solaris

package atomicfile

import "os"

// hold does nothing where the system has no flock: a writer's temporary
// file is known to be in use by its PID alone.
func hold(path string) (release func()) { return func() {} }

// removeUnlocked removes the temporary file at path.
func removeUnlocked(path string) { os.Remove(path) }
