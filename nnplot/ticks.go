package nnplot

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
)

// The tick markers of the loss axis. gonum/plot's DefaultTicks aims at 3
// labels, which leaves the loss of the last epochs, where runs differ,
// squashed against the bottom of an axis with two or three figures on it;
// its LogTicks labels powers of ten only, so a log axis spanning less than
// a decade or two has one label or none.

// linearTicks marks a linear axis with about n labelled ticks at round
// numbers (1, 2 or 5 times a power of ten apart) and unlabelled ticks
// between them.
type linearTicks struct{ n int }

// Ticks returns the ticks of the range [lo, hi]. It panics unless lo < hi
// and both are finite, as plot.DefaultTicks does.
func (t linearTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		panic(fmt.Sprintf("nnplot: linear axis over [%v, %v]", lo, hi))
	}
	// (hi - lo) / n, without overflow.
	step, mantissa := niceStep(hi/float64(t.n) - lo/float64(t.n))
	// Unlabelled ticks split each step into 5 (steps of 1 and 5) or 4
	// (steps of 2).
	minors := 5
	if mantissa == 2 {
		minors = 4
	}
	minor := step / float64(minors)
	// The ticks are at i·minor for i in [first, last], with slack for
	// rounding. A range too narrow for its magnitude, a loss constant but
	// for its last bits, would need more digits than a float64 has to
	// count its ticks: its ends are labelled instead.
	first, last := math.Ceil(lo/minor-1e-9), math.Floor(hi/minor+1e-9)
	if !(math.Max(math.Abs(first), math.Abs(last)) < 1<<40) {
		return []plot.Tick{
			{Value: lo, Label: strconv.FormatFloat(lo, 'g', -1, 64)},
			{Value: hi, Label: strconv.FormatFloat(hi, 'g', -1, 64)},
		}
	}
	// Labels carry as many decimals as the step needs, or switch to
	// exponent notation for very small or large values.
	prec := max(0, -int(math.Floor(math.Log10(step))))
	big := math.Max(math.Abs(lo), math.Abs(hi))
	exp := prec > 4 || big >= 1e6
	digits := int(math.Floor(math.Log10(big))) - int(math.Floor(math.Log10(step))) + 1
	var ticks []plot.Tick
	for i := first; i <= last; i++ {
		v := i * minor
		tick := plot.Tick{Value: v}
		if math.Mod(i, float64(minors)) == 0 {
			switch {
			case v == 0:
				tick.Label = "0"
			case exp:
				tick.Label = strconv.FormatFloat(v, 'g', max(1, digits), 64)
			default:
				tick.Label = strconv.FormatFloat(v, 'f', prec, 64)
			}
		}
		ticks = append(ticks, tick)
	}
	return ticks
}

// niceStep returns the smallest of 1, 2 and 5 times a power of ten that
// is at least x > 0, and which of 1, 2 and 5 it is.
func niceStep(x float64) (step float64, mantissa int) {
	p := math.Pow10(int(math.Floor(math.Log10(x))))
	for _, m := range []int{1, 2, 5, 10} {
		if s := float64(m) * p; s >= x*(1-1e-9) {
			if m == 10 {
				return s, 1
			}
			return s, m
		}
	}
	panic("unreachable")
}

// logTicks marks a logarithmic axis with a tick at every 1 to 9 times a
// power of ten, labelling those whose multiple is in labels: {1} (the
// powers of ten, as plot.LogTicks does) when labels is nil.
type logTicks struct{ labels []int }

// newLogTicks returns the tick marker of a log axis for data in [lo, hi],
// 0 < lo ≤ hi: it labels the powers of ten, and also 2 and 5 times them
// when the data span less than three decades, and every tick when they
// span less than one, so that the axis always has a few labels.
func newLogTicks(lo, hi float64) logTicks {
	switch decades := math.Log10(hi / lo); {
	case decades < 1:
		return logTicks{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9}}
	case decades < 3:
		return logTicks{[]int{1, 2, 5}}
	}
	return logTicks{}
}

// Ticks returns the ticks of the range [lo, hi]. It panics unless
// 0 < lo ≤ hi < +Inf, as plot.LogTicks does.
func (t logTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(0 < lo && lo <= hi && hi < math.Inf(1)) {
		panic(fmt.Sprintf("nnplot: log axis over [%v, %v]", lo, hi))
	}
	var ticks []plot.Tick
	for k := int(math.Floor(math.Log10(lo))); k <= int(math.Ceil(math.Log10(hi))); k++ {
		for m := 1; m <= 9; m++ {
			v := pow10Times(m, k)
			// Relative slack for the rounding of lo and hi.
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			tick := plot.Tick{Value: v}
			if m == 1 || slices.Contains(t.labels, m) {
				tick.Label = logLabel(m, k)
			}
			ticks = append(ticks, tick)
		}
	}
	return ticks
}

// widen returns the range [lo, hi], 0 < lo ≤ hi, widened to the nearest
// labelled ticks when t labels more than the powers of ten, so that both
// ends of the axis are labelled, at a cost of a factor of 2.5 at most;
// otherwise it returns the range as it is.
func (t logTicks) widen(lo, hi float64) (float64, float64) {
	if len(t.labels) == 0 {
		return lo, hi
	}
	marks := append([]int{1}, t.labels...)
	// lo = m·10^k with 1 ≤ m < 10: down to the largest mark ≤ m, and hi
	// up to the smallest mark ≥ its own m (10 being the next power of
	// ten), with slack for rounding.
	k := int(math.Floor(math.Log10(lo)))
	for _, m := range slices.Backward(marks) {
		if v := pow10Times(m, k); v <= lo*(1+1e-9) {
			lo = math.Min(lo, v)
			break
		}
	}
	k = int(math.Floor(math.Log10(hi)))
	for _, m := range append(marks, 10) {
		if v := pow10Times(m, k); v >= hi*(1-1e-9) {
			hi = math.Max(hi, v)
			break
		}
	}
	return lo, hi
}

// pow10Times returns m·10^k, rounded once, so that 3·10⁻¹ is 0.3 and not
// 0.30000000000000004.
func pow10Times(m, k int) float64 {
	if k < 0 {
		return float64(m) / math.Pow10(-k)
	}
	return float64(m) * math.Pow10(k)
}

// logLabel returns the label of m·10^k, for a digit m: "0.002", "300",
// "5e-05".
func logLabel(m, k int) string {
	switch {
	case k >= 0 && k < 6:
		return strconv.Itoa(m) + "000000"[:k]
	case k < 0 && k >= -4:
		return "0." + "0000"[:-k-1] + strconv.Itoa(m)
	}
	return strconv.FormatFloat(pow10Times(m, k), 'g', 1, 64)
}
