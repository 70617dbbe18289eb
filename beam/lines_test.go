package nnbeam

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
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
func lineText(l Line) string {
	if l.Err != "" {
		return l.String() + "|" + l.Text + "|" + l.Err
	}
	return l.String() + "|" + l.Text
}

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
	writeGzip(t, gz, strings.Join(lines[:20], "\n")+"\n")
	for i, l := range lines[:20] {
		want = append(want, fmt.Sprintf("%s:%d|%s", gz, i+1, l))
	}
	beamtest.WriteFile(t, filepath.Join(dir, "d.txt"), "")

	p, s := beam.NewPipelineWithRoot()
	got := beam.ParDo(s, lineText, ReadLines(s, filepath.Join(dir, "*")))
	passert.Equals(s, got, want...)
	ptest.RunAndValidate(t, p)
}

// TestReadLinesLong reads files with lines longer than the limit, some of
// them across many ranges, and checks that each comes as a Line with an
// Err and no Text, and that every other line comes once with its number:
// in a plain file, one with CRLF ending in a long line without a newline,
// and a gzip file.
func TestReadLinesLong(t *testing.T) {
	defer func(b, m, l int64) { splitBytes, markBytes, maxLineBytes = b, m, l }(splitBytes, markBytes, maxLineBytes)
	splitBytes, markBytes, maxLineBytes = 37, 53, 100
	dir := t.TempDir()
	long := func(i int) string { return fmt.Sprintf("%d,%s", i, strings.Repeat("é", 60+i)) } // over 100 bytes
	var lines []string
	tooLong := map[int]bool{} // index of a line in lines → over the limit
	for i := range 60 {
		switch {
		case i%7 == 3:
			lines = append(lines, long(i))
			tooLong[i] = true
		case i == 10:
			lines = append(lines, strings.Repeat("y", 100)) // the limit: read
		default:
			lines = append(lines, fmt.Sprintf("%d,%s", i, strings.Repeat("x", i%23)))
		}
	}
	var want []any
	add := func(path string, i int, l string) {
		if tooLong[i] {
			err := &longLineError{size: int64(len(l)), head: l[:64]}
			want = append(want, fmt.Sprintf("%s:%d||%s", path, i+1, err))
			return
		}
		want = append(want, fmt.Sprintf("%s:%d|%s", path, i+1, l))
	}
	plain := filepath.Join(dir, "a.txt")
	beamtest.WriteFile(t, plain, strings.Join(lines, "\n")+"\n")
	crlf := filepath.Join(dir, "b.txt")
	beamtest.WriteFile(t, crlf, strings.Join(lines[:25], "\r\n")) // ends in a long line
	for i, l := range lines {
		add(plain, i, l)
		if i < 25 {
			add(crlf, i, l)
		}
	}
	gz := filepath.Join(dir, "c.txt.gz")
	writeGzip(t, gz, strings.Join(lines[:20], "\n")+"\n")
	for i, l := range lines[:20] {
		add(gz, i, l)
	}

	p, s := beam.NewPipelineWithRoot()
	got := beam.ParDo(s, lineText, ReadLines(s, filepath.Join(dir, "*")))
	passert.Equals(s, got, want...)
	ptest.RunAndValidate(t, p)
}

// TestReadLineMemory reads a line of 64 MiB, 4096 times the limit, and
// checks that readLine reads past it without holding it: that it
// allocates less than 1 MiB, and that the lines around it come whole.
func TestReadLineMemory(t *testing.T) {
	defer func(l int64) { maxLineBytes = l }(maxLineBytes)
	maxLineBytes = 16 << 10
	const size = 64 << 20
	in := io.MultiReader(
		strings.NewReader("1,2\n"),
		io.LimitReader(repeatReader('x'), size),
		strings.NewReader("\r\n3,4\n"),
	)
	rd := bufio.NewReaderSize(in, 1<<16)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var got []string
	var total int64
	for {
		line, n, err := readLine(rd)
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			line = "error: " + err.Error()
		}
		got = append(got, line)
	}
	runtime.ReadMemStats(&after)
	want := []string{"1,2\n", fmt.Sprintf(`error: line longer than the limit of 16384 bytes: "%s"… (67108864 bytes)`, strings.Repeat("x", 64)), "3,4\n"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got lines %.200q, want %.200q", got, want)
	}
	if want := int64(4 + size + 2 + 4); total != want {
		t.Errorf("got %d bytes read, want %d", total, want)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("readLine allocated %d bytes for a line of %d, want less than 1 MiB", alloc, size)
	}
}

// repeatReader reads as an endless run of its byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// writeGzip writes text, gzip-compressed, to the file at path.
func writeGzip(t *testing.T, path, text string) {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(text))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
