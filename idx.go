package nn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"gonum.org/v1/gonum/mat"
)

// maxIDXSize bounds the number of elements of an IDX file.
const maxIDXSize = 1 << 31

// ReadIDX reads an IDX file, the format of the MNIST and Fashion-MNIST data
// sets (http://yann.lecun.com/exdb/mnist/), plain or gzip-compressed (told
// apart by the gzip magic bytes 1f 8b). It returns the dimensions and the
// data in row-major order.
//
// An IDX file starts with the magic number: two zero bytes, a type byte and
// the number of dimensions; then each dimension as a big-endian uint32;
// then the data. Only type 0x08 (unsigned byte) is supported. ReadIDX
// returns an error for a bad magic number, another type, dimensions whose
// product exceeds 1<<31 or whose data would not fit in the memory budget
// (see SetMemoryBudget), data shorter than the dimensions say (wrapping
// io.ErrUnexpectedEOF) or longer, and gzip data that expands more than 100
// times its compressed length past its first MiB (a file of zeros made to
// take most of the budget; real IDX files expand 2 to 5 times).
func ReadIDX(r io.Reader) (dims []int, data []byte, err error) {
	dims, data, err = readIDX(r, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: %w", err)
	}
	return dims, data, nil
}

// readIDX is ReadIDX with errors that name no package. The caller will
// allocate perValue more bytes for each value, which the memory budget
// must hold too.
func readIDX(r io.Reader, perValue float64) (dims []int, data []byte, err error) {
	r, dims, err = openIDX(bufio.NewReader(r))
	if err != nil {
		return nil, nil, err
	}
	size := 1
	for _, d := range dims {
		size *= d
	}
	// The buffer below may hold twice the data while it grows.
	if err := overBudget(float64(size)*(2+perValue), fmt.Sprintf("idx: the %d values of dimensions %v", size, dims)); err != nil {
		return nil, nil, err
	}

	// Read at most size+1 bytes, growing the buffer as data arrives so that
	// a short file claiming huge dimensions does not allocate them.
	var buf bytes.Buffer
	buf.Grow(min(size+1, 1<<20))
	if _, err := buf.ReadFrom(io.LimitReader(r, int64(size)+1)); err != nil {
		return nil, nil, fmt.Errorf("idx: reading data: %w", eofIsUnexpected(err))
	}
	switch got := buf.Len(); {
	case got < size:
		return nil, nil, fmt.Errorf("idx: truncated data: got %d of %d bytes for dimensions %v: %w", got, size, dims, io.ErrUnexpectedEOF)
	case got > size:
		return nil, nil, fmt.Errorf("idx: trailing data after %d bytes for dimensions %v", size, dims)
	}
	return dims, buf.Bytes(), nil
}

// openIDX reads the header of the IDX data of br, uncompressing gzip data
// (told apart by its magic bytes), and returns a reader of its values and
// its dimensions, whose product is checked not to exceed maxIDXSize.
func openIDX(br *bufio.Reader) (body io.Reader, dims []int, err error) {
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		in := &countReader{r: br}
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, nil, fmt.Errorf("idx: %w", err)
		}
		r = &ratioReader{r: zr, in: in}
	}
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("idx: reading magic number: %w", eofIsUnexpected(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, nil, fmt.Errorf("idx: bad magic number % x: not an IDX file", magic)
	}
	if magic[2] != 0x08 {
		return nil, nil, fmt.Errorf("idx: unsupported data type 0x%02x: only 0x08 (unsigned byte)", magic[2])
	}
	ndims := int(magic[3])
	if ndims == 0 {
		return nil, nil, errors.New("idx: no dimensions")
	}
	raw := make([]byte, 4*ndims)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, fmt.Errorf("idx: reading %d dimensions: %w", ndims, eofIsUnexpected(err))
	}
	dims = make([]int, ndims)
	size := 1
	for i := range dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		if uint64(d)*uint64(size) > maxIDXSize {
			return nil, nil, fmt.Errorf("idx: dimensions too large: product exceeds %d at dimension %d (%d)", maxIDXSize, i, d)
		}
		dims[i] = int(d)
		size *= dims[i]
	}
	return r, dims, nil
}

// maxGzipRatio bounds how many times its compressed length the data of
// a gzip-compressed IDX file may take, past the first gzipGrace bytes, so
// that a small file of zeros (deflate reaches 1032 times) cannot make the
// reader allocate most of the memory budget: real IDX files expand 2 to
// 5 times (MNIST's training images 4.7). Apache POI's ZipSecureFile holds
// zip files to the same ratio.
const (
	maxGzipRatio = 100
	gzipGrace    = 1 << 20
)

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// ratioReader reads the decompressed data of r, and fails once it is more
// than maxGzipRatio times the compressed bytes counted by in.
type ratioReader struct {
	r   io.Reader
	in  *countReader
	out int64
}

func (z *ratioReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.out += int64(n)
	if z.out > gzipGrace && z.out > maxGzipRatio*z.in.n {
		return n, fmt.Errorf("gzip data expands more than %d times: %d bytes from %d compressed; not the data of an IDX file", maxGzipRatio, z.out, z.in.n)
	}
	return n, err
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// loadIDX reads the IDX file at path, checking it has ndims dimensions;
// perValue is as for readIDX.
func loadIDX(path string, ndims int, perValue float64) (dims []int, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	dims, data, err = readIDX(f, perValue)
	if err != nil {
		return nil, nil, &ParseError{File: path, Err: err}
	}
	if len(dims) != ndims {
		return nil, nil, &ParseError{File: path, Err: fmt.Errorf("idx: %d dimensions %v, want %d", len(dims), dims, ndims)}
	}
	return dims, data, nil
}

// LoadIDXImages reads the IDX images file at path (n images of rows×cols
// pixels, such as train-images-idx3-ubyte.gz) into an n×(rows·cols) matrix,
// one image per row, scaling each pixel x to x/255 in [0, 1]. Problems in
// the file, a file holding no images among them, are returned as a
// *ParseError naming it; errors of opening it as they are.
func LoadIDXImages(path string) (*mat.Dense, error) {
	dims, data, err := loadIDX(path, 3, float64Bytes)
	if err != nil {
		return nil, err
	}
	n, p := dims[0], dims[1]*dims[2]
	if n == 0 || p == 0 {
		return nil, &ParseError{File: path, Err: fmt.Errorf("idx: no images in dimensions %v", dims)}
	}
	x := make([]float64, len(data))
	for i, b := range data {
		x[i] = float64(b) / 255
	}
	return mat.NewDense(n, p, x), nil
}

// LoadIDXLabels reads the IDX labels file at path (one dimension, such as
// train-labels-idx1-ubyte.gz) and returns the labels. Problems in the
// file, a file holding no labels among them, are returned as a *ParseError
// naming it; errors of opening it as they are.
func LoadIDXLabels(path string) ([]int, error) {
	_, data, err := loadIDX(path, 1, float64Bytes)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, &ParseError{File: path, Err: errors.New("idx: no labels")}
	}
	labels := make([]int, len(data))
	for i, b := range data {
		labels[i] = int(b)
	}
	return labels, nil
}
