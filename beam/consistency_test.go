package nnbeam

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/beam/internal/beamtest"
)

// TestScoreConsistency scores the module's consistency table
// (testdata/consistency: text columns, missing cells, a category the
// model has not seen, a category absent from the file, the columns
// shuffled against the training file, an extra column) with Score on
// Prism, for a classifier and for a regression on two targets, and holds
// every prediction to the library's Model.PredictDataset on the file read
// with a user's own options: the same labels and the same bits. The other
// paths (nn predict, nn serve, ONNX Runtime) are held to the library on
// the same table by TestConsistency in cmd/nn.
func TestScoreConsistency(t *testing.T) {
	dir := t.TempDir()
	test := beamtest.Testdata("consistency/test.csv")
	b, err := os.ReadFile(test)
	if err != nil {
		t.Fatal(err)
	}
	header := strings.Split(strings.SplitN(string(b), "\n", 2)[0], ",")
	read := func(name string, o *nn.CSVOptions) *nn.Dataset {
		o.DetectCategorical, o.Missing = true, nn.DefaultMissing
		d, err := nn.LoadCSV(beamtest.Testdata("consistency/"+name), o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	c := &nn.Classifier{Epochs: 40, Seed: 1}
	if err := c.Fit(context.Background(), read("classify.csv", &nn.CSVOptions{Target: "label", Classify: true})); err != nil {
		t.Fatal(err)
	}
	r := &nn.Regressor{Epochs: 40, Seed: 1}
	if err := r.Fit(context.Background(), read("regress.csv", &nn.CSVOptions{Targets: []string{"t1", "t2"}})); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	lines := ReadLines(s, test)
	for _, m := range []struct {
		name  string
		model *nn.Model
		test  *nn.Dataset
	}{
		{"classify", c.Model, read("test.csv", &nn.CSVOptions{Target: "label", Classify: true})},
		{"regress", r.Model, read("test.csv", &nn.CSVOptions{Targets: []string{"t2", "t1"}})},
	} {
		path := filepath.Join(dir, m.name+".json")
		if err := m.model.Save(path); err != nil {
			t.Fatal(err)
		}
		out, unknown, err := m.model.PredictDataset(m.test, false)
		if err != nil {
			t.Fatal(err)
		}
		if m.name == "classify" && unknown == 0 {
			t.Fatal("the test file has no unknown category")
		}
		var want []any
		rows, _ := out.Dims()
		classes := m.model.Network.ClassesTo(nil, out)
		for i := range rows {
			label := ""
			if m.model.Classes != nil {
				label = m.model.Classes[classes[i]]
			}
			want = append(want, fmt.Sprintf("%s:%d|%s|%s", test, i+2, label, formatVector(out.RawRowView(i))))
		}
		preds, dead := Score(s, path, lines, &ScoreOptions{Header: header, BlockRows: 16})
		passert.Equals(s, beam.ParDo(s, predictionText, preds), want...)
		passert.Empty(s, dead)
	}
	ptest.RunAndValidate(t, p)
}
