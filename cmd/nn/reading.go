package main

// Reading a data file, and showing how much of it has been read: a CSV
// file of a few hundred megabytes takes seconds to read, which a terminal
// should not spend silent.

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/ctxread"
)

// readCSVFile reads the CSV file at path with nn.ReadCSV and opts,
// stopping with an error if ctx is cancelled. Unless quiet, it shows on
// e.stderr how much of the file has been read (see readProgress). A
// *nn.ParseError gets the file's name, as nn.LoadCSV gives it.
func readCSVFile(ctx context.Context, e *env, path string, opts *nn.CSVOptions, quiet bool) (*nn.Dataset, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	var r io.Reader = ctxread.Reader{Ctx: ctx, R: file}
	var size int64
	if fi, err := file.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	if opts.SizeHint == 0 {
		o := *opts
		o.SizeHint = size
		opts = &o
	}
	if !quiet {
		p := newReadProgress(e.stderr, e.stderrTTY, path, size, r)
		// Blanked out before the caller writes an error or the banner.
		defer p.done()
		r = p
	}
	d, err := nn.ReadCSV(r, opts)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("nn: interrupted while reading %s", path)
	}
	if pe, ok := err.(*nn.ParseError); ok {
		pe.File = path
	}
	return d, err
}

// largeFile is the size from which a file is announced off a terminal.
const largeFile = 64 << 20

// readProgress is a reader that reports on w how much of a file has been
// read through it. On a terminal, once reading has taken a redraw
// interval, it draws a line "reading big.csv: 29% (45.0 of 155.0 MiB)",
// redrawn in place at most every redraw interval, and done blanks it out:
// a file read at once shows nothing. Elsewhere (a log), a file of at
// least largeFile bytes gets one line "reading big.csv (155.0 MiB)"
// before it is read, and a smaller one nothing.
type readProgress struct {
	r    io.Reader
	w    io.Writer
	tty  bool
	name string
	size int64 // the file's size in bytes; 0 if unknown, as for a pipe
	n    int64 // bytes read

	start    time.Time // the first read
	drawn    time.Time // when the line was last drawn
	drawnLen int       // runes of the line drawn, 0 if none is shown
	// now and width are the clock and the width of the terminal in
	// columns; tests set them.
	now   func() time.Time
	width func() int
}

// newReadProgress returns a reader of r, the file name of size bytes (0
// if unknown), that reports on w, a terminal if tty.
func newReadProgress(w io.Writer, tty bool, name string, size int64, r io.Reader) *readProgress {
	if !tty && size >= largeFile {
		fmt.Fprintf(w, "reading %s (%s)\n", name, sizeText(size))
	}
	return &readProgress{r: r, w: w, tty: tty, name: name, size: size, now: time.Now, width: func() int { return lineWidth(w) }}
}

func (p *readProgress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if !p.tty {
		return n, err
	}
	switch now := p.now(); {
	case p.start.IsZero():
		p.start, p.drawn = now, now
	case now.Sub(p.drawn) >= redraw:
		p.draw(now)
	}
	return n, err
}

// draw redraws the line, cut to the width of the terminal.
func (p *readProgress) draw(now time.Time) {
	s := fmt.Sprintf("reading %s: %s", p.name, sizeText(p.n))
	if p.size > 0 {
		s = fmt.Sprintf("reading %s: %d%% (%s of %s)", p.name, 100*min(p.n, p.size)/p.size, strings.TrimSuffix(sizeText(p.n), unit(p.size)), sizeText(p.size))
	}
	room := max(0, p.width()-1)
	if r := []rune(s); len(r) > room {
		s = string(r[:room])
	}
	n := utf8.RuneCountInString(s)
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", max(0, min(p.drawnLen, room)-n)))
	p.drawn, p.drawnLen = now, n
}

// done blanks out the line drawn, if any, and leaves the cursor at its
// start, where the next line of stderr goes.
func (p *readProgress) done() {
	if p.drawnLen > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.drawnLen))
		p.drawnLen = 0
	}
}

// sizeText returns n bytes for people: 512 bytes, 4.0 KiB, 155.0 MiB.
func sizeText(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size {
			return fmt.Sprintf("%.1f %s", float64(n)/float64(u.size), u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// unit returns the unit in which sizeText writes n, with its space.
func unit(n int64) string {
	s := sizeText(n)
	return s[strings.LastIndexByte(s, ' '):]
}
