package nnbeam

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/neuralgo/nn/beam/internal/beamtest"
)

func init() {
	register.Function1x1(lineText)
}

// lineText formats a Line for passert.
func lineText(l Line) string { return l.String() + "|" + l.Text }

// TestReadLines reads files split into ranges shorter than some of their
// lines, so that ranges start inside lines, on line ends and past the
// last line, and checks that every line comes once with its number: in a
// plain file (read from the marks of the ranges before), one without a
// final newline and with CRLF, a gzip file (not split), and an empty one.
func TestReadLines(t *testing.T) {
	defer func(b, m int64) { splitBytes, markBytes = b, m }(splitBytes, markBytes)
	splitBytes, markBytes = 37, 53
	dir := t.TempDir()
	var want []any
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("%d,%s", i, strings.Repeat("x", i%23)))
	}
	plain := filepath.Join(dir, "a.txt")
	beamtest.WriteFile(t, plain, strings.Join(lines, "\n")+"\n")
	crlf := filepath.Join(dir, "b.txt")
	beamtest.WriteFile(t, crlf, strings.Join(lines[:50], "\r\n"))
	for i, l := range lines {
		want = append(want, fmt.Sprintf("%s:%d|%s", plain, i+1, l))
		if i < 50 {
			want = append(want, fmt.Sprintf("%s:%d|%s", crlf, i+1, l))
		}
	}
	gz := filepath.Join(dir, "c.txt.gz")
	f, err := os.Create(gz)
	if err != nil {
		t.Fatal(err)
	}
	w := gzip.NewWriter(f)
	w.Write([]byte(strings.Join(lines[:20], "\n") + "\n"))
	w.Close()
	f.Close()
	for i, l := range lines[:20] {
		want = append(want, fmt.Sprintf("%s:%d|%s", gz, i+1, l))
	}
	beamtest.WriteFile(t, filepath.Join(dir, "d.txt"), "")

	p, s := beam.NewPipelineWithRoot()
	got := beam.ParDo(s, lineText, ReadLines(s, filepath.Join(dir, "*")))
	passert.Equals(s, got, want...)
	ptest.RunAndValidate(t, p)
}
