//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// deadPID returns the id of a process that ran and is gone, or skips the
// test if the system gave it to another process since.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Skipf("the id %d of a process that ended is taken again (%v)", pid, err)
	}
	return pid
}

// The temporary files of writers of this host whose process is gone are
// removed by the next write, however young; those of writers that run,
// of another host, of another destination, or whose names do not parse,
// are kept.
func TestStaleTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	dead := strconv.Itoa(deadPID(t))
	self := strconv.Itoa(os.Getpid())
	prefix := ".f.json.nn-tmp-" + host + "-"
	now, old := time.Now(), time.Now().Add(-time.Hour)
	for _, test := range []struct {
		what, name string
		mod        time.Time
		kept       bool
	}{
		{"killed writer", prefix + dead + "-1", now, false},
		{"killed writer, old", prefix + dead + "-2", old, false},
		{"this process", prefix + self + "-3", now, true}, // as a concurrent write's
		{"running process", prefix + strconv.Itoa(os.Getppid()) + "-4", now, true},
		{"another host", ".f.json.nn-tmp-elsewhere" + host + "-" + dead + "-5", now, true},
		{"another host, old", ".f.json.nn-tmp-elsewhere" + host + "-" + dead + "-6", old, true},
		{"another destination", ".g.json.nn-tmp-" + host + "-" + dead + "-7", now, true},
		{"no PID", prefix + "x" + dead + "-8", now, true},
		{"PID out of range", prefix + "99999999999-9", now, true},
		// This process's id, on a file older than the process: on
		// Linux, left by an earlier process of the same id.
		{"PID reused", prefix + self + "-10", old, runtime.GOOS != "linux" && runtime.GOOS != "android"},
	} {
		t.Run(test.what, func(t *testing.T) {
			p := filepath.Join(dir, test.name)
			if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(p, test.mod, test.mod); err != nil {
				t.Fatal(err)
			}
			if err := WriteFile(path, []byte("new")); err != nil {
				t.Fatal(err)
			}
			_, err := os.Stat(p)
			if kept := err == nil; kept != test.kept {
				t.Errorf("kept %v (%v), want %v", kept, err, test.kept)
			}
			os.Remove(p)
			if got, want := names(t, dir), []string{"f.json"}; !slices.Equal(got, want) {
				t.Errorf("directory holds %q, want %q", got, want)
			}
		})
	}
}

// startTime gives the start of this process, which began before the test
// and not long before, on Linux.
func TestStartTime(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the start of a process is read on Linux only")
	}
	start, ok := startTime(os.Getpid())
	// The margins: the boot time is given to the second, and a test
	// binary runs its tests within minutes.
	if now := time.Now(); !ok || start.After(now.Add(time.Second)) || start.Before(now.Add(-10*time.Minute)) {
		t.Errorf("startTime of this process: %v, %v; want a time shortly before %v", start, ok, now)
	}
	if _, ok := startTime(deadPID(t)); ok {
		t.Error("startTime of a process that is gone: got a time")
	}
}

// Writes of one destination at the same time, in one process, all
// succeed: none removes the temporary file of another.
func TestConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	var wg sync.WaitGroup
	errs := make(chan error, 8*20)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				errs <- WriteFile(path, []byte(strconv.Itoa(g*100+i)))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got, want := names(t, dir), []string{"f.json"}; !slices.Equal(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

// A destination that is not a regular file, which renaming would remove,
// is refused, and left in place.
func TestNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("fifo", link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link, os.DevNull} {
		if _, err := Check(path); err == nil {
			t.Errorf("Check(%s): no error", path)
		}
		// Writing stays in the test's directory: a failure must not
		// replace the system's own device.
		if path == os.DevNull {
			continue
		}
		if err := WriteFile(path, []byte("new")); err == nil {
			t.Errorf("WriteFile(%s): no error", path)
		}
	}
	if fi, err := os.Stat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe is gone: %v, %v", fi, err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("%s is gone: %v, %v", os.DevNull, fi, err)
	}
}
