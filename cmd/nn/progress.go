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

	"golang.org/x/term"

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

	first    int       // number of the first epoch of this run (after a resume, not 1)
	last     nn.Epoch  // latest epoch reported
	shown    bool      // last has been written
	drawn    time.Time // when the bar was last drawn
	drawnLen int       // length of the bar last drawn, to blank it out
	// width returns the width of the terminal in columns, asked at every
	// redraw; tests set it.
	width func() int
}

// redraw is the shortest interval between two redraws of the bar.
const redraw = 100 * time.Millisecond

func newProgress(w io.Writer, tty bool, total int, val, classify bool) *progress {
	return &progress{w: w, tty: tty, total: total, val: val, classify: classify, every: max(1, (total+19)/20),
		width: func() int { return lineWidth(w) }}
}

// epoch is the Settings.Progress callback.
func (p *progress) epoch(e nn.Epoch) {
	now := time.Now()
	if p.first == 0 {
		p.first = e.Epoch
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

// lineWidth returns the width in columns of the terminal that w writes to:
// the size the terminal reports when w is an *os.File open on one, else
// $COLUMNS (when it is a number over 20), else 80. A bar as long as the
// terminal or longer would wrap, and \r would then redraw only its last
// part, so draw keeps the bar to width-1 runes.
func lineWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		// A pseudo-terminal whose size was never set reports 0 columns.
		if n, _, err := term.GetSize(int(f.Fd())); err == nil && n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 20 {
		return n
	}
	return 80
}

// The parts of the bar's line, in the order they are shown: "epoch  5/20
// [==        ] 1.2s, ~4.8s left | loss 0.123 val_loss 0.234 val_acc 0.912".
const (
	partEpoch   = iota // "epoch  5/20", always shown
	partBar            // "[==        ]"
	partElapsed        // "1.2s,", shown only before the time left
	partLeft           // "~4.8s left"
	partLoss           // "| loss 0.123"
	partValLoss        // "val_loss 0.234"
	partValAcc         // "val_acc 0.912"
	numParts
)

// importance lists the parts from the most important to the least. A line
// too long for the terminal leaves out the least important parts first:
// the elapsed time and the bar, which the epoch counter and the estimate
// repeat, then the validation loss, the validation accuracy and the time
// left.
var importance = [numParts]int{partEpoch, partLoss, partLeft, partValAcc, partValLoss, partBar, partElapsed}

// fitLine returns the parts that are not empty joined by spaces, in at
// most room runes. It takes the parts in their order of importance and
// leaves out each one that would make the line longer than room (a shorter,
// less important part may still fit after it); the elapsed time goes only
// with the time left. Only the epoch counter is always there, cut at room
// runes on a terminal too narrow for it (about 15 columns): no figure is
// ever cut short.
func fitLine(parts *[numParts]string, room int) string {
	var keep [numParts]bool
	for _, i := range importance {
		if parts[i] == "" || i == partElapsed && !keep[partLeft] {
			continue
		}
		keep[i] = true
		if utf8.RuneCountInString(joinParts(parts, &keep)) > room && i != partEpoch {
			keep[i] = false
		}
	}
	s := joinParts(parts, &keep)
	if r := []rune(s); len(r) > room {
		s = string(r[:room])
	}
	return s
}

// joinParts returns the parts to keep joined by spaces.
func joinParts(parts *[numParts]string, keep *[numParts]bool) string {
	var b strings.Builder
	for i, s := range parts {
		if !keep[i] {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	return b.String()
}

// draw redraws the bar, fitted to the width of the terminal as it is now,
// so that a window made narrower during training is followed.
func (p *progress) draw(now time.Time) {
	e := p.last
	filled := min(barWidth, barWidth*e.Epoch/max(1, p.total))
	// Time left at the pace of the epochs so far: e.Elapsed is the time
	// of all e.Epoch of them, since training started (and in the runs a
	// checkpoint resumed), so that the first report, which comes after an
	// epoch, already has the time of one.
	left := time.Duration(float64(e.Elapsed) / float64(max(1, e.Epoch)) * float64(p.total-e.Epoch))
	var parts [numParts]string
	parts[partEpoch] = fmt.Sprintf("epoch %*d/%d", len(fmt.Sprint(p.total)), e.Epoch, p.total)
	parts[partBar] = "[" + strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled) + "]"
	parts[partElapsed] = roundDuration(e.Elapsed).String() + ","
	parts[partLeft] = "~" + roundDuration(left).String() + " left"
	parts[partLoss] = fmt.Sprintf("| loss %.3g", e.Loss)
	if p.val {
		parts[partValLoss] = fmt.Sprintf("val_loss %.3g", e.ValLoss)
		if p.classify && !math.IsNaN(e.ValAccuracy) {
			parts[partValAcc] = fmt.Sprintf("val_acc %.4f", e.ValAccuracy)
		}
	}
	// At most width-1 runes, blanks included: a line as wide as the
	// terminal moves the cursor to the next line on some terminals.
	room := max(0, p.width()-1)
	s := fitLine(&parts, room)
	n := utf8.RuneCountInString(s)
	fmt.Fprintf(p.w, "\r%s%s", s, strings.Repeat(" ", max(0, min(p.drawnLen, room)-n)))
	p.drawnLen, p.drawn, p.shown = n, now, true
}
