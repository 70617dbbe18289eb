//go:build openblas

package nn

// Built with -tags openblas (and CGO_LDFLAGS=-lopenblas), every matrix
// product of the package, and of gonum's mat in the whole program, goes
// through OpenBLAS by gonum's own route.

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

func init() {
	blas64.Use(netlib.Implementation{})
	backend = "OpenBLAS (gonum.org/v1/netlib)"
	materializeTranspose = false
}
