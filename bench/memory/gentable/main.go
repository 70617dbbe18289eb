// Command gentable writes the synthetic table of bench/memory.sh to
// standard output: gentable -rows 1000000 > table.csv.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/neuralgo/nn/internal/tablegen"
)

func main() {
	rows := flag.Int("rows", 1000000, "`number` of rows")
	seed := flag.Uint64("seed", 1, "`seed` of the values")
	flag.Parse()
	if err := tablegen.Write(os.Stdout, *rows, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gentable:", err)
		os.Exit(1)
	}
}
