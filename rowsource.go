package nn

// Training a Network on rows read in passes from a source of the caller's
// (Rows), such as the IDX files of MNIST read a row at a time (IDXRows).

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"gonum.org/v1/gonum/mat"
)

// Rows is a source of examples read in passes, for TrainRows: a table too
// large to hold, read again every epoch.
type Rows interface {
	// Rewind starts a pass over the rows, from the first.
	Rewind() error
	// Next stores the inputs of the next row in x and its targets in y,
	// and returns io.EOF after the last row of the pass.
	Next(x, y []float64) error
}

// TrainRows trains n on the rows of train, validated after every epoch on
// the rows of val (nil for none), as Train does on matrices: the same
// methods but gd and lbfgs (which take a step on every row at once), the
// same schedules, early stopping, checkpoints and resume. A first pass
// over each source counts its rows and checks that they are finite; each
// epoch then reads train once, in order, through a shuffle buffer of
// buffer rows (zero means DefaultShuffleBuffer) from which the rows of the
// batches are drawn at random, and val a block of rows at a time, so that
// memory is bounded by the buffer and the batches, not by the rows.
//
// Settings.ValidationFraction, ValidationX and Weights do not apply: the
// validation rows are val. The fingerprint of a checkpoint covers the
// rows by a CRC-32C of their values, and the buffer.
func TrainRows(ctx context.Context, n *Network, train, val Rows, buffer int, s *Settings) (*Report, error) {
	if buffer < 0 {
		return nil, fmt.Errorf("nn: a shuffle buffer of %d rows", buffer)
	}
	if buffer == 0 {
		buffer = DefaultShuffleBuffer
	}
	if s != nil && (s.ValidationFraction != 0 || s.ValidationX != nil || s.ValidationY != nil || s.Weights != nil) {
		return nil, errors.New("nn: TrainRows takes its validation rows as val, and no Settings.ValidationFraction, ValidationX or Weights")
	}
	in, out := n.sizes[0], n.sizes[len(n.sizes)-1]
	t := &rowsSet{r: train, in: in, out: out, name: "train"}
	sum := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if err := t.count(sum); err != nil {
		return nil, err
	}
	digest := fmt.Sprintf("%d:%08x", t.rows, sum.Sum32())
	var v passSet
	if val != nil {
		vs := &rowsSet{r: val, in: in, out: out, name: "val"}
		sum.Reset()
		if err := vs.count(sum); err != nil {
			return nil, err
		}
		digest += fmt.Sprintf("/%d:%08x", vs.rows, sum.Sum32())
		v = vs
	}
	return trainStream(ctx, n, s, t, v, min(buffer, t.rows), digest)
}

// rowsSet is Rows as a passSet.
type rowsSet struct {
	r       Rows
	in, out int
	name    string // "train" or "val", for errors
	rows    int
	err     error
	raw     []float64 // a row as read, for the blocks of validation
}

// count runs a first pass over the rows, counting them, checking that
// they are finite, and adding their values to sum.
func (s *rowsSet) count(sum io.Writer) error {
	if err := s.rewind(); err != nil {
		return err
	}
	raw := make([]float64, s.width())
	buf := make([]byte, 8*len(raw))
	for s.rows = 0; ; s.rows++ {
		err := s.r.Next(raw[:s.in], raw[s.in:])
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("nn: TrainRows: row %d of %s: %w", s.rows, s.name, err)
		}
		for j, v := range raw {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				what, k := "input", j
				if j >= s.in {
					what, k = "target", j-s.in
				}
				return fmt.Errorf("nn: TrainRows: row %d of %s: %s %d is %v: %w", s.rows, s.name, what, k, v, ErrNotFinite)
			}
			binary.LittleEndian.PutUint64(buf[8*j:], math.Float64bits(v))
		}
		sum.Write(buf)
	}
	if s.rows == 0 {
		return fmt.Errorf("nn: TrainRows: %s has no rows: %w", s.name, ErrEmpty)
	}
	return nil
}

func (s *rowsSet) width() int { return s.in + s.out }

func (s *rowsSet) rewind() error {
	if err := s.r.Rewind(); err != nil {
		return fmt.Errorf("nn: TrainRows: rewinding %s: %w", s.name, err)
	}
	return nil
}

func (s *rowsSet) next(raw []float64) error {
	err := s.r.Next(raw[:s.in], raw[s.in:])
	if err == io.EOF {
		return fmt.Errorf("nn: TrainRows: %s ended before the %d rows of its first pass: %w", s.name, s.rows, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return fmt.Errorf("nn: TrainRows: %s: %w", s.name, err)
	}
	return nil
}

func (s *rowsSet) prepare(x, y, raw []float64) {
	copy(x, raw[:s.in])
	copy(y, raw[s.in:])
}

func (s *rowsSet) len() int       { return s.rows }
func (s *rowsSet) inputs() int    { return s.in }
func (s *rowsSet) outputs() int   { return s.out }
func (s *rowsSet) error() error   { return s.err }
func (s *rowsSet) weighted() bool { return false }
func (s *rowsSet) close()         {}

func (s *rowsSet) gatherRange(x, y *mat.Dense, off int) {
	if s.err != nil {
		return
	}
	if s.raw == nil {
		s.raw = make([]float64, s.width())
	}
	s.err = readBlock(s, s.raw, x, y, off)
}

// IDXRows reads the images and labels of a pair of IDX files (MNIST,
// Fashion-MNIST), plain or gzip-compressed, a row at a time, as Rows:
// each image's pixels scaled to [0, 1] as LoadIDXImages scales them, and
// its label one-hot over Classes outputs. It holds one row and the
// buffers of its readers, whatever the size of the files. Close closes
// the files.
type IDXRows struct {
	Images, Labels string // the paths of the files
	Classes        int    // the number of classes, the network's outputs

	img, lab   *os.File
	imgR, labR io.Reader
	pixels     []byte
	label      [1]byte
	n, i       int // images, and the next one
}

// Rewind opens the files, or starts them again, and checks that they hold
// as many images as labels. A problem in the files is a *ParseError
// naming the file.
func (r *IDXRows) Rewind() error {
	r.Close()
	var err error
	var imgDims, labDims []int
	if r.img, r.imgR, imgDims, err = openIDXFile(r.Images, 3); err != nil {
		return err
	}
	if r.lab, r.labR, labDims, err = openIDXFile(r.Labels, 1); err != nil {
		return err
	}
	if imgDims[0] != labDims[0] {
		return &ParseError{File: r.Labels, Err: fmt.Errorf("idx: %d labels for the %d images of %s", labDims[0], imgDims[0], r.Images)}
	}
	r.n, r.i = imgDims[0], 0
	p := imgDims[1] * imgDims[2]
	if p == 0 {
		return &ParseError{File: r.Images, Err: fmt.Errorf("idx: images of no pixels in dimensions %v", imgDims)}
	}
	if len(r.pixels) != p {
		// A row of the header's size: its bytes, and the inputs of the
		// row the caller holds.
		if err := overBudget(float64(p)*(1+float64Bytes), fmt.Sprintf("idx: an image of %d×%d pixels", imgDims[1], imgDims[2])); err != nil {
			return &ParseError{File: r.Images, Err: err}
		}
		r.pixels = make([]byte, p)
	}
	return nil
}

// Next stores the next image's pixels in x and its label, one-hot, in y.
// It returns an error if x is not as long as an image or y not Classes
// long, or if the label is not below Classes.
func (r *IDXRows) Next(x, y []float64) error {
	if r.imgR == nil {
		return errors.New("nn: IDXRows.Next before Rewind")
	}
	if r.i == r.n {
		return io.EOF
	}
	if len(x) != len(r.pixels) || len(y) != r.Classes {
		return fmt.Errorf("nn: IDXRows: a row of %d inputs and %d outputs for images of %d pixels and %d classes: %w", len(x), len(y), len(r.pixels), r.Classes, ErrShape)
	}
	if _, err := io.ReadFull(r.imgR, r.pixels); err != nil {
		return &ParseError{File: r.Images, Err: fmt.Errorf("idx: image %d: %w", r.i, eofIsUnexpected(err))}
	}
	if _, err := io.ReadFull(r.labR, r.label[:]); err != nil {
		return &ParseError{File: r.Labels, Err: fmt.Errorf("idx: label %d: %w", r.i, eofIsUnexpected(err))}
	}
	for j, b := range r.pixels {
		x[j] = float64(b) / 255
	}
	c := int(r.label[0])
	if c >= r.Classes {
		return &ParseError{File: r.Labels, Err: fmt.Errorf("idx: label %d of row %d is not one of the %d classes", c, r.i, r.Classes)}
	}
	clear(y)
	y[c] = 1
	r.i++
	return nil
}

// Close closes the files.
func (r *IDXRows) Close() error {
	var err error
	for _, f := range []*os.File{r.img, r.lab} {
		if f != nil {
			if e := f.Close(); e != nil && err == nil {
				err = e
			}
		}
	}
	r.img, r.lab, r.imgR, r.labR = nil, nil, nil, nil
	return err
}

// openIDXFile opens the IDX file at path, checks that it has ndims
// dimensions, and returns the file, for the caller to close, and a reader
// of its values.
func openIDXFile(path string, ndims int) (*os.File, io.Reader, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	body, dims, err := openIDX(bufio.NewReaderSize(f, 1<<16))
	if err == nil && len(dims) != ndims {
		err = fmt.Errorf("idx: %d dimensions %v, want %d", len(dims), dims, ndims)
	}
	if err != nil {
		f.Close()
		return nil, nil, nil, &ParseError{File: path, Err: err}
	}
	return f, body, dims, nil
}
