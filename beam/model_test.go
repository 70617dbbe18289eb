package nnbeam

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neuralgo/nn/beam/internal/beamtest"
)

// TestReadModel reads a model file back, and checks that the errors of a
// file that cannot be read name it once, without the prefix of package nn.
func TestReadModel(t *testing.T) {
	dir := t.TempDir()
	path, want := beamtest.IrisModel(t, dir)
	ctx := context.Background()
	m, err := ReadModel(ctx, path)
	if err != nil || !slices.Equal(m.Network.Params(), want.Network.Params()) || !slices.Equal(m.Classes, want.Classes) {
		t.Fatalf("ReadModel: got %v, want the model saved", err)
	}
	missing := filepath.Join(dir, "missing.json")
	broken := filepath.Join(dir, "broken.json")
	beamtest.WriteFile(t, broken, `{"format": "github.com/neuralgo/nn model", "version": 1, "sizes": [4,3]`)
	for _, test := range []struct {
		path, want string
		is         error
	}{
		{missing, "nnbeam: model " + missing + ": no such file or directory", fs.ErrNotExist},
		{broken, "nnbeam: model " + broken + ": model is truncated", nil},
		{"xyz://b/m.json", `nnbeam: model xyz://b/m.json: file system scheme "xyz" not registered`, nil},
	} {
		_, err := ReadModel(ctx, test.path)
		if err == nil || !strings.HasPrefix(err.Error(), test.want) || (test.is != nil && !errors.Is(err, test.is)) {
			t.Errorf("ReadModel(%q): got %v, want an error starting %q", test.path, err, test.want)
		}
	}
}
