package gemm

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// eps32 is the machine epsilon of float32, 2⁻²³.
const eps32 = 0x1p-23

// sproblem is a float32 problem: the values of a problem rounded to
// float32, with its strides and sentinels.
type sproblem struct {
	tA, tB      blas.Transpose
	m, n, k     int
	alpha, beta float32
	a, b, c     []float32
	lda, ldb    int
	ldc         int
}

// newSProblem returns a random float32 problem; pad widens every stride.
func newSProblem(rnd *rand.Rand, tA, tB blas.Transpose, m, n, k, pad int, alpha, beta float32) *sproblem {
	pr := newProblem(rnd, tA, tB, m, n, k, pad, float64(alpha), float64(beta))
	return &sproblem{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: to32(pr.a), b: to32(pr.b), c: to32(pr.c), lda: pr.lda, ldb: pr.ldb, ldc: pr.ldc}
}

// to32 returns s rounded to float32.
func to32(s []float64) []float32 {
	r := make([]float32, len(s))
	for i, v := range s {
		r[i] = float32(v)
	}
	return r
}

// to64 returns s as float64 values, exactly.
func to64(s []float32) []float64 {
	r := make([]float64, len(s))
	for i, v := range s {
		r[i] = float64(v)
	}
	return r
}

// check runs the problem through Sgemm and compares every element with
// the product computed in float64 by gonum's reference Dgemm, within
// k·ε₃₂·(|α|·(|A|·|B|) + |β|·|C|) scaled by a small factor, and the
// sentinels with themselves.
func (pr *sproblem) check(t *testing.T, name string) {
	t.Helper()
	want := to64(pr.c)
	gonum.Implementation{}.Dgemm(pr.tA, pr.tB, pr.m, pr.n, pr.k, float64(pr.alpha), to64(pr.a), pr.lda, to64(pr.b), pr.ldb, float64(pr.beta), want, pr.ldc)
	abs := func(s []float32) []float64 {
		r := make([]float64, len(s))
		for i, v := range s {
			r[i] = math.Abs(float64(v))
		}
		return r
	}
	bound := make([]float64, len(pr.c))
	gonum.Implementation{}.Dgemm(pr.tA, pr.tB, pr.m, pr.n, pr.k, math.Abs(float64(pr.alpha)), abs(pr.a), pr.lda, abs(pr.b), pr.ldb, 0, bound, pr.ldc)
	c0 := abs(pr.c)
	got := append([]float32(nil), pr.c...)
	if pr.beta == 0 {
		// β = 0 must not read C.
		for i := 0; i < pr.m; i++ {
			for j := 0; j < pr.n; j++ {
				got[i*pr.ldc+j] = float32(math.NaN())
			}
		}
	}
	Sgemm(pr.tA, pr.tB, pr.m, pr.n, pr.k, pr.alpha, pr.a, pr.lda, pr.b, pr.ldb, pr.beta, got, pr.ldc)
	for i := range got {
		inC := i/pr.ldc < pr.m && i%pr.ldc < pr.n
		if !inC {
			if got[i] != sentinel {
				t.Fatalf("%s: element %d outside C changed to %v", name, i, got[i])
			}
			continue
		}
		tol := 4 * float64(pr.k+2) * eps32 * (bound[i] + math.Abs(float64(pr.beta))*c0[i])
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol) {
			t.Fatalf("%s: C[%d,%d] = %v, want %v (difference %.3g, bound %.3g)", name, i/pr.ldc, i%pr.ldc, got[i], want[i], d, tol)
		}
	}
}

// TestSgemm compares Sgemm with the float64 product for every kernel the
// processor runs, every path through the driver, all four transposes, and
// sizes from 0 to 300 including odd and prime ones and those around the
// widths of the float32 panels.
func TestSgemm(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 31, 41, 48, 49, 64, 97, 131, 256, 300}
	if testing.Short() || raceEnabled {
		sizes = []int{0, 1, 3, 7, 9, 25, 41, 49, 131}
	}
	rnd := rand.New(rand.NewPCG(31, 32))
	for _, kn := range kernels() {
		for p := range paths {
			t.Run(kn.name+"/"+paths[p].name, func(t *testing.T) {
				withKernel(kn, func() {
					withPath(p, func() {
						for _, tA := range transposes {
							for _, tB := range transposes {
								for _, m := range sizes {
									for _, n := range sizes {
										for q := 0; q < 2; q++ {
											k := sizes[rnd.IntN(len(sizes))]
											pad := rnd.IntN(2) * 3
											alpha := []float32{1, -0.5, 2.5, 0}[rnd.IntN(4)]
											beta := []float32{0, 1, -1.5, 0.25}[rnd.IntN(4)]
											pr := newSProblem(rnd, tA, tB, m, n, k, pad, alpha, beta)
											pr.check(t, fmt.Sprintf("%s%s m=%d n=%d k=%d pad=%d α=%v β=%v", tName(tA), tName(tB), m, n, k, pad, alpha, beta))
										}
									}
								}
							}
						}
					})
				})
			})
		}
	}
}

// TestSgemmLarge checks products whose k spans several float32 blocks.
func TestSgemmLarge(t *testing.T) {
	rnd := rand.New(rand.NewPCG(33, 34))
	for _, kn := range kernels() {
		for p := range paths {
			withKernel(kn, func() {
				withPath(p, func() {
					for _, sh := range [][3]int{{37, 700, 1030}, {130, 341, 600}, {300, 13, 1537}} {
						for _, tA := range transposes {
							for _, tB := range transposes {
								pr := newSProblem(rnd, tA, tB, sh[0], sh[1], sh[2], 1, 0.75, 0.5)
								pr.check(t, fmt.Sprintf("%s %s %s%s %v", kn.name, paths[p].name, tName(tA), tName(tB), sh))
							}
						}
					}
				})
			})
		}
	}
}

// TestSgemmDeterministic checks that a product is bit-identical whatever
// the path through the driver, the number of goroutines and, among the
// fused kernels, the kernel.
func TestSgemmDeterministic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(35, 36))
	for _, sh := range [][3]int{{128, 256, 784}, {97, 300, 1031}, {512, 10, 130}, {3, 50, 9}} {
		for _, tA := range transposes {
			for _, tB := range transposes {
				pr := newSProblem(rnd, tA, tB, sh[0], sh[1], sh[2], 2, 0.3, 0.7)
				var first []float32
				var firstName string
				runs := 0
				for _, kn := range kernels() {
					if !kn.fused {
						continue
					}
					for p := range paths {
						got := append([]float32(nil), pr.c...)
						withKernel(kn, func() {
							withPath(p, func() {
								Sgemm(tA, tB, pr.m, pr.n, pr.k, pr.alpha, pr.a, pr.lda, pr.b, pr.ldb, pr.beta, got, pr.ldc)
							})
						})
						runs++
						name := kn.name + " " + paths[p].name
						if first == nil {
							first, firstName = got, name
							continue
						}
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
								t.Fatalf("%v %s%s: element %d is %v with %s, %v with %s", sh, tName(tA), tName(tB), i, got[i], name, first[i], firstName)
							}
						}
					}
				}
				if runs > 0 && runs < 2 {
					t.Fatalf("%v: only one run compared", sh)
				}
			}
		}
	}
}

// TestSgemmNonFinite checks that NaN and infinities in A and B reach the
// elements of C they touch, as in reference BLAS (0·∞ is NaN), and only
// those.
func TestSgemmNonFinite(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, kn := range kernels() {
		for p := range paths {
			withKernel(kn, func() {
				withPath(p, func() {
					for _, sh := range [][3]int{{2, 3, 4}, {9, 60, 20}, {40, 50, 600}} {
						m, n, k := sh[0], sh[1], sh[2]
						rnd := rand.New(rand.NewPCG(37, 38))
						a := to32(matrix(rnd, m, k, k))
						b := to32(matrix(rnd, k, n, n))
						a[1*k+2] = float32(math.NaN()) // row 1 of C is NaN
						b[3*n+1] = inf                 // column 1 is +∞ or −∞ or NaN
						a[0*k+3] = 0                   // C[0,1] meets 0·∞: NaN
						c := make([]float32, m*n)
						Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								// The sum in float64, whose non-finite
								// terms are those of float32.
								var s float64
								for q := 0; q < k; q++ {
									s += float64(a[i*k+q]) * float64(b[q*n+j])
								}
								got := float64(c[i*n+j])
								if math.IsNaN(s) != math.IsNaN(got) || math.IsInf(s, 0) && s != got || math.IsInf(got, 0) && s != got {
									t.Fatalf("%s %s %v: C[%d,%d] = %v, want %v", kn.name, paths[p].name, sh, i, j, got, s)
								}
							}
						}
						if !math.IsNaN(float64(c[0*n+1])) {
							t.Errorf("%s %v: 0·∞ gave %v, want NaN", kn.name, sh, c[1])
						}
					}
				})
			})
		}
	}
}

// TestSgemmPanics checks the programmer errors, with Dgemm's messages.
func TestSgemmPanics(t *testing.T) {
	s := make([]float32, 100)
	for i, test := range []struct {
		f    func()
		want string
	}{
		{func() { Sgemm('x', blas.NoTrans, 1, 1, 1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: bad tA"},
		{func() { Sgemm(blas.NoTrans, 'x', 1, 1, 1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: bad tB"},
		{func() { Sgemm(blas.NoTrans, blas.NoTrans, -1, 1, 1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: m < 0"},
		{func() { Sgemm(blas.NoTrans, blas.NoTrans, 1, -1, 1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: n < 0"},
		{func() { Sgemm(blas.NoTrans, blas.NoTrans, 1, 1, -1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: k < 0"},
		{func() { Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }, "gemm: lda shorter than a row of A"},
		{func() { Sgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }, "gemm: ldb shorter than a row of B"},
		{func() { Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, s, 3, s, 2, 0, s, 1) }, "gemm: ldc shorter than a row of C"},
		{func() {
			Sgemm(blas.NoTrans, blas.NoTrans, 20, 20, 20, 1, s, 20, s[:0], 20, 0, make([]float32, 400), 20)
		}, "gemm: a too short"},
		{func() { Sgemm(blas.NoTrans, blas.NoTrans, 5, 20, 5, 1, s, 5, s, 20, 0, make([]float32, 99), 20) }, "gemm: c too short"},
		{func() { Sgemm(blas.NoTrans, blas.NoTrans, 5, 20, 20, 1, s, 20, s, 20, 0, make([]float32, 100), 20) }, "gemm: b too short"},
		{func() { Sgemv('x', 2, 2, 1, s, 2, s, 1, 0, s, 1) }, "gemm: bad tA"},
		{func() { Sgemv(blas.Trans, -1, 2, 1, s, 2, s, 1, 0, s, 1) }, "gemm: m < 0"},
		{func() { Sgemv(blas.Trans, 2, -1, 1, s, 2, s, 1, 0, s, 1) }, "gemm: n < 0"},
		{func() { Sgemv(blas.Trans, 2, 3, 1, s, 2, s, 1, 0, s, 1) }, "gemm: lda shorter than a row of A"},
		{func() { Sgemv(blas.Trans, 20, 20, 1, s, 20, s, 1, 0, s, 1) }, "gemm: a too short"},
		{func() { Sgemv(blas.Trans, 5, 20, 1, s, 20, s[:4], 1, 0, s, 1) }, "gemm: x too short"},
		{func() { Sgemv(blas.Trans, 5, 20, 1, s, 20, s, 1, 0, s[:19], 1) }, "gemm: y too short"},
	} {
		func() {
			defer func() {
				if r := recover(); r != test.want {
					t.Errorf("case %d: panic %v, want %q", i, r, test.want)
				}
			}()
			test.f()
		}()
	}
}

// TestSgemv compares Sgemv with the float64 product for both transposes,
// strides and increments, in serial and split over goroutines.
func TestSgemv(t *testing.T) {
	rnd := rand.New(rand.NewPCG(39, 40))
	for _, kn := range kernels() {
		for _, par := range []int{math.MaxInt, 0} {
			old, procs := gemvParallel, runtime.GOMAXPROCS(2)
			gemvParallel = par
			withKernel(kn, func() {
				for _, tA := range transposes {
					for _, m := range []int{0, 1, 3, 31, 64, 97, 784, 1100} {
						for _, n := range []int{0, 1, 3, 4, 5, 7, 8, 9, 12, 31, 64, 65, 75, 100, 256} {
							for _, inc := range []int{1, 2} {
								lda := max(1, n+rnd.IntN(3))
								a := to32(matrix(rnd, m, n, lda))
								xl, yl := n, m
								if tA != blas.NoTrans {
									xl, yl = m, n
								}
								x := to32(matrix(rnd, 1, max(0, (xl-1)*inc+1), 1))
								y := to32(matrix(rnd, 1, max(0, (yl-1)*inc+1), 1))
								alpha := []float32{1, -0.5, 0}[rnd.IntN(3)]
								beta := []float32{0, 1, 0.3}[rnd.IntN(3)]
								want := to64(y)
								gonum.Implementation{}.Dgemv(tA, m, n, float64(alpha), to64(a), lda, to64(x), inc, float64(beta), want, inc)
								got := append([]float32(nil), y...)
								if beta == 0 && m > 0 && n > 0 {
									for i := 0; i < yl; i++ {
										got[i*inc] = float32(math.NaN())
									}
								}
								Sgemv(tA, m, n, alpha, a, lda, x, inc, beta, got, inc)
								for i := range got {
									if i%inc != 0 || i/inc >= yl {
										if got[i] != y[i] {
											t.Fatalf("%s m=%d n=%d inc=%d: element %d outside y changed to %v", tName(tA), m, n, inc, i, got[i])
										}
										continue
									}
									tol := 8 * float64(max(m, n)+2) * eps32 * (float64(max(m, n)) + math.Abs(float64(y[i])))
									if d := math.Abs(float64(got[i]) - want[i]); !(d <= tol) {
										t.Fatalf("%s %s m=%d n=%d inc=%d α=%v β=%v parallel=%v: y[%d] = %v, want %v", kn.name, tName(tA), m, n, inc, alpha, beta, par == 0, i, got[i], want[i])
									}
								}
							}
						}
					}
				}
			})
			gemvParallel = old
			runtime.GOMAXPROCS(procs)
		}
	}
}

// TestSgemvIsSgemmRow checks that Sgemv gives the bits of the one-row
// Sgemm, serial and split over goroutines, and that the smallest
// products, which skip packing, give the bits of the packed ones.
func TestSgemvIsSgemmRow(t *testing.T) {
	rnd := rand.New(rand.NewPCG(41, 42))
	for _, kn := range kernels() {
		for _, par := range []int{math.MaxInt, 0} {
			old, procs := gemvParallel, runtime.GOMAXPROCS(2)
			gemvParallel = par
			withKernel(kn, func() {
				for _, sh := range [][2]int{{784, 256}, {300, 37}, {3, 5}, {600, 3}, {1100, 75}, {128, 10}} {
					m, n := sh[0], sh[1]
					a, x := to32(matrix(rnd, m, n, n)), to32(matrix(rnd, 1, m, m))
					for _, beta := range []float32{0, 0.5} {
						y0 := to32(matrix(rnd, 1, n, n))
						y, c := append([]float32(nil), y0...), append([]float32(nil), y0...)
						Sgemv(blas.Trans, m, n, 0.5, a, n, x, 1, beta, y, 1)
						Sgemm(blas.NoTrans, blas.NoTrans, 1, n, m, 0.5, x, m, a, n, beta, c, n)
						for j := range y {
							if math.Float32bits(y[j]) != math.Float32bits(c[j]) {
								t.Fatalf("%s %v β=%v parallel=%v: Sgemv y[%d] = %v, Sgemm %v", kn.name, sh, beta, par == 0, j, y[j], c[j])
							}
						}
					}
				}
				// 2×3×300 is a tiny product; the same with more rows is
				// packed.
				a, b := to32(matrix(rnd, 40, 300, 300)), to32(matrix(rnd, 300, 3, 3))
				big, small := make([]float32, 40*3), make([]float32, 2*3)
				Sgemm(blas.NoTrans, blas.NoTrans, 40, 3, 300, 1, a, 300, b, 3, 0, big, 3)
				Sgemm(blas.NoTrans, blas.NoTrans, 2, 3, 300, 1, a, 300, b, 3, 0, small, 3)
				for i, v := range small {
					if math.Float32bits(v) != math.Float32bits(big[i]) {
						t.Fatalf("%s: tiny product element %d = %v, packed %v", kn.name, i, v, big[i])
					}
				}
			})
			gemvParallel = old
			runtime.GOMAXPROCS(procs)
		}
	}
}

// TestSgemmHugeStrides checks that strides so large that (rows−1)·stride
// overflows are refused, rather than letting a kernel past the slice.
func TestSgemmHugeStrides(t *testing.T) {
	backing := make([]float32, 1000)
	ones := make([]float32, 768)
	for i := range ones {
		ones[i] = 1
	}
	huge := 1<<61 + 100
	for i, test := range []struct {
		f    func()
		want string
	}{
		{func() {
			Sgemm(blas.NoTrans, blas.NoTrans, 8, 48, 16, 1, ones, 16, ones, 48, 0, backing[:48:48], huge)
		}, "gemm: c too short"},
		{func() {
			Sgemm(blas.NoTrans, blas.NoTrans, 8, 48, 16, 1, backing[:16:16], huge, ones, 48, 0, make([]float32, 8*48), 48)
		}, "gemm: a too short"},
		{func() {
			Sgemm(blas.NoTrans, blas.NoTrans, 8, 48, 16, 1, ones, 16, backing[:48:48], huge, 0, make([]float32, 8*48), 48)
		}, "gemm: b too short"},
		{func() {
			Sgemv(blas.Trans, 5, 64, 1, backing[:64:64], huge, ones, 1, 0, make([]float32, 64), 1)
		}, "gemm: a too short"},
	} {
		func() {
			defer func() {
				if r := recover(); r != test.want {
					t.Errorf("case %d: panic %v, want %q", i, r, test.want)
				}
			}()
			test.f()
		}()
	}
	for i, v := range backing {
		if v != 0 {
			t.Fatalf("element %d past the matrices written: %v", i, v)
		}
	}
}

// TestFMA32 checks fma32 against the exact x·y + z rounded once to
// float32 by math/big, on random values, on sums that fall halfway
// between two float32 values, and near the ends of the float32 range.
func TestFMA32(t *testing.T) {
	rnd := rand.New(rand.NewPCG(43, 44))
	want := func(x, y, z float32) float32 {
		var p, s big.Float
		p.SetPrec(200).Mul(new(big.Float).SetFloat64(float64(x)), new(big.Float).SetFloat64(float64(y)))
		s.SetPrec(200).Add(&p, new(big.Float).SetFloat64(float64(z)))
		f, _ := s.Float32()
		return f
	}
	check := func(x, y, z float32) {
		t.Helper()
		g, w := fma32(x, y, z), want(x, y, z)
		if math.Float32bits(g) != math.Float32bits(w) && !(g == 0 && w == 0) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", x, y, z, g, w)
		}
	}
	for range 100000 {
		x := float32(rnd.NormFloat64())
		y := float32(rnd.NormFloat64())
		z := float32(rnd.NormFloat64())
		check(x, y, z)
		// Sums that fall halfway: x·y = 1 + 2⁻²⁴ exactly, and a small z
		// that decides the rounding a float64 sum would lose.
		check(1+0x1p-12, 1+0x1p-12, z*0x1p-60)
		check(-(1 + 0x1p-12), 1+0x1p-12, z*0x1p-60)
		check(x*0x1p-70, y*0x1p-70, z*0x1p-130) // subnormal results
		check(x*0x1p64, y*0x1p64, z*0x1p127)    // near overflow
	}
	// The halfway cases exactly, each way.
	for _, z := range []float32{0x1p-60, -0x1p-60, 0x1p-149, -0x1p-149, 0} {
		check(1+0x1p-12, 1+0x1p-12, z)
		check(0x1p-75, 0x1p-75, z) // 2⁻¹⁵⁰: halfway to the least subnormal
	}
}
