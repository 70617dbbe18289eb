package tablegen

import (
	"bytes"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a, 1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, 1000, 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the same seed writes different tables")
	}
	lines := strings.Split(strings.TrimSuffix(a.String(), "\n"), "\n")
	if len(lines) != 1001 || lines[0]+"\n" != Header {
		t.Fatalf("%d lines starting %q, want a header and 1000 rows", len(lines), lines[0])
	}
	counts := map[string]int{}
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		if len(f) != 11 {
			t.Fatalf("row %q has %d fields, want 11", l, len(f))
		}
		counts[f[10]]++
	}
	for _, c := range []string{"a", "b", "c"} {
		if counts[c] < 150 {
			t.Errorf("class %s in %d of 1000 rows, want each class in at least 150", c, counts[c])
		}
	}
}
