package gemm

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"

	"gonum.org/v1/gonum/blas"
)

// guarded returns a slice of n values that ends where an unreadable page
// begins, so that reading or writing past its end faults.
func guarded[T float](t *testing.T, n int) []T {
	t.Helper()
	elem := int(unsafe.Sizeof(T(0)))
	page := syscall.Getpagesize()
	size := (n*elem+page-1)/page*page + page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&mem[size-page-n*elem])), n)
}

// TestDgemmStaysInBounds runs products whose A, B and C each end at an
// unreadable page, on every kernel and path, with every width of the last
// columns: a kernel that read or wrote past a matrix would crash the test.
func TestDgemmStaysInBounds(t *testing.T) {
	rnd := rand.New(rand.NewPCG(21, 22))
	for _, kn := range kernels() {
		for p := range paths {
			withKernel(kn, func() {
				withPath(p, func() {
					for n := 1; n <= 26; n++ {
						for _, sh := range [][2]int{{9, 7}, {16, 33}, {40, 300}} {
							m, k := sh[0], sh[1]
							for _, tA := range transposes {
								for _, tB := range transposes {
									pr := newProblem(rnd, tA, tB, m, n, k, 0, 1, 0.5)
									// Move each matrix to the end of a guarded
									// region, without the sentinels.
									a := guarded[float64](t, len(pr.a)-5)
									copy(a, pr.a)
									b := guarded[float64](t, len(pr.b)-5)
									copy(b, pr.b)
									c := guarded[float64](t, len(pr.c)-5)
									copy(c, pr.c)
									pr.a, pr.b, pr.c = a, b, c
									name := fmt.Sprintf("%s %s %s%s m=%d n=%d k=%d", kn.name, paths[p].name, tName(tA), tName(tB), m, n, k)
									want := append([]float64(nil), c...)
									Dgemm(tA, tB, m, n, k, 1, a, pr.lda, b, pr.ldb, 0.5, c, pr.ldc)
									ref(tA, tB, m, n, k, 1, a, pr.lda, b, pr.ldb, 0.5, want, pr.ldc)
									for i := range c {
										if d := c[i] - want[i]; d > 1e-12 || d < -1e-12 {
											t.Fatalf("%s: C[%d] = %v, want %v", name, i, c[i], want[i])
										}
									}
								}
							}
						}
					}
				})
			})
		}
	}
}

// TestSgemmStaysInBounds is TestDgemmStaysInBounds for Sgemm, with every
// width of the last columns of the float32 panels.
func TestSgemmStaysInBounds(t *testing.T) {
	rnd := rand.New(rand.NewPCG(23, 24))
	for _, kn := range kernels() {
		for p := range paths {
			withKernel(kn, func() {
				withPath(p, func() {
					for n := 1; n <= 50; n++ {
						for _, sh := range [][2]int{{9, 7}, {16, 33}, {40, 600}} {
							m, k := sh[0], sh[1]
							for _, tA := range transposes {
								for _, tB := range transposes {
									pr := newSProblem(rnd, tA, tB, m, n, k, 0, 1, 0.5)
									// Move each matrix to the end of a guarded
									// region, without the sentinels.
									a := guarded[float32](t, len(pr.a)-5)
									copy(a, pr.a)
									b := guarded[float32](t, len(pr.b)-5)
									copy(b, pr.b)
									c := guarded[float32](t, len(pr.c)-5)
									copy(c, pr.c)
									name := fmt.Sprintf("%s %s %s%s m=%d n=%d k=%d", kn.name, paths[p].name, tName(tA), tName(tB), m, n, k)
									want := to64(c)
									Sgemm(tA, tB, m, n, k, 1, a, pr.lda, b, pr.ldb, 0.5, c, pr.ldc)
									ref(tA, tB, m, n, k, 1, to64(a), pr.lda, to64(b), pr.ldb, 0.5, want, pr.ldc)
									for i := range c {
										// k·ε₃₂ with |A|, |B| ≤ 1 (a loose bound).
										if d := float64(c[i]) - want[i]; d > float64(k+2)*eps32*float64(k) || d < -float64(k+2)*eps32*float64(k) {
											t.Fatalf("%s: C[%d] = %v, want %v", name, i, c[i], want[i])
										}
									}
								}
							}
						}
					}
				})
			})
		}
	}
}

// ref is a plain triple loop, the reference of TestDgemmStaysInBounds.
func ref(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float64
				if tA == blas.NoTrans {
					av = a[i*lda+p]
				} else {
					av = a[p*lda+i]
				}
				if tB == blas.NoTrans {
					bv = b[p*ldb+j]
				} else {
					bv = b[j*ldb+p]
				}
				s += av * bv
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}
