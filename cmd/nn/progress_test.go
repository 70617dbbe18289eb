package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/neuralgo/nn"
)

// drawAll runs a progress bar of total epochs on a terminal whose width
// is asked of width, drawing every epoch of run. It returns the lines drawn
// over one another, each with the blanks that pad it, the width of the
// terminal at each, and the whole output.
func drawAll(width func() int, total int, val, classify bool, run func(epoch int) nn.Epoch) (lines []string, widths []int, out string) {
	var b bytes.Buffer
	p := newProgress(&b, true, total, val, classify)
	p.width = func() int {
		n := width()
		widths = append(widths, n)
		return n
	}
	for i := 1; i <= total; i++ {
		p.epoch(run(i))
		if !p.shown {
			p.draw(time.Now())
		}
	}
	p.finish()
	out = b.String()
	// Every line starts with \r; finish ends the last one with \n.
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\r")[1:]
	return lines, widths, out
}

func TestProgressWidth(t *testing.T) {
	// A classification run of 100 epochs with losses and an accuracy as
	// they usually read.
	typical := func(i int) nn.Epoch {
		return nn.Epoch{Epoch: i, Loss: 0.345678, ValLoss: 0.367891, ValAccuracy: 0.891234, Elapsed: time.Duration(i) * 25 * time.Millisecond}
	}
	// A long run with the widest numbers: 5 digits of epochs, losses in
	// exponent notation, hours of elapsed time.
	wide := func(i int) nn.Epoch {
		return nn.Epoch{Epoch: i, Loss: -1.23456e-105, ValLoss: 1.23456e+105, ValAccuracy: 0.891234, Elapsed: time.Duration(i) * 7 * time.Second}
	}
	fixed := func(n int) func() int { return func() int { return n } }
	// resized is a terminal made narrower after the 3rd redraw.
	resized := func() func() int {
		n := 0
		return func() int {
			n++
			if n <= 3 {
				return 120
			}
			return 50
		}
	}
	for i, test := range []struct {
		name          string
		width         func() int
		total         int
		val, classify bool
		run           func(int) nn.Epoch
		want          []string // in the last line drawn
	}{
		// At 120 columns nothing is left out of a typical line.
		{"typical at 120", fixed(120), 100, true, true, typical, []string{"epoch 100/100", "[==========]", "s, ~", "left", "| loss 0.346", "val_loss 0.368", "val_acc 0.8912"}},
		{"wide at 120", fixed(120), 10000, true, true, wide, []string{"epoch 10000/10000", "left", "| loss", "val_loss", "val_acc 0.8912"}},
		// At 80, the elapsed time makes way for the validation accuracy.
		{"typical at 80", fixed(80), 100, true, true, typical, []string{"epoch 100/100", "left", "| loss 0.346", "val_loss 0.368", "val_acc 0.8912"}},
		{"wide at 80", fixed(80), 10000, true, true, wide, []string{"epoch 10000/10000", "| loss", "val_acc 0.8912"}},
		{"typical at 50", fixed(50), 100, true, true, typical, []string{"epoch 100/100", "left", "| loss 0.346"}},
		{"wide at 50", fixed(50), 10000, true, true, wide, []string{"epoch 10000/10000", "| loss"}},
		{"regression at 50", fixed(50), 100, true, false, typical, []string{"epoch 100/100", "| loss 0.346"}},
		{"no validation at 50", fixed(50), 10000, false, false, wide, []string{"epoch 10000/10000", "| loss"}},
		{"resized from 120 to 50", resized(), 100, true, true, typical, []string{"epoch 100/100", "| loss 0.346"}},
		// Terminals too narrow for the epoch and the loss: the line is cut.
		{"wide at 30", fixed(30), 10000, true, true, wide, []string{"epoch 10000/10000"}},
		{"at 10", fixed(10), 100, true, true, wide, []string{"epoch 100"}},
		{"at 1", fixed(1), 100, true, true, wide, nil},
	} {
		lines, widths, out := drawAll(test.width, test.total, test.val, test.classify, test.run)
		if len(lines) != test.total || len(widths) != test.total {
			t.Fatalf("%d: %s: %d lines drawn at %d widths, want %d", i, test.name, len(lines), len(widths), test.total)
		}
		// A line as wide as the terminal wraps on some terminals: at most
		// width-1 runes, blanks included.
		for j, s := range lines {
			if n := utf8.RuneCountInString(s); n > max(0, widths[j]-1) {
				t.Errorf("%d: %s: a line of %d runes drawn at %d columns, want at most %d: %q", i, test.name, n, widths[j], widths[j]-1, s)
				break
			}
		}
		last := strings.TrimRight(lines[len(lines)-1], " ")
		for _, w := range test.want {
			if !strings.Contains(last, w) {
				t.Errorf("%d: %s: the last line drawn is %q, want it to hold %q", i, test.name, last, w)
			}
		}
		// A figure is shown whole or not at all.
		if e := test.run(test.total); strings.Contains(last, "loss") && !strings.Contains(last, fmt.Sprintf("| loss %.3g", e.Loss)) {
			t.Errorf("%d: %s: the last line drawn %q cuts the loss %.3g short", i, test.name, last, e.Loss)
		}
		if strings.Contains(last, "s,") && !strings.Contains(last, "left") {
			t.Errorf("%d: %s: the last line drawn %q has the elapsed time without the time left", i, test.name, last)
		}
		if !strings.HasSuffix(out, "\n") {
			t.Errorf("%d: %s: finish did not end the line: %q", i, test.name, out[max(0, len(out)-20):])
		}
	}
}

func TestLineWidth(t *testing.T) {
	// A file that is not a terminal has no size, nor has a buffer:
	// $COLUMNS applies.
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, test := range []struct {
		columns string
		want    int
	}{
		{"120", 120},
		{"50", 50},
		{"", 80},
		{"wide", 80},
		{"20", 80}, // too narrow to be true: 80
		{"-5", 80},
	} {
		t.Setenv("COLUMNS", test.columns)
		for _, w := range []struct {
			name string
			w    io.Writer
		}{{"a file", f}, {"a buffer", new(bytes.Buffer)}} {
			if got := lineWidth(w.w); got != test.want {
				t.Errorf("%d: COLUMNS=%q, %s: got %d, want %d", i, test.columns, w.name, got, test.want)
			}
		}
	}
}

// TestProgressPlain checks that off a terminal progress writes whole lines
// that are not fitted to any width: a log keeps every figure.
func TestProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, false, 3, true, true)
	p.width = func() int { return 20 }
	for i := 1; i <= 3; i++ {
		p.epoch(nn.Epoch{Epoch: i, Loss: 0.5, ValLoss: 0.25, ValAccuracy: math.NaN()})
	}
	p.finish()
	want := "epoch 1/3 loss 0.5 val_loss 0.25 elapsed 0s\n" +
		"epoch 2/3 loss 0.5 val_loss 0.25 elapsed 0s\n" +
		"epoch 3/3 loss 0.5 val_loss 0.25 elapsed 0s\n"
	if got := b.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestProgressEstimate checks the time left that the bar shows: the pace
// of the epochs run so far (Epoch.Elapsed over the epochs it covers)
// times the epochs to go. The first report comes after a whole epoch, so
// it already has a pace: 1.3s for epoch 1 of 5 leaves about 5.2s.
func TestProgressEstimate(t *testing.T) {
	for i, test := range []struct {
		name  string
		total int
		first nn.Epoch // the first report of the run
		next  []nn.Epoch
		want  string // in the last line drawn
	}{
		{"first of 5", 5, nn.Epoch{Epoch: 1, Elapsed: 1300 * time.Millisecond}, nil, "1.3s, ~5.2s left"},
		{"second of 5", 5, nn.Epoch{Epoch: 1, Elapsed: time.Second}, []nn.Epoch{{Epoch: 2, Elapsed: 3 * time.Second}}, "3s, ~4.5s left"},
		{"last of 5", 5, nn.Epoch{Epoch: 1, Elapsed: time.Second}, []nn.Epoch{{Epoch: 5, Elapsed: 5 * time.Second}}, "5s, ~0s left"},
		// After a resume from epoch 30, Elapsed counts the earlier
		// run's 30 epochs too: 31 epochs in 62s, 9 to go.
		{"resumed", 40, nn.Epoch{Epoch: 31, Elapsed: 62 * time.Second}, nil, "1m2s, ~18s left"},
	} {
		var b bytes.Buffer
		p := newProgress(&b, true, test.total, false, false)
		p.width = func() int { return 200 }
		p.epoch(test.first)
		for _, e := range test.next {
			p.epoch(e)
			p.draw(time.Now()) // drawn whatever the redraw interval
		}
		drawn := strings.Split(b.String(), "\r")
		if last := drawn[len(drawn)-1]; !strings.Contains(last, test.want) {
			t.Errorf("%d: %s: the bar reads %q, want it to hold %q", i, test.name, strings.TrimSpace(last), test.want)
		}
	}
}
