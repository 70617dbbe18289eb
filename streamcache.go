package nn

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"

	"gonum.org/v1/gonum/mat"
)

// The cache of a Stream's parsed rows: the files the first pass writes,
// their reading a pass at a time, and the preparation of their rows for
// the network.

// rawPrep prepares the rows of a stream's cache for the network: the
// codes of categories and classes remapped to their sorted order, the
// features encoded and scaled, the class one-hot or the targets scaled,
// and the weight of the row and its class last.
type rawPrep struct {
	p            int // features
	classify     bool
	classes      int // of a classifier
	targets      int
	weighted     bool      // the rows are weighted: by a column, or their class
	rowWeights   bool      // the cached rows hold a weight
	enc          *Encoding // nil for none
	scaler       *Scaler   // nil for none
	yScaler      *Scaler
	catRemap     [][]int // of each feature: the sorted index of each code, or nil
	classRemap   []int   // the sorted index of each class code, or nil
	classWeights []float64
	x            []float64 // the features of a row, remapped
}

// digest returns a digest of what p makes of the cached rows, with the
// classes, so that a checkpoint tells a run on the same rows prepared
// otherwise (another scaling, class weights, categories) from its own.
func (p *rawPrep) digest(classes []string) string {
	h := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	var buf []byte
	floats := func(v []float64) {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(v)))
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
		}
		h.Write(buf)
	}
	text := func(v []string) {
		buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(len(v)))
		for _, t := range v {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(len(t)))
			buf = append(buf, t...)
		}
		h.Write(buf)
	}
	text(classes)
	floats(p.classWeights)
	for _, sc := range []*Scaler{p.scaler, p.yScaler} {
		if sc == nil {
			floats(nil)
			continue
		}
		floats(sc.Offset)
		floats(sc.Scale)
	}
	if p.enc != nil {
		for _, c := range p.enc.Columns {
			text(c.Categories)
			ind := 0.0
			if c.Indicator {
				ind = 1
			}
			floats([]float64{c.Fill, ind})
		}
	}
	return fmt.Sprintf("%08x", h.Sum32())
}

// inputs returns the number of inputs of a prepared row.
func (p *rawPrep) inputs() int {
	if p.enc != nil {
		return p.enc.Width()
	}
	return p.p
}

// outputs returns the number of targets of a prepared row, its weight
// included.
func (p *rawPrep) outputs(weights bool) int {
	n := p.targets
	if p.classify {
		n = p.classes
	}
	if weights && p.weighted {
		n++
	}
	return n
}

// row prepares the cached row raw into the input x and the targets y,
// with the weight last in y if weights.
func (p *rawPrep) row(x, y, raw []float64, weights bool) {
	if p.x == nil {
		p.x = make([]float64, p.p)
	}
	copy(p.x, raw[:p.p])
	for j, remap := range p.catRemap {
		if v := p.x[j]; remap != nil && v >= 0 {
			p.x[j] = float64(remap[int(v)])
		}
	}
	if p.enc != nil {
		p.enc.EncodeRow(x, p.x)
	} else {
		copy(x, p.x)
	}
	if p.scaler != nil {
		p.scaler.TransformRow(x, x)
	}
	k := p.p
	w := 1.0
	if p.classify {
		c := int(raw[k])
		if p.classRemap != nil {
			c = p.classRemap[c]
		}
		n := len(y)
		if weights && p.weighted {
			n--
		}
		clear(y[:n])
		y[c] = 1
		if p.classWeights != nil {
			w = p.classWeights[c]
		}
		k++
	} else {
		copy(y, raw[k:k+p.targets])
		p.yScaler.TransformRow(y[:p.targets], y[:p.targets])
		k += p.targets
	}
	if p.rowWeights {
		w *= raw[k]
	}
	if weights && p.weighted {
		y[len(y)-1] = w
	}
}

// cacheWriter writes rows of float64 to a cache file.
type cacheWriter struct {
	f    *os.File
	w    *bufio.Writer
	sum  hash.Hash32 // CRC-32C of the rows, to tell another table at resume
	buf  []byte
	name string // the name of the file, if it could not be removed at once
}

// newCacheWriter creates a cache file in dir, open for reading and
// writing, and removes its name at once where the system allows it (else
// close does), so that a program killed while it trains leaves no cache
// behind.
func newCacheWriter(dir string) (*cacheWriter, error) {
	f, err := os.CreateTemp(dir, "nn-stream-*.bin")
	if err != nil {
		return nil, fmt.Errorf("nn: the cache of the stream: %w", err)
	}
	c := &cacheWriter{f: f, w: bufio.NewWriterSize(f, 1<<16), sum: crc32.New(crc32.MakeTable(crc32.Castagnoli))}
	if os.Remove(f.Name()) != nil {
		c.name = f.Name()
	}
	return c, nil
}

func (c *cacheWriter) write(row []float64) error {
	c.buf = c.buf[:0]
	for _, v := range row {
		c.buf = binary.LittleEndian.AppendUint64(c.buf, math.Float64bits(v))
	}
	c.sum.Write(c.buf)
	if _, err := c.w.Write(c.buf); err != nil {
		return fmt.Errorf("nn: writing the cache of the stream: %w", err)
	}
	return nil
}

func (c *cacheWriter) flush() error {
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("nn: writing the cache of the stream: %w", err)
	}
	return nil
}

func (c *cacheWriter) close() {
	c.f.Close()
	if c.name != "" {
		os.Remove(c.name)
	}
}

// cacheSet is the rows of a cache file, read in order a pass at a time.
type cacheSet struct {
	file      *os.File // written by the first pass; closed by close
	rows      int
	prep      *rawPrep
	noWeights bool // the validation rows: targets without weights

	r     *bufio.Reader
	raw   []float64
	bytes []byte
	err   error
}

// width returns the number of values of a cached row.
func (c *cacheSet) width() int {
	p := c.prep
	w := p.p + p.targets
	if p.classify {
		w = p.p + 1
	}
	if p.rowWeights {
		w++
	}
	return w
}

// rewind starts a pass over the rows.
func (c *cacheSet) rewind() error {
	if c.r == nil {
		c.r = bufio.NewReaderSize(c.file, 1<<20)
		c.bytes = make([]byte, 8*c.width())
	}
	if _, err := c.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("nn: the cache of the stream: %w", err)
	}
	c.r.Reset(c.file)
	return nil
}

// next reads the next cached row into dst.
func (c *cacheSet) next(dst []float64) error {
	if _, err := io.ReadFull(c.r, c.bytes); err != nil {
		return fmt.Errorf("nn: reading the cache of the stream: %w", err)
	}
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(c.bytes[8*i:]))
	}
	return nil
}

func (c *cacheSet) close() {
	if c.file != nil {
		c.file.Close()
		c.file = nil
	}
}

// The validation rows as a blockSource.
func (c *cacheSet) len() int     { return c.rows }
func (c *cacheSet) inputs() int  { return c.prep.inputs() }
func (c *cacheSet) outputs() int { return c.prep.outputs(!c.noWeights) }
func (c *cacheSet) error() error { return c.err }

func (c *cacheSet) gatherRange(x, y *mat.Dense, off int) {
	if c.err != nil {
		return
	}
	if c.raw == nil {
		c.raw = make([]float64, c.width())
	}
	c.err = readBlock(c, c.raw, x, y, off)
}

func (c *cacheSet) prepare(x, y, raw []float64) { c.prep.row(x, y, raw, !c.noWeights) }
func (c *cacheSet) weighted() bool              { return c.prep.weighted && !c.noWeights }
