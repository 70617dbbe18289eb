package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The hostile inputs of issue 9, each run by a plain (not race) build of nn
// as a child process under a virtual memory limit, so that an allocation
// that grows again fails the test rather than the machine. Each asserts the
// exit status, the one line on stderr, and a ceiling on the peak resident
// memory of the child.

var (
	plainOnce sync.Once
	plainDir  string // world-readable: the cases run as another user go there
	plainBin  string
	peakRSS   string // testdata/peakrss, built
	plainErr  error
)

// plainBinary builds nn without the race detector, whose memory use would
// hide what nn itself allocates, into a directory every user may read.
func plainBinary(t *testing.T) string {
	t.Helper()
	plainOnce.Do(func() {
		plainDir, plainErr = os.MkdirTemp("", "nn-hostile")
		if plainErr != nil {
			return
		}
		if plainErr = os.Chmod(plainDir, 0o755); plainErr != nil {
			return
		}
		plainBin, peakRSS = filepath.Join(plainDir, "nn"), filepath.Join(plainDir, "peakrss")
		for _, b := range [][2]string{{plainBin, "."}, {peakRSS, "./testdata/peakrss"}} {
			if out, err := exec.Command("go", "build", "-o", b[0], b[1]).CombinedOutput(); err != nil {
				plainErr = fmt.Errorf("building %s: %v\n%s", b[1], err, out)
				return
			}
		}
	})
	if plainErr != nil {
		t.Fatal(plainErr)
	}
	return plainBin
}

// removePlainBinary removes what plainBinary made, once the tests ran.
func removePlainBinary() {
	if plainDir != "" {
		os.RemoveAll(plainDir)
	}
}

// limited is the outcome of a run under a memory limit.
type limited struct {
	stdout, stderr string
	code           int
	maxRSS         int64 // peak resident memory in bytes
}

// vmLimitKB bounds the virtual memory of every case: the Go runtime
// reserves some 800 MB at the start, and the largest budget of a case is
// 4 GiB.
const vmLimitKB = 6 << 20

// runLimited runs nn with args and stdin in dir under the virtual memory
// limit, as the user nobody if asUser is set and the tests run as root,
// with stdout going to the file stdout if it is not nil, measuring its peak
// resident memory with testdata/peakrss.
func runLimited(t *testing.T, dir string, asUser bool, stdout *os.File, stdin string, args ...string) limited {
	t.Helper()
	rssFile := filepath.Join(dir, ".peakrss")
	sh := fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, vmLimitKB)
	plainBinary(t)
	cmd := exec.Command("sh", append([]string{"-c", sh, peakRSS, rssFile, plainBin}, args...)...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if asUser && os.Geteuid() == 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("nn %s: %v", strings.Join(args, " "), err)
	}
	b, err := os.ReadFile(rssFile)
	if err != nil {
		t.Fatalf("nn %s: no peak memory: %v; stderr:\n%s", strings.Join(args, " "), err, errb.String())
	}
	os.Remove(rssFile)
	rss, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return limited{out.String(), errb.String(), code, rss}
}

// runAsUser returns an error if the user nobody cannot run the plain
// binary and write in dir: a system that denies root the change of user,
// or a temporary directory that other users may not enter.
func runAsUser(dir string) error {
	cmd := exec.Command("sh", "-c", `"$0" help >/dev/null && touch probe && rm probe`, plainBin)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%v %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// hostileCase is one hostile input.
type hostileCase struct {
	name   string
	setup  func(t *testing.T, dir string) // writes the inputs into dir
	args   []string                       // of nn, run in dir
	stdin  string
	asUser bool // run as a user who may not write dir/ro
	full   bool // stdout is /dev/full
	code   int
	msg    string // regular expression that the one line of stderr matches; "" for none
	maxMB  int64  // ceiling of the peak resident memory
	check  func(t *testing.T, dir string, r limited)
}

func TestHostileInputs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPED: the memory ceilings use ulimit and getrusage as Linux has them")
	}
	plainBinary(t)
	for _, test := range hostileCases() {
		t.Run(test.name, func(t *testing.T) {
			// Under plainDir, which every user may enter, for the cases
			// run as another user.
			dir, err := os.MkdirTemp(plainDir, "case")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			copyFile(t, irisPath, filepath.Join(dir, "iris.csv"))
			if err := os.Mkdir(filepath.Join(dir, "ro"), 0o555); err != nil {
				t.Fatal(err)
			}
			if test.asUser && os.Geteuid() == 0 {
				if err := runAsUser(dir); err != nil {
					t.Skipf("SKIPPED: the case runs as the user nobody, who cannot run nn in %s here: %v", dir, err)
				}
			}
			if test.setup != nil {
				test.setup(t, dir)
			}
			var stdout *os.File
			if test.full {
				f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				stdout = f
			}
			r := runLimited(t, dir, test.asUser, stdout, test.stdin, test.args...)
			stderr := strings.TrimSuffix(r.stderr, "\n")
			if r.code != test.code {
				t.Errorf("exit status %d, want %d; stderr:\n%.2000s", r.code, test.code, r.stderr)
			}
			switch {
			case test.msg == "" && stderr != "":
				t.Errorf("stderr %q, want nothing", stderr)
			case test.msg != "" && (strings.Contains(stderr, "\n") || !regexp.MustCompile(test.msg).MatchString(stderr)):
				t.Errorf("stderr is\n\t%.2000s\nwant one line matching\n\t%s", stderr, test.msg)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stderr shows a panic:\n%.2000s", r.stderr)
			}
			t.Logf("exit status %d, peak resident memory %d MB", r.code, r.maxRSS>>20)
			if r.maxRSS > test.maxMB<<20 {
				t.Errorf("peak resident memory %d MB, want at most %d MB", r.maxRSS>>20, test.maxMB)
			}
			if test.check != nil {
				test.check(t, dir, r)
			}
		})
	}
}

func hostileCases() []hostileCase {
	irisTrain := []string{"train", "-data", "iris.csv", "-target", "species", "-quiet"}
	train := func(args ...string) []string { return append(append([]string(nil), irisTrain...), args...) }
	return []hostileCase{
		{
			name:  "40,000 labels",
			setup: func(t *testing.T, dir string) { writeLabels(t, filepath.Join(dir, "labels.csv"), 40000) },
			args:  []string{"train", "-data", "labels.csv", "-target", "label", "-o", "m.json"},
			code:  1, maxMB: 100,
			msg: `^nn: labels\.csv: 40000 rows of 1 features and one-hot targets over 40000 classes: 11\.9 GiB needed, over the memory budget of 4\.0 GiB \(-max-memory raises the budget\)$`,
		},
		{
			name:  "20,000 labels",
			setup: func(t *testing.T, dir string) { writeLabels(t, filepath.Join(dir, "labels.csv"), 20000) },
			args:  []string{"train", "-data", "labels.csv", "-target", "label", "-o", "m.json", "-quiet"},
			code:  1, maxMB: 200,
			msg: `^nn: training a network of 660064 parameters by adam on 20000 rows: 4\.3 GiB needed, over the memory budget of 4\.0 GiB \(-max-memory raises the budget\)$`,
		},
		{
			name: "-stream on a column of identifiers",
			setup: func(t *testing.T, dir string) {
				var b strings.Builder
				b.WriteString("id,x,label\n")
				for i := range 300000 {
					fmt.Fprintf(&b, "customer-%09d,%d,%c\n", i, i%7, 'a'+i%2)
				}
				if err := os.WriteFile(filepath.Join(dir, "ids.csv"), []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			args: []string{"train", "-stream", "-data", "ids.csv", "-o", "m.json", "-quiet", "-max-memory", "16MiB"},
			code: 1, maxMB: 100,
			msg: `^nn: ids\.csv:\d+: the categories and classes of the \d+ rows up to this one: .* over the memory budget of 16\.0 MiB; a column of identifiers has a category per row: drop it \(-max-memory raises the budget\)$`,
		},
		{
			name: "-stream with a missing -cache-dir",
			args: train("-o", "m.json", "-stream", "-cache-dir", "nowhere"),
			code: 1, maxMB: 60,
			msg: `^nn: the cache of the stream: .*nowhere.*: no such file or directory$`,
		},
		{
			name: "-hidden 100000000",
			args: train("-o", "m.json", "-hidden", "100000000"),
			code: 1, maxMB: 60,
			msg: `^nn: Config\.Sizes \[4 100000000 3\] make 800000003 parameters, more than the 268435456 that a model file holds: invalid network configuration$`,
		},
		{
			name: "-hidden 20000,20000",
			args: train("-o", "m.json", "-hidden", "20000,20000"),
			code: 1, maxMB: 60,
			msg: `^nn: Config\.Sizes \[4 20000 20000 3\] make 400180003 parameters, more than the 268435456`,
		},
		{
			name: "a legal network over the budget",
			args: train("-o", "m.json", "-hidden", "33000000", "-max-memory", "1GiB"),
			code: 1, maxMB: 60,
			msg: `^nn: the 264000003 parameters of a network of sizes \[4 33000000 3\]: 2\.0 GiB needed, over the memory budget of 1\.0 GiB`,
		},
		{
			name: "training buffers over the budget",
			args: train("-o", "m.json", "-hidden", "2000000", "-max-memory", "1GiB"),
			code: 1, maxMB: 200,
			msg: `^nn: the model file of a network of sizes \[4 2000000 3\], 16000003 parameters, could be larger than 51\.2 MiB, the 1/20 of the memory budget of 1\.0 GiB`,
		},
		{
			name: "a wide model predicts in blocks",
			setup: func(t *testing.T, dir string) {
				writeWideModel(t, filepath.Join(dir, "wide.json"), 80000, "0.1")
				writeRows(t, filepath.Join(dir, "rows.csv"), 1050, "")
			},
			args: []string{"predict", "-model", "wide.json", "-data", "rows.csv", "-max-memory", "64MiB"},
			code: 0, maxMB: 150,
			check: func(t *testing.T, dir string, r limited) {
				if n := strings.Count(r.stdout, "\n"); n != 1050 {
					t.Errorf("%d predictions, want 1050", n)
				}
			},
		},
		{
			name: "a row of a million fields",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "wide.csv"), strings.Repeat("a,", 1e6)+"y\n1\n")
			},
			args: []string{"train", "-data", "wide.csv", "-o", "m.json", "-max-memory", "128MiB"},
			code: 1, maxMB: 100,
			msg: `^nn: wide\.csv:1: the row is longer than 512\.0 KiB, the most that one row may take under the memory budget of 128\.0 MiB: over the memory budget`,
		},
		{
			name: "a bad row after 1,000 good ones",
			setup: func(t *testing.T, dir string) {
				trainIris(t, dir)
				writeRows(t, filepath.Join(dir, "bad.csv"), 1000, "1,2,oops,4\n")
			},
			args: []string{"predict", "-model", "iris.json", "-data", "bad.csv"},
			code: 1, maxMB: 60,
			msg: `^nn: bad\.csv:1002:3: not a number: "oops" \(column "petal_length"\)$`,
			check: func(t *testing.T, dir string, r limited) {
				if n := strings.Count(r.stdout, "\n"); n != 1000 {
					t.Errorf("%d predictions before the bad row, want 1000", n)
				}
			},
		},
		{
			name:   "-o in a directory the user cannot write",
			args:   []string{"train", "-data", "iris.csv", "-target", "species", "-o", "ro/m.json", "-epochs", "3000"},
			asUser: true,
			code:   1, maxMB: 60,
			msg: `^nn: ro/m\.json: cannot write there: permission denied$`,
		},
		{
			name:   "-checkpoint in a directory the user cannot write",
			args:   train("-o", "m.json", "-checkpoint", "ro/ck.json", "-epochs", "3000"),
			asUser: true,
			code:   1, maxMB: 60,
			msg: `^nn: ro/ck\.json: cannot write there: permission denied$`,
		},
		{
			name:   "a read-only model file",
			setup:  func(t *testing.T, dir string) { writeFileMode(t, filepath.Join(dir, "m.json"), "old", 0o444) },
			args:   train("-o", "m.json"),
			asUser: true,
			code:   1, maxMB: 60,
			msg: `^nn: m\.json: cannot write there: permission denied$`,
		},
		{
			name: "a saved model keeps the mode of the file it replaces",
			setup: func(t *testing.T, dir string) {
				writeFileMode(t, filepath.Join(dir, "m.json"), "old", 0o640)
				// The temporary file of a save that was killed, two
				// minutes ago.
				stale := filepath.Join(dir, staleTemp(t, "m.json"))
				writeFile(t, stale, "half a model")
				old := time.Now().Add(-2 * time.Minute)
				if err := os.Chtimes(stale, old, old); err != nil {
					t.Fatal(err)
				}
			},
			args: train("-o", "m.json", "-epochs", "5"),
			code: 0, maxMB: 60,
			check: func(t *testing.T, dir string, r limited) {
				if fi, err := os.Stat(filepath.Join(dir, "m.json")); err != nil || fi.Mode().Perm() != 0o640 {
					t.Errorf("model file mode %v (%v), want 0640", fi.Mode().Perm(), err)
				}
				if _, err := os.Stat(filepath.Join(dir, staleTemp(t, "m.json"))); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the stale temporary file is still there (%v)", err)
				}
			},
		},
		{
			name: "a network over the parameter limit",
			args: train("-o", "m.json", "-hidden", "20000,14000"),
			code: 1, maxMB: 60,
			msg: `^nn: Config\.Sizes \[4 20000 14000 3\] make 280156003 parameters, more than the 268435456 that a model file holds`,
		},
		{
			name:  "eval > /dev/full",
			setup: trainIris,
			args:  []string{"eval", "-model", "iris.json", "-data", "iris.csv"},
			full:  true,
			code:  1, maxMB: 60,
			msg: `^nn: /dev/stdout: no space left on device$`,
		},
		{
			name: "a 100,000-byte field",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "f.csv"), "a,b,y\n1,"+strings.Repeat("z", 1e5)+",3\n2,5,4\n")
			},
			args: []string{"train", "-data", "f.csv", "-task", "regress", "-o", "m.json"},
			code: 1, maxMB: 60,
			msg: `^nn: f\.csv:2:2: not a number: "z{64}"… \(100000 bytes\) \(column "b"\), in a column of numbers`,
		},
		{
			name: "line endings of CR alone",
			setup: func(t *testing.T, dir string) {
				b, err := os.ReadFile(irisPath)
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, "cr.csv"), strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\r"), "\n", "\r"))
			},
			args: []string{"train", "-data", "cr.csv", "-target", "species", "-o", "m.json"},
			code: 1, maxMB: 60,
			msg: `^nn: cr\.csv:1: target column not found: "species" not among "sepal_length", .{0,200} and \d+ more \(the data ends its lines with a carriage return alone`,
		},
		{
			name:  "-resume with another -lr",
			setup: checkpoint30,
			args:  train("-o", "m.json", "-epochs", "40", "-patience", "0", "-checkpoint", "ck2.json", "-resume", "ck.json", "-lr", "0.5"),
			code:  1, maxMB: 60,
			msg: `^nn: cannot resume from the checkpoint: it was written with learning rate 0\.01, not 0\.5: the run differs from the checkpoint's \(-resume-changed continues all the same\)$`,
		},
		{
			name:  "-resume with another -seed and -hidden",
			setup: checkpoint30,
			args:  train("-o", "m.json", "-epochs", "40", "-patience", "0", "-checkpoint", "ck2.json", "-resume", "ck.json", "-seed", "2", "-hidden", "8"),
			code:  1, maxMB: 60,
			msg: `^nn: cannot resume from the checkpoint: it was written with network sizes \[4 32 3\], not \[4 8 3\]; data digest \w+, not digest \w+; seed 1, not 2: `,
		},
		{
			name:  "-epochs 10 on an epoch-30 checkpoint",
			setup: checkpoint30,
			args:  train("-o", "m.json", "-epochs", "10", "-patience", "0", "-checkpoint", "ck2.json", "-resume", "ck.json"),
			code:  1, maxMB: 60,
			msg: `^nn: ck\.json: the checkpoint has finished 30 epochs, more than -epochs 10$`,
		},
		{
			name: "Go number syntax in data",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "g.csv"), "a,b,y\n5_1,0x1p-2,1\n1,2,2\n")
			},
			args: []string{"train", "-data", "g.csv", "-task", "regress", "-o", "m.json", "-val", "0"},
			code: 1, maxMB: 60,
			msg: `^nn: g\.csv:2:1: not a number: "5_1" \(column "a"\), in a column of numbers \(1 of its 2 values are\); to read the column as categories, name it in -categorical, or to read the value as missing, list it in -missing$`,
		},
		{
			name: "eval ignores an extra text column",
			setup: func(t *testing.T, dir string) {
				trainIris(t, dir)
				b, err := os.ReadFile(irisPath)
				if err != nil {
					t.Fatal(err)
				}
				var s strings.Builder
				for i, l := range lines(strings.ReplaceAll(string(b), "\r", "")) {
					note := "note"
					if i == 0 {
						note = "remark"
					}
					s.WriteString(l + "," + note + "\n")
				}
				writeFile(t, filepath.Join(dir, "extra.csv"), s.String())
			},
			args: []string{"eval", "-model", "iris.json", "-data", "extra.csv"},
			code: 0, maxMB: 60,
			check: func(t *testing.T, dir string, r limited) {
				if !strings.Contains(r.stdout, "accuracy") {
					t.Errorf("eval printed no accuracy:\n%s", r.stdout)
				}
			},
		},
		{
			name: "a value that overflows when scaled",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "s.json"), `{"format":"github.com/neuralgo/nn model","version":1,"sizes":[1,1],"activations":["identity"],"bias":true,"loss":"squared-error","weights":[[1]],"biases":[[0]],"scaler":{"kind":"standard","offset":[0],"scale":[1e-300]},"features":["x"],"target":"y"}`)
			},
			args:  []string{"predict", "-model", "s.json"},
			stdin: "1e10\n",
			code:  1, maxMB: 60,
			msg: `^nn: <stdin>:1: feature "x" is \+Inf after scaling \(1e\+10 before\): non-finite value$`,
		},
		{
			// Checked pair by pair, 200,000 names take 2·10¹⁰ comparisons.
			name: "a header of 200,000 columns, the last a duplicate",
			setup: func(t *testing.T, dir string) {
				var b strings.Builder
				for j := range 200000 {
					fmt.Fprintf(&b, "c%d,", j)
				}
				b.WriteString("c0\n")
				b.WriteString(strings.Repeat("1,", 200000) + "x\n")
				writeFile(t, filepath.Join(dir, "wide.csv"), b.String())
			},
			args: []string{"train", "-data", "wide.csv", "-o", "m.json"},
			code: 1, maxMB: 80,
			msg: `^nn: wide\.csv:1:200001: duplicate column name: column "c0" also names column 1$`,
		},
		{
			name: "eval of a model of 40,000 classes",
			setup: func(t *testing.T, dir string) {
				writeManyClassModel(t, filepath.Join(dir, "many.json"), 40000)
				writeRows(t, filepath.Join(dir, "rows.csv"), 0, "")
				b, err := os.ReadFile(filepath.Join(dir, "rows.csv"))
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, "labelled.csv"), strings.TrimSuffix(string(b), "\n")+",species\n1,2,3,4,k7\n")
			},
			args: []string{"eval", "-model", "many.json", "-data", "labelled.csv"},
			code: 1, maxMB: 60,
			msg: `^nn: many\.json: scoring 40000 classes: 47\.7 GiB needed, over the memory budget of 4\.0 GiB \(-max-memory raises the budget\)$`,
		},
		{
			// 30 MB of "{}," that would decode to 1.3 GiB.
			name: "a checkpoint of 10,000,000 empty epochs",
			setup: func(t *testing.T, dir string) {
				checkpoint30(t, dir)
				b, err := os.ReadFile(filepath.Join(dir, "ck.json"))
				if err != nil {
					t.Fatal(err)
				}
				s := string(b)
				i, j := strings.Index(s, `"history": [`), strings.Index(s, `"best":`)
				if i < 0 || j < i {
					t.Fatalf("no history in the checkpoint:\n%.500s", s)
				}
				const n = 10000000
				s = strings.Replace(s[:i], `"epoch": 30`, fmt.Sprintf(`"epoch": %d`, n), 1) +
					`"history": [` + strings.Repeat("{},", n-1) + "{}],\n  " + s[j:]
				writeFile(t, filepath.Join(dir, "ck.json"), s)
			},
			args: train("-o", "m.json", "-resume", "ck.json", "-max-memory", "1GiB"),
			code: 1, maxMB: 150,
			msg: `^nn: ck\.json: checkpoint history of 10000000 epochs: 1\.3 GiB needed, over the memory budget of 1\.0 GiB \(-max-memory raises the budget\)$`,
		},
		{
			// 3.2 MB of "0," for 1,600,003 parameters, just under the
			// 1/20 of the budget of 64 MiB that a model file may take:
			// decoding it stays within the budget.
			name: "a model of short numbers under a small budget",
			setup: func(t *testing.T, dir string) {
				writeWideModel(t, filepath.Join(dir, "wide.json"), 200000, "0")
				writeRows(t, filepath.Join(dir, "rows.csv"), 3, "")
			},
			args: []string{"predict", "-model", "wide.json", "-data", "rows.csv", "-max-memory", "64MiB"},
			code: 0, maxMB: 100,
			check: func(t *testing.T, dir string, r limited) {
				if n := strings.Count(r.stdout, "\n"); n != 3 {
					t.Errorf("%d predictions, want 3", n)
				}
			},
		},
	}
}

// writeManyClassModel writes a model of one softmax layer from the four
// iris features to k classes, "k0", "k1", ….
func writeManyClassModel(t *testing.T, path string, k int) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `{"format":"github.com/neuralgo/nn model","version":1,"sizes":[4,%d],"activations":["softmax"],"bias":true,"loss":"cross-entropy","weights":[[`, k)
	b.WriteString(strings.TrimSuffix(strings.Repeat("0,", 4*k), ","))
	b.WriteString(`]],"biases":[[`)
	b.WriteString(strings.TrimSuffix(strings.Repeat("0,", k), ","))
	b.WriteString(`]],"features":["sepal_length","sepal_width","petal_length","petal_width"],"target":"species","classes":[`)
	for i := range k {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d"`, i)
	}
	b.WriteString("]}")
	writeFile(t, path, b.String())
}

// writeFile writes s to path, failing the test on error.
func writeFile(t *testing.T, path, s string) {
	t.Helper()
	writeFileMode(t, path, s, 0o644)
}

func writeFileMode(t *testing.T, path, s string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}

// writeLabels writes a classification file of n rows with n labels.
func writeLabels(t *testing.T, path string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("x,label\n")
	for i := range n {
		fmt.Fprintf(&b, "%d,L%d\n", i%7, i)
	}
	writeFile(t, path, b.String())
}

// writeRows writes n rows of iris features under a header, then last.
func writeRows(t *testing.T, path string, n int, last string) {
	t.Helper()
	rows := irisFeatureRows(t)
	var b strings.Builder
	b.WriteString("sepal_length,sepal_width,petal_length,petal_width\n")
	for i := range n {
		b.WriteString(rows[i%len(rows)] + "\n")
	}
	b.WriteString(last)
	writeFile(t, path, b.String())
}

// staleTemp returns the name of a temporary file that a save to base on
// this host by a process that no longer runs (pid 4194304, above the usual
// pid_max) would have left.
func staleTemp(t *testing.T, base string) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host = strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' {
			return r
		}
		return '_'
	}, host[:min(len(host), 64)])
	return "." + base + ".nn-tmp-" + host + "-4194304-1"
}

// writeWideModel writes an iris model with one hidden layer of width units,
// every weight the number weight.
func writeWideModel(t *testing.T, path string, width int, weight string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `{"format":"github.com/neuralgo/nn model","version":1,"sizes":[4,%d,3],"activations":["relu","softmax"],"bias":true,"loss":"cross-entropy","weights":[`, width)
	list := func(n int, v string) {
		b.WriteByte('[')
		b.WriteString(strings.TrimSuffix(strings.Repeat(v+",", n), ","))
		b.WriteByte(']')
	}
	list(4*width, weight)
	b.WriteByte(',')
	list(3*width, weight)
	b.WriteString(`],"biases":[`)
	list(width, "0")
	b.WriteString(`,[0,0,0]],"features":["sepal_length","sepal_width","petal_length","petal_width"],"target":"species","classes":["setosa","versicolor","virginica"]}`)
	writeFile(t, path, b.String())
}

// trainIris trains iris.json in dir.
func trainIris(t *testing.T, dir string) {
	t.Helper()
	if r := runLimited(t, dir, false, nil, "", "train", "-data", "iris.csv", "-target", "species", "-o", "iris.json", "-quiet"); r.code != 0 {
		t.Fatalf("training iris.json: %s", r.stderr)
	}
}

// checkpoint30 trains 30 epochs on iris in dir with the default flags,
// checkpointing to ck.json.
func checkpoint30(t *testing.T, dir string) {
	t.Helper()
	r := runLimited(t, dir, false, nil, "", "train", "-data", "iris.csv", "-target", "species", "-quiet", "-o", "m30.json", "-epochs", "30", "-patience", "0", "-checkpoint", "ck.json")
	if r.code != 0 {
		t.Fatalf("training 30 epochs: %s", r.stderr)
	}
}

// Ctrl-C while the data is read ends with a message, not a silent exit.
func TestInterruptWhileReading(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPED: named pipes and signals as Linux has them")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "data.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(plainBinary(t), "train", "-data", fifo, "-o", filepath.Join(dir, "m.json"), "-task", "regress")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "a,y\n1,2\n")
	// Interrupt the reader, then let it read on until it stops: the
	// signal reaches it in its own time.
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error)
	go func() { done <- cmd.Wait() }()
	for range 10000 {
		if _, err := io.WriteString(w, "3,4\n"); err != nil {
			break // nn closed the pipe
		}
		select {
		case err = <-done:
		case <-time.After(time.Millisecond):
			continue
		}
		break
	}
	w.Close()
	if err == nil {
		err = <-done
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "interrupted while reading") {
		t.Errorf("got %v, stderr %q; want exit status 1 and a message that reading was interrupted", err, stderr.String())
	}
}
