package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neuralgo/nn"
)

// chunkReader reads n bytes, at most size at a time.
type chunkReader struct{ n, size int }

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.n == 0 {
		return 0, io.EOF
	}
	k := min(c.n, c.size, len(p))
	for i := range k {
		p[i] = 'x'
	}
	c.n -= k
	return k, nil
}

// TestReadProgress reads a file through readProgress with a clock that
// moves on 60ms at every read: on a terminal the line is first drawn a
// redraw interval (100ms) after the first read, then at every other read,
// and blanked out at the end; off a terminal a large file gets one line
// before it is read, and a small one nothing.
func TestReadProgress(t *testing.T) {
	for i, test := range []struct {
		name  string
		tty   bool
		n     int   // bytes to read, 10 a read
		size  int64 // the file's size as the caller gives it
		width int
		want  string // the output, with each \r drawn
	}{
		// Reads at 60, 120, … 660ms (the last one at the end of the
		// file): drawn at 180, 300, 420, 540 and 660ms.
		{"terminal", true, 100, 100, 80,
			"\rreading d.csv: 30% (30 of 100 bytes)" +
				"\rreading d.csv: 50% (50 of 100 bytes)" +
				"\rreading d.csv: 70% (70 of 100 bytes)" +
				"\rreading d.csv: 90% (90 of 100 bytes)" +
				"\rreading d.csv: 100% (100 of 100 bytes)" +
				"\r" + strings.Repeat(" ", 38) + "\r"},
		{"terminal, size unknown", true, 40, 0, 80,
			"\rreading d.csv: 30 bytes" +
				"\rreading d.csv: 40 bytes" +
				"\r" + strings.Repeat(" ", 23) + "\r"},
		// 14 runes at most, on a terminal of 15 columns.
		{"narrow terminal", true, 40, 100, 15,
			"\rreading d.csv:" +
				"\rreading d.csv:" +
				"\r" + strings.Repeat(" ", 14) + "\r"},
		{"terminal, read at once", true, 10, 10, 80, ""},
		{"log, small file", false, 100, 100, 80, ""},
		{"log, large file", false, 100, largeFile + largeFile/2, 80, "reading d.csv (96.0 MiB)\n"},
	} {
		var b bytes.Buffer
		p := newReadProgress(&b, test.tty, "d.csv", test.size, &chunkReader{test.n, 10})
		clock := time.Unix(0, 0)
		p.now = func() time.Time { clock = clock.Add(60 * time.Millisecond); return clock }
		p.width = func() int { return test.width }
		got, err := io.ReadAll(p)
		p.done()
		if err != nil || len(got) != test.n {
			t.Fatalf("%d: %s: read %d bytes, %v; want %d", i, test.name, len(got), err, test.n)
		}
		if b.String() != test.want {
			t.Errorf("%d: %s: wrote\n%q\nwant\n%q", i, test.name, b.String(), test.want)
		}
	}
}

// TestReadCSVFileProgress reads a named pipe that pauses for longer than
// a redraw interval, on a terminal: the reading line is shown, and
// blanked out before the function returns; with quiet, nothing is.
func TestReadCSVFileProgress(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SKIPPED: named pipes as Linux has them")
	}
	for _, quiet := range []bool{false, true} {
		fifo := filepath.Join(t.TempDir(), "slow.csv")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		go func() {
			w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			defer w.Close()
			io.WriteString(w, "a,y\n1,2\n")
			time.Sleep(3 * redraw)
			io.WriteString(w, "3,4\n")
		}()
		var stderr bytes.Buffer
		e := &env{stderr: &stderr, stderrTTY: true}
		d, err := readCSVFile(context.Background(), e, fifo, &nn.CSVOptions{}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		if r, _ := d.X.Dims(); r != 2 {
			t.Errorf("quiet %v: %d rows, want 2", quiet, r)
		}
		out := stderr.String()
		switch {
		case quiet && out != "":
			t.Errorf("quiet: wrote %q, want nothing", out)
		case !quiet && (!strings.HasPrefix(out, "\rreading "+fifo+": ") || !strings.HasSuffix(out, " \r")):
			t.Errorf("wrote %q, want a line of reading, blanked out at the end", out)
		}
	}
}
