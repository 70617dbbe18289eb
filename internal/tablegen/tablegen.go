// Package tablegen writes the synthetic table that the memory tests and
// bench/memory.sh train on: ten standard normal features and a class of
// three that depends on four of them, not linearly.
package tablegen

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
)

// Header is the first line of the table.
const Header = "x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,label\n"

// Write writes a header and rows rows of the table drawn from seed to w.
func Write(w io.Writer, rows int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	if _, err := bw.WriteString(Header); err != nil {
		return err
	}
	rnd := rand.New(rand.NewPCG(seed, 0x7461626c65)) // "table"
	var x [10]float64
	var line []byte
	for range rows {
		for j := range x {
			x[j] = rnd.NormFloat64()
		}
		line = line[:0]
		for _, v := range x {
			line = strconv.AppendFloat(line, v, 'f', 6, 64)
			line = append(line, ',')
		}
		switch s := x[0] + 0.5*x[1] - x[2]*x[3]; {
		case s < -0.5:
			line = append(line, 'a', '\n')
		case s < 0.5:
			line = append(line, 'b', '\n')
		default:
			line = append(line, 'c', '\n')
		}
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}
