package nn

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// checkFinite returns an error wrapping ErrNotFinite that names the first
// NaN or infinite element of the matrix x, called name.
func checkFinite(name string, x mat.Matrix) error {
	r, c := x.Dims()
	if d, ok := x.(*mat.Dense); ok {
		// v−v is 0 for every finite v and NaN for NaN and ±Inf, so one
		// sum per row finds out whether to look closer.
		raw := d.RawMatrix()
		var acc float64
		for i := 0; i < r; i++ {
			acc += nonFinite(raw.Data[i*raw.Stride : i*raw.Stride+c])
		}
		if acc == 0 {
			return nil
		}
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if v := x.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("nn: %s[%d, %d] is %v: %w", name, i, j, v, ErrNotFinite)
			}
		}
	}
	return nil
}

// nonFinite returns 0 if every element of s is finite and NaN otherwise:
// v−v is 0 for a finite v and NaN for NaN and ±Inf. Four sums break the
// chain of dependent additions.
func nonFinite(s []float64) float64 {
	var a0, a1, a2, a3 float64
	for ; len(s) >= 4; s = s[4:] {
		a0 += s[0] - s[0]
		a1 += s[1] - s[1]
		a2 += s[2] - s[2]
		a3 += s[3] - s[3]
	}
	for _, v := range s {
		a0 += v - v
	}
	return a0 + a1 + a2 + a3
}

// checkFinite32 is checkFinite for data that goes through float32: it
// also refuses finite values beyond float32's range, which become
// infinite, in one pass that costs what checkFinite's does.
func checkFinite32(name string, x mat.Matrix) error {
	r, c := x.Dims()
	if d, ok := x.(*mat.Dense); ok {
		raw := d.RawMatrix()
		var acc float32
		for i := 0; i < r; i++ {
			acc += nonFinite32(raw.Data[i*raw.Stride : i*raw.Stride+c])
		}
		if acc == 0 {
			return nil
		}
	}
	if err := checkFinite(name, x); err != nil {
		return err
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			if v := x.At(i, j); math.Abs(v) > math.MaxFloat32 {
				return fmt.Errorf("nn: %s[%d, %d] is %v, beyond float32's range (±3.4e38), in which the network predicts (Network.SetPrecision): %w", name, i, j, v, ErrNotFinite)
			}
		}
	}
	return nil
}

// nonFinite32 is nonFinite of the values of s rounded to float32: NaN if
// one is NaN, infinite or beyond float32's range.
func nonFinite32(s []float64) float32 {
	var a0, a1, a2, a3 float32
	for ; len(s) >= 4; s = s[4:] {
		f0, f1, f2, f3 := float32(s[0]), float32(s[1]), float32(s[2]), float32(s[3])
		a0 += f0 - f0
		a1 += f1 - f1
		a2 += f2 - f2
		a3 += f3 - f3
	}
	for _, v := range s {
		f := float32(v)
		a0 += f - f
	}
	return a0 + a1 + a2 + a3
}

// checkFiniteSlice returns an error wrapping ErrNotFinite, without the
// package's prefix, if an element of x, a part of a file called name, is
// NaN or infinite.
func checkFiniteSlice(name string, x []float64) error {
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s[%d] is %v: %w", name, i, v, ErrNotFinite)
		}
	}
	return nil
}

// paramsFinite reports whether every element of p is finite.
func paramsFinite(p []float64) bool { return nonFinite(p) == 0 }

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
