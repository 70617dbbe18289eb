package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// withKernel runs f with kn forced as the active kernel.
func withKernel(kn *kernel, f func()) {
	old := active.Load()
	active.Store(kn)
	defer active.Store(old)
	f()
}

// paths are the ways through the driver that a test forces in turn: the
// thresholds at which B and a transposed A are read in place, and at
// which work is split.
var paths = []struct {
	name                string
	direct, parallel, t int
}{
	{"packed/serial", 0, math.MaxInt, 1},
	{"direct/serial", math.MaxInt, math.MaxInt, 1},
	{"packed/parallel", 0, 0, 3},
	{"direct/parallel", math.MaxInt, 0, 2},
}

// withPath runs f with the driver forced along path p.
func withPath(p int, f func()) {
	d, da, o, procs := directRows, directACols, parallelOps, runtime.GOMAXPROCS(paths[p].t)
	directRows, directACols, parallelOps = paths[p].direct, paths[p].direct, paths[p].parallel
	defer func() { directRows, directACols, parallelOps = d, da, o; runtime.GOMAXPROCS(procs) }()
	f()
}

// problem is one product with its operands laid out in memory with
// strides wider than their rows, and NaN sentinels around them.
type problem struct {
	tA, tB      blas.Transpose
	m, n, k     int
	alpha, beta float64
	a, b, c     []float64
	lda, ldb    int
	ldc         int
}

const sentinel = -1234.5

// newProblem returns a random problem; pad widens every stride.
func newProblem(rnd *rand.Rand, tA, tB blas.Transpose, m, n, k, pad int, alpha, beta float64) *problem {
	ar, ac := m, k
	if tA != blas.NoTrans {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB != blas.NoTrans {
		br, bc = n, k
	}
	pr := &problem{tA: tA, tB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		lda: max(1, ac+pad), ldb: max(1, bc+pad), ldc: max(1, n+pad)}
	pr.a = matrix(rnd, ar, ac, pr.lda)
	pr.b = matrix(rnd, br, bc, pr.ldb)
	pr.c = matrix(rnd, m, n, pr.ldc)
	return pr
}

// matrix returns an r×c matrix of values in [−1, 1) with rows ld apart,
// the gaps and a tail filled with the sentinel.
func matrix(rnd *rand.Rand, r, c, ld int) []float64 {
	s := make([]float64, max(0, (r-1)*ld+c)+5)
	for i := range s {
		s[i] = sentinel
	}
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			s[i*ld+j] = 2*rnd.Float64() - 1
		}
	}
	return s
}

// check runs the problem through Dgemm and compares every element with
// gonum's reference Dgemm, within k·ε·(|α|·(|A|·|B|) + |β|·|C|) scaled
// by a small factor, and the sentinels with themselves.
func (pr *problem) check(t *testing.T, name string) {
	t.Helper()
	want := append([]float64(nil), pr.c...)
	gonum.Implementation{}.Dgemm(pr.tA, pr.tB, pr.m, pr.n, pr.k, pr.alpha, pr.a, pr.lda, pr.b, pr.ldb, pr.beta, want, pr.ldc)
	bound := make([]float64, len(pr.c))
	abs := func(s []float64) []float64 {
		r := make([]float64, len(s))
		for i, v := range s {
			r[i] = math.Abs(v)
		}
		return r
	}
	c0 := abs(pr.c)
	gonum.Implementation{}.Dgemm(pr.tA, pr.tB, pr.m, pr.n, pr.k, math.Abs(pr.alpha), abs(pr.a), pr.lda, abs(pr.b), pr.ldb, 0, bound, pr.ldc)
	got := append([]float64(nil), pr.c...)
	if pr.beta == 0 {
		// β = 0 must not read C.
		for i := 0; i < pr.m; i++ {
			for j := 0; j < pr.n; j++ {
				got[i*pr.ldc+j] = math.NaN()
			}
		}
	}
	Dgemm(pr.tA, pr.tB, pr.m, pr.n, pr.k, pr.alpha, pr.a, pr.lda, pr.b, pr.ldb, pr.beta, got, pr.ldc)
	eps := 0x1p-52
	for i := range got {
		inC := i/pr.ldc < pr.m && i%pr.ldc < pr.n
		if !inC {
			if got[i] != sentinel {
				t.Fatalf("%s: element %d outside C changed to %v", name, i, got[i])
			}
			continue
		}
		tol := 4 * float64(pr.k+2) * eps * (bound[i] + math.Abs(pr.beta)*c0[i])
		if d := math.Abs(got[i] - want[i]); !(d <= tol) {
			t.Fatalf("%s: C[%d,%d] = %v, want %v (difference %.3g, bound %.3g)", name, i/pr.ldc, i%pr.ldc, got[i], want[i], d, tol)
		}
	}
}

var transposes = []blas.Transpose{blas.NoTrans, blas.Trans}

func tName(t blas.Transpose) string {
	if t == blas.NoTrans {
		return "N"
	}
	return "T"
}

// TestDgemm compares Dgemm with gonum's reference for every kernel the
// processor runs, every path through the driver, all four transposes, and
// sizes from 0 to 300 including odd and prime ones.
func TestDgemm(t *testing.T) {
	sizes := []int{0, 1, 2, 3, 5, 7, 8, 13, 24, 25, 31, 64, 97, 131, 256, 300}
	if testing.Short() || raceEnabled {
		sizes = []int{0, 1, 3, 7, 8, 25, 31, 97, 131}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, kn := range kernels() {
		for p := range paths {
			t.Run(kn.name+"/"+paths[p].name, func(t *testing.T) {
				withKernel(kn, func() {
					withPath(p, func() {
						for _, tA := range transposes {
							for _, tB := range transposes {
								for _, m := range sizes {
									for _, n := range sizes {
										// k over a few sizes per (m, n), so that
										// the test stays short.
										for q := 0; q < 2; q++ {
											k := sizes[rnd.IntN(len(sizes))]
											pad := rnd.IntN(2) * 3
											alpha := []float64{1, -0.5, 2.5, 0}[rnd.IntN(4)]
											beta := []float64{0, 1, -1.5, 0.25}[rnd.IntN(4)]
											pr := newProblem(rnd, tA, tB, m, n, k, pad, alpha, beta)
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

// TestDgemmLarge checks products whose k spans several blocks and whose
// columns span several NC blocks.
func TestDgemmLarge(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, kn := range kernels() {
		for p := range paths {
			withKernel(kn, func() {
				withPath(p, func() {
					for _, sh := range [][3]int{{37, 700, 530}, {130, 341, 600}, {300, 13, 1025}} {
						for _, tA := range transposes {
							for _, tB := range transposes {
								pr := newProblem(rnd, tA, tB, sh[0], sh[1], sh[2], 1, 0.75, 0.5)
								pr.check(t, fmt.Sprintf("%s %s %s%s %v", kn.name, paths[p].name, tName(tA), tName(tB), sh))
							}
						}
					}
				})
			})
		}
	}
}

// TestDgemmDeterministic checks that a product is bit-identical whatever
// the path through the driver, the number of goroutines and, among the
// fused kernels, the kernel.
func TestDgemmDeterministic(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][3]int{{128, 256, 784}, {97, 300, 531}, {512, 10, 130}} {
		for _, tA := range transposes {
			for _, tB := range transposes {
				pr := newProblem(rnd, tA, tB, sh[0], sh[1], sh[2], 2, 0.3, 0.7)
				var first []float64
				var firstName string
				for _, kn := range kernels() {
					if !kn.fused {
						continue
					}
					for p := range paths {
						got := append([]float64(nil), pr.c...)
						withKernel(kn, func() {
							withPath(p, func() {
								Dgemm(tA, tB, pr.m, pr.n, pr.k, pr.alpha, pr.a, pr.lda, pr.b, pr.ldb, pr.beta, got, pr.ldc)
							})
						})
						name := kn.name + " " + paths[p].name
						if first == nil {
							first, firstName = got, name
							continue
						}
						for i := range got {
							if math.Float64bits(got[i]) != math.Float64bits(first[i]) {
								t.Fatalf("%v %s%s: element %d is %v with %s, %v with %s", sh, tName(tA), tName(tB), i, got[i], name, first[i], firstName)
							}
						}
					}
				}
			}
		}
	}
}

// TestDgemmNonFinite checks that NaN and infinities in A and B reach the
// elements of C they touch, as in reference BLAS (0·∞ is NaN), and only
// those.
func TestDgemmNonFinite(t *testing.T) {
	inf := math.Inf(1)
	for _, kn := range kernels() {
		for p := range paths {
			withKernel(kn, func() {
				withPath(p, func() {
					for _, sh := range [][3]int{{2, 3, 4}, {9, 30, 20}, {40, 50, 300}} {
						m, n, k := sh[0], sh[1], sh[2]
						rnd := rand.New(rand.NewPCG(7, 8))
						a := matrix(rnd, m, k, k)
						b := matrix(rnd, k, n, n)
						a[1*k+2] = math.NaN() // row 1 of C is NaN
						b[3*n+1] = inf        // column 1 is +∞ or −∞ or NaN
						a[0*k+3] = 0          // C[0,1] meets 0·∞: NaN
						c := make([]float64, m*n)
						Dgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, b, n, 0, c, n)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								// The sum as IEEE arithmetic has it, with no
								// term skipped.
								var s float64
								for q := 0; q < k; q++ {
									s += a[i*k+q] * b[q*n+j]
								}
								got := c[i*n+j]
								if math.IsNaN(s) != math.IsNaN(got) || math.IsInf(s, 0) && s != got || math.IsInf(got, 0) && s != got {
									t.Fatalf("%s %s %v: C[%d,%d] = %v, want %v", kn.name, paths[p].name, sh, i, j, got, s)
								}
							}
						}
						if !math.IsNaN(c[0*n+1]) {
							t.Errorf("%s %v: 0·∞ gave %v, want NaN", kn.name, sh, c[1])
						}
					}
				})
			})
		}
	}
}

// TestDgemmPanics checks the programmer errors.
func TestDgemmPanics(t *testing.T) {
	s := make([]float64, 100)
	for i, test := range []struct {
		f    func()
		want string
	}{
		{func() { Dgemm('x', blas.NoTrans, 1, 1, 1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: bad tA"},
		{func() { Dgemm(blas.NoTrans, 'x', 1, 1, 1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: bad tB"},
		{func() { Dgemm(blas.NoTrans, blas.NoTrans, -1, 1, 1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: m < 0"},
		{func() { Dgemm(blas.NoTrans, blas.NoTrans, 1, -1, 1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: n < 0"},
		{func() { Dgemm(blas.NoTrans, blas.NoTrans, 1, 1, -1, 1, s, 1, s, 1, 0, s, 1) }, "gemm: k < 0"},
		{func() { Dgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, s, 2, s, 2, 0, s, 2) }, "gemm: lda shorter than a row of A"},
		{func() { Dgemm(blas.NoTrans, blas.Trans, 2, 2, 3, 1, s, 3, s, 2, 0, s, 2) }, "gemm: ldb shorter than a row of B"},
		{func() { Dgemm(blas.NoTrans, blas.NoTrans, 2, 2, 3, 1, s, 3, s, 2, 0, s, 1) }, "gemm: ldc shorter than a row of C"},
		{func() {
			Dgemm(blas.NoTrans, blas.NoTrans, 20, 20, 20, 1, s, 20, s[:0], 20, 0, make([]float64, 400), 20)
		}, "gemm: a too short"},
		{func() { Dgemm(blas.NoTrans, blas.NoTrans, 5, 20, 5, 1, s, 5, s, 20, 0, make([]float64, 99), 20) }, "gemm: c too short"},
		{func() { Dgemm(blas.NoTrans, blas.NoTrans, 5, 20, 20, 1, s, 20, s, 20, 0, make([]float64, 100), 20) }, "gemm: b too short"},
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

// TestDgemv compares Dgemv with gonum's reference for both transposes,
// strides and increments, in serial and split over goroutines.
func TestDgemv(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	for _, par := range []int{math.MaxInt, 0} {
		old, procs := gemvParallel, runtime.GOMAXPROCS(2)
		gemvParallel = par
		for _, tA := range transposes {
			for _, m := range []int{0, 1, 3, 31, 64, 97, 784} {
				for _, n := range []int{0, 1, 4, 5, 31, 32, 33, 100, 256} {
					for _, inc := range []int{1, 2} {
						lda := max(1, n+rnd.IntN(3))
						a := matrix(rnd, m, n, lda)
						xl, yl := n, m
						if tA != blas.NoTrans {
							xl, yl = m, n
						}
						x := matrix(rnd, 1, max(0, (xl-1)*inc+1), 1)
						y := matrix(rnd, 1, max(0, (yl-1)*inc+1), 1)
						alpha := []float64{1, -0.5, 0}[rnd.IntN(3)]
						beta := []float64{0, 1, 0.3}[rnd.IntN(3)]
						want := append([]float64(nil), y...)
						gonum.Implementation{}.Dgemv(tA, m, n, alpha, a, lda, x, inc, beta, want, inc)
						got := append([]float64(nil), y...)
						if beta == 0 && m > 0 && n > 0 {
							for i := 0; i < yl; i++ {
								got[i*inc] = math.NaN()
							}
						}
						Dgemv(tA, m, n, alpha, a, lda, x, inc, beta, got, inc)
						for i := range got {
							if i%inc != 0 || i/inc >= yl {
								// Outside y: untouched. (gonum's own Go
								// GemvT, used on arm64, writes here.)
								if got[i] != y[i] {
									t.Fatalf("%s m=%d n=%d inc=%d: element %d outside y changed to %v", tName(tA), m, n, inc, i, got[i])
								}
								continue
							}
							tol := 8 * float64(max(m, n)+2) * 0x1p-52 * (float64(max(m, n)) + math.Abs(y[i]))
							if d := math.Abs(got[i] - want[i]); !(d <= tol) {
								t.Fatalf("%s m=%d n=%d inc=%d α=%v β=%v parallel=%v: y[%d] = %v, want %v", tName(tA), m, n, inc, alpha, beta, par == 0, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
		gemvParallel = old
		runtime.GOMAXPROCS(procs)
	}
}

// TestAllocs checks that warm calls allocate nothing, serial and split.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	procs := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(procs)
	rnd := rand.New(rand.NewPCG(11, 12))
	for _, sh := range [][3]int{{32, 128, 64}, {128, 256, 784}, {784, 256, 128}} {
		for _, tA := range transposes {
			pr := newProblem(rnd, tA, blas.NoTrans, sh[0], sh[1], sh[2], 0, 1, 0)
			f := func() {
				Dgemm(tA, blas.NoTrans, pr.m, pr.n, pr.k, 1, pr.a, pr.lda, pr.b, pr.ldb, 0, pr.c, pr.ldc)
			}
			f()
			if n := testing.AllocsPerRun(20, f); n != 0 {
				t.Errorf("%v %s: %v allocations per call, want 0", sh, tName(tA), n)
			}
		}
	}
	for _, sh := range [][3]int{{32, 128, 64}, {128, 256, 784}, {784, 256, 128}, {3, 5, 7}} {
		for _, tA := range transposes {
			pr := newSProblem(rnd, tA, blas.NoTrans, sh[0], sh[1], sh[2], 0, 1, 0)
			f := func() {
				Sgemm(tA, blas.NoTrans, pr.m, pr.n, pr.k, 1, pr.a, pr.lda, pr.b, pr.ldb, 0, pr.c, pr.ldc)
			}
			f()
			if n := testing.AllocsPerRun(20, f); n != 0 {
				t.Errorf("Sgemm %v %s: %v allocations per call, want 0", sh, tName(tA), n)
			}
		}
	}
	a, x, y := make([]float64, 784*256), make([]float64, 784), make([]float64, 256)
	f := func() { Dgemv(blas.Trans, 784, 256, 1, a, 256, x, 1, 0, y, 1) }
	f()
	if n := testing.AllocsPerRun(20, f); n != 0 {
		t.Errorf("Dgemv: %v allocations per call, want 0", n)
	}
	for _, par := range []int{math.MaxInt, 0} {
		old := gemvParallel
		gemvParallel = par
		a, x, y := make([]float32, 784*256), make([]float32, 784), make([]float32, 256)
		f := func() { Sgemv(blas.Trans, 784, 256, 1, a, 256, x, 1, 0, y, 1) }
		f()
		if n := testing.AllocsPerRun(20, f); n != 0 {
			t.Errorf("Sgemv parallel=%v: %v allocations per call, want 0", par == 0, n)
		}
		gemvParallel = old
	}
}

// TestGemvIsGemmRow checks that Dgemv gives the bits of the one-row
// Dgemm, and that the smallest products, which skip packing, give the bits
// of the packed ones.
func TestGemvIsGemmRow(t *testing.T) {
	rnd := rand.New(rand.NewPCG(13, 14))
	for _, kn := range kernels() {
		withKernel(kn, func() {
			for _, sh := range [][2]int{{784, 256}, {300, 37}, {3, 5}, {600, 3}} {
				m, n := sh[0], sh[1]
				a, x := matrix(rnd, m, n, n), matrix(rnd, 1, m, m)
				y, c := make([]float64, n), make([]float64, n)
				Dgemv(blas.Trans, m, n, 0.5, a, n, x, 1, 0, y, 1)
				Dgemm(blas.NoTrans, blas.NoTrans, 1, n, m, 0.5, x, m, a, n, 0, c, n)
				for j := range y {
					if math.Float64bits(y[j]) != math.Float64bits(c[j]) {
						t.Fatalf("%s %v: Dgemv y[%d] = %v, Dgemm %v", kn.name, sh, j, y[j], c[j])
					}
				}
			}
			// 2×3×300 is a tiny product; the same with more rows is packed.
			a, b := matrix(rnd, 40, 300, 300), matrix(rnd, 300, 3, 3)
			big, small := make([]float64, 40*3), make([]float64, 2*3)
			Dgemm(blas.NoTrans, blas.NoTrans, 40, 3, 300, 1, a, 300, b, 3, 0, big, 3)
			Dgemm(blas.NoTrans, blas.NoTrans, 2, 3, 300, 1, a, 300, b, 3, 0, small, 3)
			for i, v := range small {
				if math.Float64bits(v) != math.Float64bits(big[i]) {
					t.Fatalf("%s: tiny product element %d = %v, packed %v", kn.name, i, v, big[i])
				}
			}
		})
	}
}

// TestHugeStrides checks that strides so large that (rows−1)·stride
// overflows are refused, rather than letting a kernel past the slice.
func TestHugeStrides(t *testing.T) {
	backing := make([]float64, 1000)
	ones := make([]float64, 384)
	for i := range ones {
		ones[i] = 1
	}
	huge := 1<<61 + 100
	for i, test := range []struct {
		f    func()
		want string
	}{
		{func() {
			Dgemm(blas.NoTrans, blas.NoTrans, 8, 24, 16, 1, ones, 16, ones, 24, 0, backing[:24:24], huge)
		}, "gemm: c too short"},
		{func() {
			Dgemm(blas.NoTrans, blas.NoTrans, 8, 24, 16, 1, backing[:16:16], huge, ones, 24, 0, make([]float64, 8*24), 24)
		}, "gemm: a too short"},
		{func() {
			Dgemm(blas.NoTrans, blas.NoTrans, 8, 24, 16, 1, ones, 16, backing[:24:24], huge, 0, make([]float64, 8*24), 24)
		}, "gemm: b too short"},
		{func() {
			Dgemv(blas.Trans, 5, 32, 1, backing[:32:32], huge, ones, 1, 0, make([]float64, 32), 1)
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
