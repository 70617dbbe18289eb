package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/neuralgo/nn"
)

// progress reports training epochs on a writer: on a terminal, a one-line
// bar redrawn in place at most every redraw interval; elsewhere (a file,
// a pipe, CI logs), a plain line for the first epoch and every few epochs,
// about 20 lines in all.
type progress struct {
	w        io.Writer
	tty      bool
	total    int // epochs asked for
	val      bool
	classify bool
	every    int // epochs between plain lines

	start    time.Time // wall time of the first epoch report
	first    int       // number of the first epoch of this run (after a resume, not 1)
	last     nn.Epoch  // latest epoch reported
	shown    bool      // last has been written
	drawn    time.Time // when the bar was last drawn
	drawnLen int       // length of the bar last drawn, to blank it out
	width    int       // of the terminal
}

// redraw is the shortest interval between two redraws of the bar.
const redraw = 100 * time.Millisecond

func newProgress(w io.Writer, tty bool, total int, val, classify bool) *progress {
	return &progress{w: w, tty: tty, total: total, val: val, classify: classify, every: max(1, (total+19)/20), width: lineWidth()}
}

// epoch is the Settings.Progress callback.
func (p *progress) epoch(e nn.Epoch) {
	now := time.Now()
	if p.first == 0 {
		p.first, p.start = e.Epoch, now.Add(-time.Millisecond)
	}
	p.last, p.shown = e, false
	if p.tty {
		if now.Sub(p.drawn) >= redraw || e.Epoch == p.total {
			p.draw(now)
		}
		return
	}
	if e.Epoch == p.first || e.Epoch%p.every == 0 || e.Epoch == p.total {
		p.line()
	}
}

// finish writes the last epoch if it was not shown and ends the bar's line.
func (p *progress) finish() {
	if p.first == 0 {
		return
	}
	if p.tty {
		if !p.shown {
			p.draw(time.Now())
		}
		fmt.Fprintln(p.w)
		return
	}
	if !p.shown {
		p.line()
	}
}

// metrics formats the losses of the last epoch with the verb loss.
func (p *progress) metrics(loss string) string {
	e := p.last
	var b strings.Builder
	fmt.Fprintf(&b, "loss "+loss, e.Loss)
	if p.val {
		fmt.Fprintf(&b, " val_loss "+loss, e.ValLoss)
		if p.classify && !math.IsNaN(e.ValAccuracy) {
			fmt.Fprintf(&b, " val_acc %.4f", e.ValAccuracy)
		}
	}
	return b.String()
}

func (p *progress) line() {
	fmt.Fprintf(p.w, "epoch %d/%d %s elapsed %s\n", p.last.Epoch, p.total, p.metrics("%.4g"), roundDuration(p.last.Elapsed))
	p.shown = true
}

// barWidth is the number of cells of the bar.
const barWidth = 10

// lineWidth returns the width of the terminal from $COLUMNS, or 80. A bar
// longer than the terminal would wrap, and \r would then redraw only its
// last part.
func lineWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 20 {
		return n
	}
	return 80
}

func (p *progress) draw(now time.Time) {
	e := p.last
	filled := min(barWidth, barWidth*e.Epoch/max(1, p.total))
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled)
	// Time left at the pace of this run's epochs so far.
	done := e.Epoch - p.first + 1
	left := time.Duration(float64(now.Sub(p.start)) / float64(done) * float64(p.total-e.Epoch))
	// Time first: on a narrow terminal the metrics are cut, not the
	// estimate.
	s := fmt.Sprintf("epoch %*d/%d [%s] %s, ~%s left | %s", len(fmt.Sprint(p.total)), e.Epoch, p.total, bar,
		roundDuration(e.Elapsed), roundDuration(left), p.metrics("%.3g"))
	if r := []rune(s); len(r) >= p.width {
		s = string(r[:p.width-1])
	}
	n := utf8.RuneCountInString(s)
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", max(0, p.drawnLen-n)))
	p.drawnLen, p.drawn, p.shown = n, now, true
}
