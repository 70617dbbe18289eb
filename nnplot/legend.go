package nnplot

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// legend is the key of a loss plot: a sample of each line beside its name,
// in a filled and framed box in the top right corner of the data area.
// gonum/plot's Legend (v0.17.0) draws no background, so the curves and
// the best-epoch line would run through its text; and its Rectangle
// method, which could place one, puts a right-hand legend on the left. It
// is a plot.Plotter, added after the curves so that it is drawn over them.
type legend struct {
	style   text.Style // of the names
	entries []legendEntry
}

type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
}

// Sizes of the legend box.
var (
	legendMargin = vg.Points(6)  // from the corner of the data area
	legendPad    = vg.Points(5)  // inside the frame
	legendThumb  = vg.Points(24) // length of a line sample
	legendGap    = vg.Points(5)  // between a sample and its name

	// legendFill is white at 90% opacity: a line under the box still
	// shows, faintly, without crossing the text.
	legendFill  = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xe6}
	legendFrame = draw.LineStyle{Color: color.Gray{Y: 0xa0}, Width: vg.Points(0.5)}
)

// newLegend returns an empty legend whose names are written in the style
// of p's legend.
func newLegend(p *plot.Plot) *legend {
	return &legend{style: p.Legend.TextStyle}
}

// add adds a line to the legend, named name and drawn as t draws its
// thumbnail.
func (l *legend) add(name string, t plot.Thumbnailer) {
	l.entries = append(l.entries, legendEntry{name, t})
}

// box returns the rectangle the legend takes in the data area c.
func (l *legend) box(c draw.Canvas) vg.Rectangle {
	var w vg.Length
	for _, e := range l.entries {
		w = max(w, l.style.Width(e.name))
	}
	row := l.style.FontExtents().Height
	size := vg.Point{
		X: legendPad + legendThumb + legendGap + w + legendPad,
		Y: legendPad + row*vg.Length(len(l.entries)) + legendPad,
	}
	top := vg.Point{X: c.Max.X - legendMargin, Y: c.Max.Y - legendMargin}
	return vg.Rectangle{Min: top.Sub(size), Max: top}
}

// Plot implements plot.Plotter: it draws the legend in the data area c.
func (l *legend) Plot(c draw.Canvas, _ *plot.Plot) {
	if len(l.entries) == 0 {
		return
	}
	b := l.box(c)
	c.SetColor(legendFill)
	c.Fill(b.Path())
	c.StrokeLines(legendFrame, []vg.Point{b.Min, {X: b.Max.X, Y: b.Min.Y}, b.Max, {X: b.Min.X, Y: b.Max.Y}, b.Min})

	ext := l.style.FontExtents()
	sty := l.style
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
	top := b.Max.Y - legendPad
	for _, e := range l.entries {
		bottom := top - ext.Height
		thumb := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: b.Min.X + legendPad, Y: bottom},
			Max: vg.Point{X: b.Min.X + legendPad + legendThumb, Y: top},
		}}
		e.thumb.Thumbnail(&thumb)
		// With YBottom the point is the baseline: the descent (and line
		// gap) of the font goes below it.
		c.FillText(sty, vg.Point{X: thumb.Max.X + legendGap, Y: bottom + ext.Height - ext.Ascent}, e.name)
		top = bottom
	}
}
