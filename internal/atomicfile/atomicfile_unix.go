//go:build unix

package atomicfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// gone reports whether the process pid, the writer of a temporary file
// last modified at mod, no longer runs: no process has that id (a signal
// 0 is answered with ESRCH), or, where the system says when a process
// started, the process that has it started after mod, its id reused. A
// process that the caller may not signal (EPERM) runs.
func gone(pid int, mod time.Time) bool {
	err := syscall.Kill(pid, 0)
	switch {
	case errors.Is(err, syscall.ESRCH):
		return true
	case err != nil && !errors.Is(err, syscall.EPERM):
		return false // no answer: it may run
	}
	start, ok := startTime(pid)
	// The margin covers the boot time, which the system gives to the
	// second.
	return ok && start.After(mod.Add(time.Second))
}

// clockTicks is the number of clock ticks in a second in which Linux
// gives the start of a process, USER_HZ, 100 on every architecture Go
// supports.
const clockTicks = 100

// startTime returns when the process pid started, on Linux, from
// /proc/PID/stat and /proc/stat; it returns false where the system does
// not say.
func startTime(pid int) (time.Time, bool) {
	if runtime.GOOS != "linux" && runtime.GOOS != "android" {
		return time.Time{}, false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return time.Time{}, false
	}
	// The command name, field 2, is in parentheses and may hold any
	// byte; after it come the state, field 3, and the start time, field
	// 22, in clock ticks after boot.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return time.Time{}, false
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 22-2 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(string(fields[22-3]), 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	boot, ok := bootTime()
	if !ok {
		return time.Time{}, false
	}
	return boot.Add(time.Duration(ticks) * (time.Second / clockTicks)), true
}

// bootTime returns when the system booted, to the second, from the line
// "btime SECONDS" of /proc/stat.
func bootTime() (time.Time, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for line := range bytes.SplitSeq(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			sec, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
			return time.Unix(sec, 0), err == nil
		}
	}
	return time.Time{}, false
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
