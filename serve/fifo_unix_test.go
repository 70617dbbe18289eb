//go:build unix

package serve

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// within runs f and fails the test if it has not returned within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s still running after %v", what, d)
	}
}

// A model file replaced by a named pipe, whose open would wait for a
// writer, is refused as not a regular file by the poll, by Reload and
// by New, at once; the old model keeps serving, and Close returns.
func TestReloadFIFO(t *testing.T) {
	iris, _ := models(t)
	dir := t.TempDir()
	path := copyFile(t, iris, dir)
	s, ts := newTestServer(t, &Options{ReloadInterval: 5 * time.Millisecond}, ModelFile{"iris", path})
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the failed poll", func() bool {
		return metricValue(metricsText(t, ts.URL), `nn_serve_reloads_total{model="iris",result="failure"}`) == 1
	})
	var err error
	within(t, 5*time.Second, "Reload of a named pipe", func() { err = s.Reload() })
	if err == nil || !strings.Contains(err.Error(), path+": not a regular file but a named pipe") {
		t.Errorf("Reload of a named pipe: %v, want an error naming %s as not a regular file", err, path)
	}
	if r := post(t, ts.URL+"/invocations", `{"inputs": [[5.1, 3.5, 1.4, 0.2]]}`); r.status != 200 {
		t.Errorf("after a named pipe: %d %s", r.status, r.body)
	}
	within(t, 5*time.Second, "Close", func() { s.Close() })
	within(t, 5*time.Second, "New of a named pipe", func() { _, err = New([]ModelFile{{"iris", path}}, nil) })
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("New of a named pipe: %v, want not a regular file", err)
	}
	// A directory is no model file either.
	if _, err := New([]ModelFile{{"iris", dir}}, nil); err == nil || !strings.Contains(err.Error(), filepath.Base(dir)+": not a regular file but a directory") {
		t.Errorf("New of a directory: %v", err)
	}
}
