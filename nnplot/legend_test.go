package nnplot

import (
	"testing"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

// TestLegendBox checks that the legend fills its box before it writes the
// names, and that every name and line sample lies inside the box, in the
// top right corner of the data area: a curve under the legend is covered
// and cannot cross its text.
func TestLegendBox(t *testing.T) {
	_, key := newLossPlot()
	for _, name := range []string{"training", "validation", "best epoch (40)"} {
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			t.Fatal(err)
		}
		key.add(name, l)
	}
	var rec recorder.Canvas
	area := draw.NewCanvas(&rec, 6*vg.Inch, 4*vg.Inch)
	key.Plot(area, nil)

	var (
		box    vg.Rectangle
		filled bool
		names  []string
		inside = func(pt vg.Point) bool {
			return box.Min.X <= pt.X && pt.X <= box.Max.X && box.Min.Y <= pt.Y && pt.Y <= box.Max.Y
		}
	)
	for _, a := range rec.Actions {
		switch a := a.(type) {
		case *recorder.Fill:
			if filled {
				continue
			}
			filled = true
			box = vg.Rectangle{Min: vg.Point{X: 1e9, Y: 1e9}, Max: vg.Point{X: -1e9, Y: -1e9}}
			for _, c := range a.Path {
				if c.Type != vg.MoveComp && c.Type != vg.LineComp {
					continue
				}
				pt := c.Pos
				box.Min.X, box.Min.Y = min(box.Min.X, pt.X), min(box.Min.Y, pt.Y)
				box.Max.X, box.Max.Y = max(box.Max.X, pt.X), max(box.Max.Y, pt.Y)
			}
		case *recorder.FillString:
			if !filled {
				t.Fatalf("the legend wrote %q before filling its box", a.String)
			}
			names = append(names, a.String)
			if !inside(a.Point) || !inside(vg.Point{X: a.Point.X + key.style.Width(a.String), Y: a.Point.Y}) {
				t.Errorf("%q written at %v, outside the box %v", a.String, a.Point, box)
			}
		case *recorder.Stroke:
			for _, c := range a.Path {
				if (c.Type == vg.MoveComp || c.Type == vg.LineComp) && filled && !inside(c.Pos) {
					t.Errorf("a line drawn through %v, outside the box %v", c.Pos, box)
				}
			}
		}
	}
	if s := box.Size(); s.X < vg.Points(60) || s.Y < vg.Points(30) {
		t.Errorf("the box %v is too small for 3 names", box)
	}
	if len(names) != 3 {
		t.Errorf("the legend wrote %q, want the 3 names", names)
	}
	// The box is in the top right corner, within a margin of it.
	if d := area.Max.X - box.Max.X; d < 0 || d > vg.Points(20) {
		t.Errorf("the box %v is %v from the right edge, want 0 to 20 points", box, d)
	}
	if d := area.Max.Y - box.Max.Y; d < 0 || d > vg.Points(20) {
		t.Errorf("the box %v is %v from the top edge, want 0 to 20 points", box, d)
	}
}
