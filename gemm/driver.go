package gemm

import (
	"math"
	"runtime"
	"unsafe"
)

// Blocking: the product is taken KC rows of op(B) at a time. For each
// block, op(A) is packed MR rows at a time into a panel (at most 16 KiB)
// that stays in the level-1 cache while the kernel passes it over NC
// columns of op(B), packed beforehand into panels of NR columns. Those
// panels stream from the level-2 or level-3 cache, at a rate that the
// caches sustain easily, and each panel of A is packed only once. NC is a
// multiple of every kernel's NR in both precisions.
//
// KC is the same for float32, although its panels take half the bytes:
// blocks of 512 rows measured no faster (within 1% on every benchmark
// shape), and one KC keeps the order of the sums alike in both.
const (
	kc = 256
	nc = 4080
)

// directRows is the number of rows of op(A), in one part of the work, up
// to which a B that is not transposed is read where it lies instead of
// being packed: packing costs about as much as one pass of the kernel
// over B, and is repaid only when many panels of A pass over it.
var directRows = 256

// directACols is the number of columns of C, in one part of the work, up
// to which A is read where it lies instead of being packed: each panel of
// A then passes over so few panels of B that packing it costs more than
// reading it in place.
var directACols = 32

// parallelOps is the work, in multiply-adds at the kernel's full rate,
// from which a product is split over goroutines: about 10 µs of one core,
// several times what handing a part to another goroutine costs. (Products
// narrower than a panel count double, as the kernel runs them at about
// half its rate. A float32 multiply-add takes half the time of a float64
// one, so float32 products split from twice the time: splitting the
// products of the small workload's step, of 2 to 6 µs, made its steps
// erratic, from 18,000 to 35,000 a second from one run to the next.)
var parallelOps = 300_000

// A workspace holds the packing buffers of one goroutine, for either
// precision; those of a precision it never multiplies stay empty.
type workspace struct {
	d buffers[float64]
	s buffers[float32]
}

// buffersOf returns w's buffers for the element type T.
func buffersOf[T float](w *workspace) *buffers[T] {
	if b, ok := any(&w.d).(*buffers[T]); ok {
		return b
	}
	return any(&w.s).(*buffers[T])
}

// buffers are the packing buffers of one precision: a panel of op(A), a
// block of op(B), a padded panel of the last columns of B, and a tile of
// C for the edges.
type buffers[T float] struct {
	a, b, edge, tmp []T
}

// grow sizes w's buffers for the tiles t and n columns of op(B).
func (w *buffers[T]) grow(t *tiles, n int) {
	if len(w.a) < t.mr*kc {
		w.a = aligned[T](t.mr * kc)
	}
	if nb := kc * min(nc, (n+t.nr-1)/t.nr*t.nr); len(w.b) < nb {
		w.b = aligned[T](nb)
	}
	if len(w.edge) < kc*t.nr {
		w.edge = aligned[T](kc * t.nr)
	}
	if len(w.tmp) < t.mr*t.nr {
		w.tmp = aligned[T](t.mr * t.nr)
	}
}

// aligned returns a slice of n zeros that starts on a 64-byte boundary, the
// width of a cache line and of a zmm register.
func aligned[T float](n int) []T {
	size := int(unsafe.Sizeof(T(0)))
	per := 64 / size // values in 64 bytes
	s := make([]T, n+per-1)
	off := int(uintptr(unsafe.Pointer(&s[0]))%64) / size
	if off != 0 {
		off = per - off
	}
	return s[off : off+n : off+n]
}

// part computes rows [i0, i1) and columns [j0, j1) of g's C with the
// kernel kn.
func (w *buffers[T]) part(g *args[T], kn *kernel, i0, i1, j0, j1 int) {
	t := tilesOf[T](kn)
	mr := t.mr
	direct := !g.tB && i1-i0 <= directRows
	if direct {
		w.grow(t, 0)
	} else {
		w.grow(t, j1-j0)
	}
	for jc := j0; jc < j1; jc += nc {
		ncur := min(nc, j1-jc)
		for pc := 0; pc < g.k; pc += kc {
			kcur := min(kc, g.k-pc)
			beta := g.beta
			if pc > 0 {
				beta = 1
			}
			if !direct {
				packB(w.b, g, t, pc, jc, kcur, ncur)
			}
			for ir := i0; ir < i1; ir += mr {
				mcur := min(mr, i1-ir)
				// The panel of A: packed, or where it lies when it passes
				// over so few panels of B that packing would not pay.
				ap, lda, rows := w.a, mr, false
				switch {
				case mcur < mr || ncur > directACols:
					packA(w.a, g, ir, pc, mcur, kcur, mr)
				case g.tA:
					// Each column of the panel is a piece of a row of a.
					ap, lda = g.a[pc*g.lda+ir:], g.lda
				default:
					ap, lda, rows = g.a[ir*g.lda+pc:], g.lda, true
				}
				for jr := 0; jr < ncur; {
					pw := t.width(ncur - jr) // the panel's width
					ncr := min(pw, ncur-jr)  // and the columns of C it covers
					mask := t.mask(pw, ncr)
					var bp []T
					ldb := pw
					switch {
					case !direct:
						bp = w.b[jr*kcur:]
					case ncr == pw || mask != 0:
						// In place; a masked kernel reads only the columns
						// there are.
						bp, ldb = g.b[pc*g.ldb+jc+jr:], g.ldb
					default:
						// The last columns, padded.
						if ir == i0 {
							packPanel(w.edge, g, pc, jc+jr, kcur, ncr, pw)
						}
						bp = w.edge
					}
					c := g.c[ir*g.ldc+jc+jr:]
					if mcur == mr && (ncr == pw || mask != 0) {
						call(kn, pw, rows, mask, kcur, ap, lda, bp, ldb, c, g.ldc, g.alpha, beta)
					} else {
						// An edge tile goes through w.tmp, rounded as the
						// kernel rounds.
						call(kn, pw, rows, mask, kcur, ap, lda, bp, ldb, w.tmp, pw, 1, 0)
						merge(c, g.ldc, w.tmp, pw, mcur, ncr, g.alpha, beta, kn.fused)
					}
					jr += ncr
				}
			}
		}
	}
}

// merge stores α·t + β·c for the mr×nr tile t with rows ldt apart into c,
// as a kernel would: fma(β, c, α·t) if fused.
func merge[T float](c []T, ldc int, t []T, ldt, mr, nr int, alpha, beta T, fused bool) {
	for i := 0; i < mr; i++ {
		cr, tr := c[i*ldc:i*ldc+nr], t[i*ldt:i*ldt+nr]
		for j, v := range tr {
			cr[j] = store(v, cr[j], alpha, beta, fused)
		}
	}
}

// packA copies rows [i0, i0+m) and columns [p0, p0+k) of op(A) into dst,
// column by column, mr values to a column, padded with zeros.
func packA[T float](dst []T, g *args[T], i0, p0, m, k, mr int) {
	dst = dst[:k*mr]
	if g.tA {
		// op(A)(i, p) = a[p·lda + i]: each column of the panel is a piece
		// of a row of a.
		a := g.a[p0*g.lda+i0:]
		switch {
		case m == 8 && mr == 8:
			for p := 0; p < k; p++ {
				s := a[p*g.lda : p*g.lda+8 : p*g.lda+8]
				d := dst[8*p : 8*p+8 : 8*p+8]
				d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
			}
			return
		case m == 6 && mr == 6:
			for p := 0; p < k; p++ {
				s := a[p*g.lda : p*g.lda+6 : p*g.lda+6]
				d := dst[6*p : 6*p+6 : 6*p+6]
				d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
			}
			return
		case m == 4 && mr == 4:
			for p := 0; p < k; p++ {
				s := a[p*g.lda : p*g.lda+4 : p*g.lda+4]
				d := dst[4*p : 4*p+4 : 4*p+4]
				d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
			}
			return
		}
		for p := 0; p < k; p++ {
			src := g.a[(p0+p)*g.lda+i0:][:m]
			d := dst[p*mr : p*mr+mr]
			for i, v := range src {
				d[i] = v
			}
			clear(d[m:])
		}
		return
	}
	// op(A)(i, p) = a[i·lda + p]
	a := g.a[i0*g.lda+p0:]
	switch {
	case m == 8 && mr == 8:
		gather8(dst, 8, a, g.lda, k)
		return
	case m == 6 && mr == 6:
		gather6(dst, 6, a, g.lda, k)
		return
	case m == 4 && mr == 4:
		gather4(dst, 4, a, g.lda, k)
		return
	}
	for i := 0; i < m; i++ {
		for p, v := range a[i*g.lda : i*g.lda+k] {
			dst[p*mr+i] = v
		}
	}
	if m < mr {
		for p := 0; p < k; p++ {
			clear(dst[p*mr+m : p*mr+mr])
		}
	}
}

// gather8 transposes the first k columns of 8 rows of a, lda apart, into
// dst: column p of a goes to the 8 values at dst[p·ldd].
func gather8[T float](dst []T, ldd int, a []T, lda, k int) {
	r0, r1, r2, r3 := a[:k], a[lda:lda+k], a[2*lda:2*lda+k], a[3*lda:3*lda+k]
	r4, r5, r6, r7 := a[4*lda:4*lda+k], a[5*lda:5*lda+k], a[6*lda:6*lda+k], a[7*lda:7*lda+k]
	for p := range r0 {
		d := dst[ldd*p : ldd*p+8 : ldd*p+8]
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
		d[4], d[5], d[6], d[7] = r4[p], r5[p], r6[p], r7[p]
	}
}

// gather6 is gather8 for 6 rows.
func gather6[T float](dst []T, ldd int, a []T, lda, k int) {
	r0, r1, r2 := a[:k], a[lda:lda+k], a[2*lda:2*lda+k]
	r3, r4, r5 := a[3*lda:3*lda+k], a[4*lda:4*lda+k], a[5*lda:5*lda+k]
	for p := range r0 {
		d := dst[ldd*p : ldd*p+6 : ldd*p+6]
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// gather4 is gather8 for 4 rows.
func gather4[T float](dst []T, ldd int, a []T, lda, k int) {
	r0, r1, r2, r3 := a[:k], a[lda:lda+k], a[2*lda:2*lda+k], a[3*lda:3*lda+k]
	for p := range r0 {
		d := dst[ldd*p : ldd*p+4 : ldd*p+4]
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
	}
}

// packB copies rows [p0, p0+k) and columns [j0, j0+n) of op(B) into dst in
// panels of the widths of the tiles t (see tiles.width), one after
// another, each row by row, the last padded with zeros.
func packB[T float](dst []T, g *args[T], t *tiles, p0, j0, k, n int) {
	for jr := 0; jr < n; {
		pw := t.width(n - jr)
		w := min(pw, n-jr)
		packPanel(dst[jr*k:], g, p0, j0+jr, k, w, pw)
		jr += w
	}
}

// packPanel copies rows [p0, p0+k) and columns [j0, j0+w) of op(B) into
// dst, row by row, each padded with zeros to pw values.
func packPanel[T float](dst []T, g *args[T], p0, j0, k, w, pw int) {
	dst = dst[:k*pw]
	if !g.tB {
		// op(B)(p, j) = b[p·ldb + j]
		for p := 0; p < k; p++ {
			d := dst[p*pw : p*pw+pw]
			copy(d, g.b[(p0+p)*g.ldb+j0:][:w])
			for j := w; j < pw; j++ {
				d[j] = 0 // a call to clear costs more for so few
			}
		}
		return
	}
	// op(B)(p, j) = b[j·ldb + p]: each column of the panel is a piece of
	// a row of b, and 8 of them at a time make the rows of the panel.
	b := g.b[j0*g.ldb+p0:]
	j := 0
	for ; j+8 <= w; j += 8 {
		gather8(dst[j:], pw, b[j*g.ldb:], g.ldb, k)
	}
	for ; j+4 <= w; j += 4 {
		gather4(dst[j:], pw, b[j*g.ldb:], g.ldb, k)
	}
	for ; j < w; j++ {
		for p, v := range b[j*g.ldb : j*g.ldb+k] {
			dst[p*pw+j] = v
		}
	}
	for p := 0; p < k; p++ {
		for j := w; j < pw; j++ {
			dst[p*pw+j] = 0
		}
	}
}

// run computes g's product with the kernel kn, split over goroutines if it
// is large enough.
func run[T float](g *args[T], kn *kernel) {
	t := tilesOf[T](kn)
	procs := runtime.GOMAXPROCS(0)
	work := ops(g.m, g.n, g.k)
	if g.n < t.nr && work < math.MaxInt/2 {
		work *= 2
	}
	if procs == 1 || work < parallelOps {
		w := getWorkspace()
		buffersOf[T](w).part(g, kn, 0, g.m, 0, g.n)
		putWorkspace(w)
		return
	}
	tilesM, tilesN := (g.m+t.mr-1)/t.mr, (g.n+t.nr-1)/t.nr
	byCols := tilesN >= tilesM
	split := tilesM // the tiles along the split
	if byCols {
		split = tilesN
	}
	parts := min(procs, split)
	if parts == 1 {
		w := getWorkspace()
		buffersOf[T](w).part(g, kn, 0, g.m, 0, g.n)
		putWorkspace(w)
		return
	}
	j := getJob(g, kn)
	j.start(parts - 1)
	for q := parts - 1; q >= 0; q-- {
		p := task{j: j, i0: 0, i1: g.m, j0: 0, j1: g.n}
		lo, hi := q*split/parts, (q+1)*split/parts
		if byCols {
			p.j0, p.j1 = lo*t.nr, min(hi*t.nr, g.n)
		} else {
			p.i0, p.i1 = lo*t.mr, min(hi*t.mr, g.m)
		}
		if q > 0 {
			submit(p, parts-1)
			continue
		}
		w := getWorkspace()
		p.run(w)
		putWorkspace(w)
	}
	j.wait()
	putJob(j)
}
