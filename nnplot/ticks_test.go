package nnplot

import (
	"math"
	"strconv"
	"testing"

	"gonum.org/v1/plot"
)

// checkTicks checks that the ticks lie in [lo, hi], rise, and that each
// label reads as its tick's value, and returns the number of labels.
func checkTicks(t *testing.T, name string, ticks []plot.Tick, lo, hi float64) int {
	t.Helper()
	labels := 0
	for i, tk := range ticks {
		// Relative slack for the rounding of the tick values.
		if tk.Value < lo-1e-9*math.Abs(lo) || tk.Value > hi+1e-9*math.Abs(hi) {
			t.Errorf("%s: tick %v outside [%v, %v]", name, tk.Value, lo, hi)
		}
		if i > 0 && tk.Value <= ticks[i-1].Value {
			t.Errorf("%s: tick %v after %v", name, tk.Value, ticks[i-1].Value)
		}
		if tk.IsMinor() {
			continue
		}
		labels++
		v, err := strconv.ParseFloat(tk.Label, 64)
		if err != nil {
			t.Errorf("%s: label %q: %v", name, tk.Label, err)
		} else if math.Abs(v-tk.Value) > 1e-9*math.Max(math.Abs(v), 1e-300) && !(v == 0 && math.Abs(tk.Value) < 1e-12*(hi-lo)) {
			t.Errorf("%s: label %q on a tick at %v", name, tk.Label, tk.Value)
		}
	}
	return labels
}

func TestLinearTicks(t *testing.T) {
	for i, test := range []struct {
		lo, hi float64
	}{
		{0.3, 1.87},      // a falling cross-entropy
		{0, 1},           // accuracies
		{2.3012, 2.3026}, // a loss that barely moves
		{-0.5, 0.5},
		{1e-7, 3e-6},
		{120, 54000},
		{1.5e6, 9.5e6},
		{-1e308, 1e308}, // hi - lo overflows
	} {
		// DefaultTicks labels 3 ticks or so; 8 are asked, and the steps
		// of 1, 2 or 5 times a power of ten give 4 to 10 of them.
		n := checkTicks(t, strconv.Itoa(i), linearTicks{n: 8}.Ticks(test.lo, test.hi), test.lo, test.hi)
		if n < 4 || n > 10 {
			t.Errorf("%d: [%v, %v]: got %d labels, want 4 to 10", i, test.lo, test.hi, n)
		}
	}
}

// TestLinearTicksNarrow checks that a range too narrow for a float64 to
// count ticks across, as the range of a loss that only its last bits
// change, gets its two ends labelled (the loop over its ticks would never
// end).
func TestLinearTicksNarrow(t *testing.T) {
	lo := math.Log(2)
	for i, hi := range []float64{math.Nextafter(lo, 1), lo + 1e-13} {
		ticks := linearTicks{n: 8}.Ticks(lo, hi)
		if n := checkTicks(t, strconv.Itoa(i), ticks, lo, hi); n < 2 {
			t.Errorf("%d: [%v, %v]: got %d labels, want at least 2", i, lo, hi, n)
		}
	}
}

func TestLogTicks(t *testing.T) {
	for i, test := range []struct {
		lo, hi      float64
		minLabels   int
		wantWidened bool
	}{
		{0.3, 1.87, 4, true},    // less than a decade: every tick labelled
		{0.02, 1.2, 4, true},    // 1, 2, 5 times powers of ten
		{1.3e-3, 1.07, 5, true}, // 2.9 decades
		{1.6e-4, 1.05, 3, false},
		{1e-9, 10, 9, false},
		{2, 2.0001, 1, true},
	} {
		marker := newLogTicks(test.lo, test.hi)
		lo, hi := marker.widen(test.lo, test.hi)
		if lo > test.lo || hi < test.hi || lo <= 0 {
			t.Errorf("%d: widen(%v, %v) = %v, %v, not around it", i, test.lo, test.hi, lo, hi)
		}
		if widened := lo != test.lo || hi != test.hi; widened != test.wantWidened {
			t.Errorf("%d: widen(%v, %v) = %v, %v: got widened %t, want %t", i, test.lo, test.hi, lo, hi, widened, test.wantWidened)
		}
		// Within three decades, each end moves by a factor of 2.5 at most.
		if lo < test.lo/2.5 || hi > test.hi*2.5 {
			t.Errorf("%d: widen(%v, %v) = %v, %v, too far", i, test.lo, test.hi, lo, hi)
		}
		ticks := marker.Ticks(lo, hi)
		n := checkTicks(t, strconv.Itoa(i), ticks, lo, hi)
		if n < test.minLabels {
			t.Errorf("%d: [%v, %v]: got %d labels, want at least %d", i, lo, hi, n, test.minLabels)
		}
		// A widened axis is labelled at both ends.
		if test.wantWidened && (ticks[0].IsMinor() || ticks[len(ticks)-1].IsMinor()) {
			t.Errorf("%d: [%v, %v]: the ends are not labelled: %v", i, lo, hi, ticks)
		}
	}
}

func TestLogLabel(t *testing.T) {
	for _, test := range []struct {
		m, k int
		want string
	}{
		{1, 0, "1"},
		{3, 2, "300"},
		{7, 5, "700000"},
		{7, 6, "7e+06"},
		{2, -1, "0.2"},
		{2, -3, "0.002"},
		{9, -4, "0.0009"},
		{5, -5, "5e-05"},
	} {
		if got := logLabel(test.m, test.k); got != test.want {
			t.Errorf("logLabel(%d, %d): got %q, want %q", test.m, test.k, got, test.want)
		}
	}
}
