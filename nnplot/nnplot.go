// Package nnplot draws pictures of training runs of package nn with
// gonum.org/v1/plot.
//
// It is a separate package so that programs which only train and predict
// do not link the plotting library and its fonts.
//
// # Errors
//
// As in package nn, data problems (an empty report, a report without a
// finite loss, an unknown file format) are returned as errors; nothing
// here panics on bad data.
package nnplot

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/atomicfile"
)

// Size of the figures: 6×4 inches, drawn at 150 dots per inch in PNG
// (900×600 pixels).
const (
	width  = 6 * vg.Inch
	height = 4 * vg.Inch
	dpi    = 150
)

// formats lists the file formats that LossCurve and LossCurveTo write, by
// the name LossCurveTo takes and the file extension (without the dot) that
// LossCurve recognises.
var formats = []string{"png", "svg"}

// ErrFormat is wrapped by the error returned for a file format other than
// png and svg.
var ErrFormat = errors.New("unknown plot format")

// ErrNoData is wrapped by the error returned for a report without a single
// finite training loss.
var ErrNoData = errors.New("no finite loss to plot")

// LossCurve draws the loss curve of r (see LossCurveTo) into the file at
// path, as PNG or SVG according to the extension of path (".png" or ".svg",
// in any case). It is LossCurveWith with the default options.
func LossCurve(r *nn.Report, path string) error {
	return LossCurveWith(r, path, nil)
}

// LossCurveOptions are the options of LossCurveWith. The zero value, and a
// nil *LossCurveOptions, draw the plot that LossCurve and LossCurveTo draw.
type LossCurveOptions struct {
	// LogY draws the loss axis on a logarithmic scale, whatever the range
	// of the losses. A log scale cannot show a loss of 0 or less (a
	// training loss that reached exactly 0): such losses are drawn at the
	// bottom of the axis, one decade below the smallest positive loss,
	// and the axis label says so. When no loss is positive the axis stays
	// linear.
	//
	// When LogY is false, the loss axis is logarithmic only when all
	// losses are positive and span more than two orders of magnitude.
	LogY bool
}

// LossCurveWith draws the loss curve of r (see LossCurveTo) as opts say
// into the file at path, as PNG or SVG according to the extension of path
// (".png" or ".svg", in any case). A nil opts means the default options.
// It returns an error wrapping ErrFormat for any other extension, and
// ErrNoData for a report without a finite training loss, before it touches
// the file. The file is replaced atomically, as nn.Model.Save replaces a
// model file: the picture is written to a temporary file in the same
// directory, which is then renamed over path, so that a failed write
// leaves an existing file at path as it was and no temporary file behind.
// Every error names path after the package's prefix: "nnplot: loss.gif:
// unknown plot format ...". It panics if r is nil.
func LossCurveWith(r *nn.Report, path string, opts *LossCurveOptions) error {
	if opts == nil {
		opts = &LossCurveOptions{}
	}
	format := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	var b bytes.Buffer
	err := lossCurve(&b, format, r, opts)
	if err == nil {
		err = atomicfile.WriteFile(path, b.Bytes())
	}
	if err != nil {
		return fmt.Errorf("nnplot: %s: %w", path, err)
	}
	return nil
}

// LossCurveTo draws the loss of every epoch of r and writes it to w in the
// given format, "png" or "svg". The training loss is a solid line, the
// validation loss (when r has one) a dashed line, and a dotted vertical
// line marks the best epoch when early stopping restored the weights of an
// earlier epoch than the last; a framed legend in the top right corner
// names them. NaN and infinite losses are left out. The loss axis is
// logarithmic when all losses are positive and span more than two orders
// of magnitude, as the tutorial's falling cost does; LossCurveWith can
// ask for a logarithmic axis whatever the losses.
//
// LossCurveTo returns an error wrapping ErrFormat for an unknown format and
// ErrNoData if r has no finite training loss; it then writes nothing. It
// panics if r is nil.
func LossCurveTo(w io.Writer, format string, r *nn.Report) error {
	if err := lossCurve(w, format, r, &LossCurveOptions{}); err != nil {
		return fmt.Errorf("nnplot: %w", err)
	}
	return nil
}

// lossCurve is LossCurveTo with options and errors that name no package.
func lossCurve(w io.Writer, format string, r *nn.Report, opts *LossCurveOptions) error {
	if !slices.Contains(formats, format) {
		return fmt.Errorf("%w %q (want %s)", ErrFormat, format, strings.Join(formats, " or "))
	}
	train, val := losses(r)
	if len(train) == 0 {
		return fmt.Errorf("%w: the report has %d epochs", ErrNoData, len(r.History))
	}
	lo, hi := lossRange(train, val)
	logY := lo > 0 && hi/lo > 100
	var floor float64 // where losses ≤ 0 are drawn on a log axis, or 0
	if opts.LogY && !logY {
		if floor = logFloor(train, val); floor > 0 || lo > 0 {
			logY = true
		}
	}
	if floor > 0 {
		clamp(train, floor)
		clamp(val, floor)
	}
	p, key := newLossPlot()
	if err := addLine(p, key, "training", train, color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, nil); err != nil { // blue
		return err
	}
	if len(val) > 0 {
		if err := addLine(p, key, "validation", val, color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, []vg.Length{vg.Points(6), vg.Points(3)}); err != nil { // red, dashed
			return err
		}
	}
	if err := addBestEpoch(p, key, r, train, val); err != nil {
		return err
	}
	// The legend goes last, over the curves.
	p.Add(key)
	if logY {
		setLogY(p, train, val, floor)
	}
	return encode(w, format, p)
}

// losses returns the finite training and validation losses of r by epoch.
func losses(r *nn.Report) (train, val plotter.XYs) {
	train, val = make(plotter.XYs, 0, len(r.History)), make(plotter.XYs, 0, len(r.History))
	for _, e := range r.History {
		x := float64(e.Epoch)
		if finite(e.Loss) {
			train = append(train, plotter.XY{X: x, Y: e.Loss})
		}
		if finite(e.ValLoss) {
			val = append(val, plotter.XY{X: x, Y: e.ValLoss})
		}
	}
	return train, val
}

// lossRange returns the smallest and largest loss of the series.
func lossRange(series ...plotter.XYs) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, xys := range series {
		for _, xy := range xys {
			lo, hi = math.Min(lo, xy.Y), math.Max(hi, xy.Y)
		}
	}
	return lo, hi
}

// logFloor returns the value at which a log axis draws the losses ≤ 0 of
// the series, one decade below their smallest positive loss, or 0 if no
// loss is ≤ 0 or none is positive.
func logFloor(series ...plotter.XYs) float64 {
	least, clamped := math.Inf(1), false
	for _, xys := range series {
		for _, xy := range xys {
			if xy.Y > 0 {
				least = math.Min(least, xy.Y)
			} else {
				clamped = true
			}
		}
	}
	if !clamped || math.IsInf(least, 1) {
		return 0
	}
	return least / 10
}

// clamp raises the losses of xys below floor to floor.
func clamp(xys plotter.XYs, floor float64) {
	for i := range xys {
		xys[i].Y = math.Max(xys[i].Y, floor)
	}
}

// newLossPlot returns the empty plot of the losses, with a linear loss
// axis, and its empty legend, which is not added to the plot.
func newLossPlot() (*plot.Plot, *legend) {
	p := plot.New()
	p.Title.Text = "Loss per epoch"
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss"
	p.Add(plotter.NewGrid())
	p.Title.TextStyle.Font.Size = vg.Points(14)
	p.Title.Padding = vg.Points(6)
	p.Y.Tick.Marker = linearTicks{n: 8}
	key := newLegend(p)
	key.style.Font.Size = vg.Points(10)
	return p, key
}

// setLogY makes the loss axis of p logarithmic, over the positive losses
// of the series. floor, if not 0, is where losses ≤ 0 are drawn.
func setLogY(p *plot.Plot, train, val plotter.XYs, floor float64) {
	p.Y.Scale = plot.LogScale{}
	// The title says so, not the axis label: gonum/plot v0.17.0 places
	// the label's box at the arithmetic middle of the range, near the top
	// of a log axis, and shrinks the plot to make room for a long label.
	p.Title.Text = "Loss per epoch, log scale"
	if floor > 0 {
		p.Title.Text = "Loss per epoch, log scale (losses ≤ 0 at the bottom)"
	}
	// A log axis needs a range of positive numbers: the range of constant
	// losses, which gonum/plot would widen by 1 each way, is widened
	// by a factor of √10 instead.
	lo, hi := lossRange(train, val)
	if lo == hi {
		lo, hi = lo/math.Sqrt(10), hi*math.Sqrt(10)
	}
	ticks := newLogTicks(lo, hi)
	p.Y.Tick.Marker = ticks
	p.Y.Min, p.Y.Max = ticks.widen(lo, hi)
}

// addLine draws the series xys as a line of colour c, dashed if dashes is
// not nil, named in the legend key.
func addLine(p *plot.Plot, key *legend, name string, xys plotter.XYs, c color.Color, dashes []vg.Length) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return err
	}
	l.Color = c
	l.Width = vg.Points(1.5)
	l.Dashes = dashes
	p.Add(l)
	key.add(name, l)
	return nil
}

// addBestEpoch marks with a dotted vertical line the best epoch when early
// stopping restored the weights of an earlier epoch than the last.
func addBestEpoch(p *plot.Plot, key *legend, r *nn.Report, train, val plotter.XYs) error {
	n := len(r.History)
	lo, hi := lossRange(train, val)
	if r.BestEpoch <= 0 || n == 0 || r.BestEpoch >= r.History[n-1].Epoch || hi <= lo {
		return nil
	}
	best, err := plotter.NewLine(plotter.XYs{{X: float64(r.BestEpoch), Y: lo}, {X: float64(r.BestEpoch), Y: hi}})
	if err != nil {
		return err
	}
	best.Color = color.Gray{Y: 0x60}
	best.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	p.Add(best)
	key.add(fmt.Sprintf("best epoch (%d)", r.BestEpoch), best)
	return nil
}

// encode writes p to w in the format, "png" or "svg".
func encode(w io.Writer, format string, p *plot.Plot) error {
	var wt io.WriterTo
	switch format {
	case "png":
		img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(dpi))
		p.Draw(draw.New(img))
		wt = vgimg.PngCanvas{Canvas: img}
	case "svg":
		svg := vgsvg.New(width, height)
		p.Draw(draw.New(svg))
		wt = svg
	}
	_, err := wt.WriteTo(w)
	return err
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
