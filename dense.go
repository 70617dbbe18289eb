package nn

import "gonum.org/v1/gonum/mat"

// asDense returns x as a *mat.Dense, copying it only if it is not one.
func asDense(x mat.Matrix) *mat.Dense {
	if d, ok := x.(*mat.Dense); ok {
		return d
	}
	return mat.DenseCopyOf(x)
}

// gatherRows returns the rows idx of m as a new matrix.
func gatherRows(m *mat.Dense, idx []int) *mat.Dense {
	_, c := m.Dims()
	dst := mat.NewDense(len(idx), c, nil)
	gatherRowsTo(dst, m, idx)
	return dst
}

// gatherRowsTo copies the rows idx of m into the rows of dst.
func gatherRowsTo(dst, m *mat.Dense, idx []int) {
	src, d := m.RawMatrix(), dst.RawMatrix()
	for i, k := range idx {
		copy(d.Data[i*d.Stride:i*d.Stride+d.Cols], src.Data[k*src.Stride:k*src.Stride+src.Cols])
	}
}
