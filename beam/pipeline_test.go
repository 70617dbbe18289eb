package nnbeam

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralgo/nn/beam/internal/beamtest"
)

// TestIsLocal checks the one test of a local path against the paths that
// Beam's file systems take for local or not.
func TestIsLocal(t *testing.T) {
	for _, test := range []struct {
		path  string
		local bool
	}{
		{"data/a.csv", true},
		{"/tmp/a.csv", true},
		{"a.csv", true},
		{"", true},
		{"gs://bucket/a.csv", false},
		{"s3://bucket/dir/*.csv", false},
		{"xyz://b", false},
		{"://a.csv", true},           // no scheme before "://": Beam's default file system
		{"dir/a://b.csv", false},     // Beam reads "dir/a" as a scheme
		{"C:\\data\\a.csv", true},    // a drive letter is no scheme
		{"file:///tmp/a.csv", false}, // a scheme that Beam does not register
	} {
		if got := IsLocal(test.path); got != test.local {
			t.Errorf("IsLocal(%q) = %v, want %v", test.path, got, test.local)
		}
	}
}

// TestMatch checks that Match gives the files of a glob in the order of
// their names, without directories, and an error naming the glob if
// there are none.
func TestMatch(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.csv", "a.csv", "c.txt"} {
		beamtest.WriteFile(t, filepath.Join(dir, name), "x\n")
	}
	if err := os.Mkdir(filepath.Join(dir, "d.csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, err := Match(ctx, filepath.Join(dir, "*.csv"))
	if want := []string{filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")}; err != nil || !slices.Equal(got, want) {
		t.Errorf("Match(*.csv) = %q, %v; want %q", got, err, want)
	}
	for _, test := range []struct{ glob, want string }{
		{filepath.Join(dir, "*.json"), "nnbeam: no file matches " + filepath.Join(dir, "*.json")},
		{filepath.Join(dir, "d.csv"), "nnbeam: no file matches " + filepath.Join(dir, "d.csv")},
		{"", "nnbeam: an empty glob matches no file"},
		{"xyz://b/*.csv", `nnbeam: xyz://b/*.csv: file system scheme "xyz" not registered`},
	} {
		if _, err := Match(ctx, test.glob); err == nil || !strings.HasPrefix(err.Error(), test.want) {
			t.Errorf("Match(%q): got %v, want an error starting %q", test.glob, err, test.want)
		}
	}
}
