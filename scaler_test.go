package nn

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func TestScaleKind(t *testing.T) {
	for _, k := range []ScaleKind{NoScaling, Standardize, MinMax, MaxAbs} {
		var got ScaleKind
		if err := got.UnmarshalText([]byte(k.String())); err != nil || got != k {
			t.Errorf("UnmarshalText(%q): got %v, %v, want %v", k.String(), got, err, k)
		}
	}
	if k := ScaleKind(0); k != Standardize {
		t.Errorf("the zero ScaleKind is %v, want standard", k)
	}
	if got, want := ScaleKind(9).String(), "ScaleKind(9)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var k ScaleKind
	if err := k.UnmarshalText([]byte("zscore")); err == nil {
		t.Error("UnmarshalText(zscore): got nil error")
	}
}

func TestScaler(t *testing.T) {
	x := mat.NewDense(4, 3, []float64{
		1, -2, 7,
		2, 4, 7,
		3, 0, 7,
		6, -8, 7, // the last column is constant
	})
	for _, kind := range []ScaleKind{NoScaling, Standardize, MinMax, MaxAbs} {
		s := FitScaler(kind, x)
		var xs mat.Dense // the zero value is sized by Transform
		s.Transform(&xs, x)
		for j := range 3 {
			col := mat.Col(nil, j, &xs)
			switch kind {
			case NoScaling:
				if !floats.Equal(col, mat.Col(nil, j, x)) {
					t.Errorf("%v column %d: got %v, want it unchanged", kind, j, col)
				}
			case Standardize:
				mean, std := stat.PopMeanStdDev(col, nil)
				wantStd := 1.0
				if j == 2 {
					wantStd = 0 // a constant column becomes 0
				}
				if math.Abs(mean) > 1e-14 || math.Abs(std-wantStd) > 1e-14 {
					t.Errorf("%v column %d: got mean %v, std %v, want 0, %v", kind, j, mean, std, wantStd)
				}
			case MinMax:
				lo, hi := floats.Min(col), floats.Max(col)
				wantHi := 1.0
				if j == 2 {
					wantHi = 0
				}
				if lo != 0 || hi != wantHi {
					t.Errorf("%v column %d: got range [%v, %v], want [0, %v]", kind, j, lo, hi, wantHi)
				}
			case MaxAbs:
				m := 0.0
				for _, v := range col {
					m = math.Max(m, math.Abs(v))
				}
				if m != 1 {
					t.Errorf("%v column %d: got max |x| %v, want 1", kind, j, m)
				}
			}
		}
		if s.Scale[2] != 1 && kind != MaxAbs {
			t.Errorf("%v: constant column: got scale %v, want 1", kind, s.Scale[2])
		}

		// InverseTransform undoes Transform, in place.
		s.InverseTransform(&xs, &xs)
		if !mat.EqualApprox(&xs, x, 1e-14) {
			t.Errorf("%v: InverseTransform: got %v, want %v", kind, mat.Formatted(&xs), mat.Formatted(x))
		}

		// TransformRow agrees with Transform, in place and without
		// allocating.
		var want mat.Dense
		s.Transform(&want, x)
		row := make([]float64, 3)
		for i := range 4 {
			copy(row, x.RawRowView(i))
			s.TransformRow(row, row)
			if !floats.Equal(row, want.RawRowView(i)) {
				t.Errorf("%v: TransformRow(row %d): got %v, want %v", kind, i, row, want.RawRowView(i))
			}
		}
		src := x.RawRowView(1)
		if allocs := testing.AllocsPerRun(100, func() { s.TransformRow(row, src) }); allocs != 0 {
			t.Errorf("%v: TransformRow: got %v allocations, want 0", kind, allocs)
		}
	}

	// Standardize uses the population standard deviation: for 1, 2, 3, 6
	// the mean is 3 and the variance (4+1+0+9)/4 = 3.5.
	s := FitScaler(Standardize, x)
	if s.Offset[0] != 3 || s.Scale[0] != math.Sqrt(3.5) {
		t.Errorf("got offset %v, scale %v, want 3, √3.5", s.Offset[0], s.Scale[0])
	}
	// MaxAbs of column 1 is |-8|.
	if s := FitScaler(MaxAbs, x); s.Offset[1] != 0 || s.Scale[1] != 8 {
		t.Errorf("MaxAbs: got offset %v, scale %v, want 0, 8", s.Offset[1], s.Scale[1])
	}

	// The zero value is the identity.
	var id Scaler
	var got mat.Dense
	id.Transform(&got, x)
	if !mat.Equal(&got, x) {
		t.Error("zero Scaler changed X")
	}

	for i, f := range []func(){
		func() { s.Transform(&mat.Dense{}, mat.NewDense(2, 2, nil)) },
		func() { s.Transform(mat.NewDense(3, 3, nil), x) },
		func() { s.InverseTransform(&mat.Dense{}, mat.NewDense(2, 4, nil)) },
		func() { s.TransformRow(make([]float64, 3), make([]float64, 2)) },
		func() { s.TransformRow(make([]float64, 2), make([]float64, 2)) },
		func() { FitScaler(ScaleKind(7), x) },
		func() { (&Scaler{Offset: []float64{0}}).TransformRow([]float64{1}, []float64{1}) },
	} {
		if !dataPanics(f) {
			t.Errorf("%d: did not panic", i)
		}
	}
}
