package serve

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/neuralgo/nn"
)

// A server with Options.Precision Float32 answers with the library's
// float32 predictions, which differ from its float64 ones.
func TestPrecisionFloat32(t *testing.T) {
	_, reg := models(t)
	_, ts := newTestServer(t, &Options{Precision: nn.Float32}, ModelFile{"reg", reg})
	m := loadModel(t, reg)
	species := m.Encoding.Columns[3].Categories
	rows := [][]float64{{5.1, 3.5, 1.4, 0}, {6.3, 2.9, 5.6, 2}, {6.0, 3.0, 4.8, 1}}
	want64 := predictRows(t, m, rows)
	m.Network.SetPrecision(nn.Float32)
	want := predictRows(t, m, rows)
	body := `{"inputs":[[5.1,3.5,1.4,"` + species[0] + `"],[6.3,2.9,5.6,"` + species[2] + `"],[6.0,3.0,4.8,"` + species[1] + `"]]}`
	p := predictions(t, do(t, nil, http.MethodPost, ts.URL+"/invocations", "application/json", body))
	if len(p) != len(want) {
		t.Fatalf("%d predictions, want %d", len(p), len(want))
	}
	differ := false
	for i, v := range p {
		got, _ := strconv.ParseFloat(string(v.(json.Number)), 64)
		if !sameOutput(got, want[i][0]) {
			t.Errorf("row %d: prediction %v, want the float32 prediction %v", i, got, want[i][0])
		}
		differ = differ || got != want64[i][0]
	}
	if !differ {
		t.Error("every prediction equals the float64 one: the server did not predict in float32")
	}
}

func TestPrecisionInvalid(t *testing.T) {
	_, reg := models(t)
	if _, err := New([]ModelFile{{"reg", reg}}, &Options{Precision: 9}); err == nil || !strings.Contains(err.Error(), "Precision(9)") {
		t.Errorf("Precision(9): got %v", err)
	}
}
