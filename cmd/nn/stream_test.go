package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/neuralgo/nn/internal/tablegen"
)

// TestTrainStream trains with -stream on a table split in two files, the
// second gzip-compressed, found by a glob, and checks that the model is
// that of the table in one file, that nn predict scores it well on other
// rows, that a resumed stream ends where an uninterrupted one does, and
// that a bad row deep in a file is an error at its place before training,
// which leaves no model file.
func TestTrainStream(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	if err := tablegen.Write(&b, 4000, 7); err != nil {
		t.Fatal(err)
	}
	whole := filepath.Join(dir, "whole.csv")
	os.WriteFile(whole, b.Bytes(), 0o644)
	lines := strings.SplitAfter(b.String(), "\n")
	os.Mkdir(filepath.Join(dir, "parts"), 0o755)
	os.WriteFile(filepath.Join(dir, "parts", "a.csv"), []byte(strings.Join(lines[:1500], "")), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(lines[0] + strings.Join(lines[1500:], "")))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "parts", "b.csv.gz"), gz.Bytes(), 0o644)

	common := []string{"train", "-stream", "-epochs", "6", "-patience", "0", "-shuffle-buffer", "500", "-cache-dir", dir}
	run := func(out string, args ...string) result {
		t.Helper()
		return mustRun(t, "", append(append(append([]string(nil), common...), "-o", filepath.Join(dir, out)), args...)...)
	}
	r := run("whole.json", "-data", whole)
	for _, want := range []string{`^read 4000 rows of .*whole\.csv in .*: \d+ to train on, \d+ held out for validation$`, `shuffle buffer of 500 rows$`, `^model written to`} {
		if !matchLine(r.stderr, want) {
			t.Errorf("stderr lacks a line matching %s:\n%s", want, r.stderr)
		}
	}
	run("parts.json", "-data", filepath.Join(dir, "parts", "*"), "-quiet")
	read := func(name string) []byte {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if !bytes.Equal(read("whole.json"), read("parts.json")) {
		t.Error("the table in two files gives another model than in one")
	}

	// Resumed after 3 epochs of 6.
	ck := filepath.Join(dir, "ck.json")
	run("part.json", "-data", whole, "-epochs", "3", "-checkpoint", ck, "-checkpoint-every", "3", "-quiet")
	run("resumed.json", "-data", whole, "-resume", ck, "-quiet")
	if !bytes.Equal(read("whole.json"), read("resumed.json")) {
		t.Error("the resumed stream's model differs from the uninterrupted one's")
	}

	// Scored by nn eval on other rows.
	b.Reset()
	tablegen.Write(&b, 2000, 8)
	test := filepath.Join(dir, "test.csv")
	os.WriteFile(test, b.Bytes(), 0o644)
	ev := mustRun(t, "", "eval", "-model", filepath.Join(dir, "whole.json"), "-data", test, "-json")
	if m := regexp.MustCompile(`"accuracy":\s*([0-9.]+)`).FindStringSubmatch(ev.stdout); m == nil || mustFloat(t, m[1]) < 0.9 {
		t.Errorf("nn eval of the streamed model: %.300s; want an accuracy ≥ 0.9", ev.stdout)
	}

	// A bad row in the second file.
	lines[3000] = "1,2,3,4,5,6,7,8,9,x10,a\n"
	os.WriteFile(filepath.Join(dir, "parts", "b.csv.gz"), nil, 0o644)
	os.Remove(filepath.Join(dir, "parts", "b.csv.gz"))
	os.WriteFile(filepath.Join(dir, "parts", "b.csv"), []byte(lines[0]+strings.Join(lines[1500:], "")), 0o644)
	bad := runNN(t, "", append(common, "-data", filepath.Join(dir, "parts", "*.csv"), "-o", filepath.Join(dir, "bad.json"))...)
	if want := `b.csv:1502:10: not a number: "x10"`; bad.code != 1 || !strings.Contains(bad.stderr, want) || strings.Contains(bad.stderr, "training a") {
		t.Errorf("a bad row: exit status %d, stderr\n%s\nwant status 1 and %q before any training", bad.code, bad.stderr, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("a stream with a bad row wrote a model")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "nn-stream-") {
			t.Errorf("the cache %s is left in -cache-dir", e.Name())
		}
	}

	big := runNN(t, "", append(common, "-data", whole, "-o", filepath.Join(dir, "big.json"), "-hidden", "2000,2000,2000,2000")...)
	if big.code != 1 || !strings.Contains(big.stderr, "the model file of a network of sizes [10 2000 2000 2000 2000 3]") || strings.Contains(big.stderr, "training a") {
		t.Errorf("a network whose model file predict could not read: exit status %d, stderr\n%s\nwant the error before any epoch", big.code, big.stderr)
	}

	for _, args := range [][]string{
		{"train", "-data", whole, "-o", "m.json", "-shuffle-buffer", "10"},
		{"train", "-data", whole, "-o", "m.json", "-stream", "-method", "lbfgs"},
		{"train", "-data", whole, "-o", "m.json", "-stream", "-impute", "median"},
	} {
		if r := runNN(t, "", args...); r.code != 2 {
			t.Errorf("nn %s: exit status %d, want 2 (usage); stderr %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

// matchLine reports whether a line of s matches the regular expression re.
func matchLine(s, re string) bool {
	x := regexp.MustCompile(re)
	for _, l := range strings.Split(s, "\n") {
		if x.MatchString(l) {
			return true
		}
	}
	return false
}

// TestTrainStreamRefuses checks what -stream refuses, and when: a glob
// that takes a file the run writes (a usage error, the file intact), a
// resume with other data preparation or fewer epochs than the checkpoint,
// a pattern that is not one, a class weight of a class the data lacks, a
// column name a model file cannot hold (before training), and gzip data
// cut short (at its line).
func TestTrainStreamRefuses(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	tablegen.Write(&b, 1000, 3)
	os.Mkdir(filepath.Join(dir, "p"), 0o755)
	part1, part2 := filepath.Join(dir, "p", "1.csv"), filepath.Join(dir, "p", "2.csv")
	os.WriteFile(part1, b.Bytes(), 0o644)
	os.WriteFile(part2, b.Bytes(), 0o644)
	glob := filepath.Join(dir, "p", "*.csv")
	r := runNN(t, "", "train", "-stream", "-data", glob, "-o", part2, "-quiet")
	if data, _ := os.ReadFile(part2); r.code != 2 || !strings.Contains(r.stderr, "would overwrite the training data") || !bytes.Equal(data, b.Bytes()) {
		t.Errorf("-o one of the files of -data: exit status %d, stderr %s", r.code, r.stderr)
	}
	ck := filepath.Join(dir, "ck.json")
	mustRun(t, "", "train", "-stream", "-data", part1, "-o", filepath.Join(dir, "m.json"), "-epochs", "2", "-checkpoint", ck, "-quiet")
	r = runNN(t, "", "train", "-stream", "-data", part1, "-o", filepath.Join(dir, "m.json"), "-epochs", "4", "-resume", ck, "-scale", "minmax", "-quiet")
	if r.code != 1 || !strings.Contains(r.stderr, "data digest") {
		t.Errorf("resuming with another scaling: exit status %d, stderr %s", r.code, r.stderr)
	}
	r = runNN(t, "", "train", "-stream", "-data", part1, "-o", filepath.Join(dir, "m.json"), "-epochs", "1", "-resume", ck, "-quiet")
	if r.code != 1 || !strings.Contains(r.stderr, "the checkpoint has finished 2 epochs, more than -epochs 1") {
		t.Errorf("resuming with fewer epochs: exit status %d, stderr %s", r.code, r.stderr)
	}
	for _, args := range [][]string{
		{"-data", filepath.Join(dir, "p", "[")},
		{"-data", part1, "-class-weight", "a=2,z=3"},
	} {
		r := runNN(t, "", append([]string{"train", "-stream", "-o", filepath.Join(dir, "m.json"), "-quiet"}, args...)...)
		if r.code != 2 {
			t.Errorf("nn train -stream %s: exit status %d, want 2; stderr %s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("x\xff,y,label\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n"), 0o644)
	r = runNN(t, "", "train", "-stream", "-data", bad, "-o", filepath.Join(dir, "m.json"), "-val", "0")
	if r.code != 1 || !strings.Contains(r.stderr, "is not valid UTF-8") || strings.Contains(r.stderr, "epoch 1") {
		t.Errorf("a column name that is not UTF-8: exit status %d, stderr %s", r.code, r.stderr)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(b.Bytes())
	zw.Close()
	cut := filepath.Join(dir, "cut.csv.gz")
	os.WriteFile(cut, gz.Bytes()[:gz.Len()/2], 0o644)
	r = runNN(t, "", "train", "-stream", "-data", cut, "-o", filepath.Join(dir, "m.json"), "-quiet")
	if r.code != 1 || !regexp.MustCompile(`cut\.csv\.gz:\d+: the gzip data is cut short or damaged here`).MatchString(r.stderr) {
		t.Errorf("gzip data cut short: exit status %d, stderr %s", r.code, r.stderr)
	}
}

// TestTrainStreamKilled kills nn train -stream while it trains, and checks
// that its cache left nothing in -cache-dir.
func TestTrainStreamKilled(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	os.Mkdir(cache, 0o755)
	var b bytes.Buffer
	tablegen.Write(&b, 50000, 9)
	data := filepath.Join(dir, "t.csv")
	os.WriteFile(data, b.Bytes(), 0o644)
	cmd := exec.Command(binary, "train", "-stream", "-data", data, "-o", filepath.Join(dir, "m.json"), "-cache-dir", cache, "-epochs", "1000", "-patience", "0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "training a") {
	}
	cmd.Process.Kill()
	cmd.Wait()
	if entries, _ := os.ReadDir(cache); len(entries) != 0 {
		t.Errorf("a killed run left %d files in -cache-dir: %v", len(entries), entries[0].Name())
	}
}
