//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// A temporary file left by a process of this host that no longer runs is
// removed by the next write once it is a minute old; one of a running
// process, a younger one, or one of another host is not.
func TestStaleTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	dead := 1 << 22 // above the usual pid_max of 4,194,304
	if running(dead) {
		t.Fatalf("process %d runs", dead)
	}
	prefix := ".f.json.nn-tmp-" + host + "-"
	stale := prefix + strconv.Itoa(dead) + "-123"
	young := prefix + strconv.Itoa(dead+1) + "-124"
	live := prefix + strconv.Itoa(os.Getppid()) + "-456"
	otherHost := ".f.json.nn-tmp-elsewhere" + host + "-" + strconv.Itoa(dead) + "-125"
	other := ".g.json.nn-tmp-" + host + "-" + strconv.Itoa(dead) + "-789" // another destination's
	old := time.Now().Add(-2 * staleAge)
	for _, name := range []string{stale, young, live, otherHost, other} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		if name != young {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := WriteFile(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	want := []string{young, live, otherHost, other, "f.json"}
	slices.Sort(want)
	if got := names(t, dir); !slices.Equal(got, want) {
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
