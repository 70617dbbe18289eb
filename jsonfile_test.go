package nn

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// appendJSONFloat writes every float64 as encoding/json does, so that
// model and checkpoint files written number by number are byte for byte
// what json.Marshal made of them.
func TestAppendJSONFloat(t *testing.T) {
	rnd := rand.New(rand.NewPCG(30, 30))
	values := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99999e-7, 1e-7, 1e20, 1e21, 123456789012345678901234.0,
		math.MaxFloat64, math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64, 5e-324, 1e-9, 2.5e-10, 1e100, 1e-100, 0.000001, 3.14159}
	for range 200000 {
		values = append(values, math.Float64frombits(rnd.Uint64()), rnd.NormFloat64()*math.Pow(10, float64(rnd.IntN(60)-30)))
	}
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONFloat(nil, v); string(got) != string(want) {
			t.Fatalf("%v (bits %#x): got %s, want %s", v, math.Float64bits(v), got, want)
		}
	}
}

func TestJSONArrayLen(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want int
	}{
		{``, 0}, {`null`, 0}, {`[]`, 0}, {` [ ] `, 0}, {`{"a":[1,2]}`, 0}, {`"[1,2]"`, 0},
		{`[1]`, 1}, {`[1,2,3]`, 3}, {`[{},{}]`, 2}, {`[[1,2],[3]]`, 2},
		{`[{"a":"x,y"},{"b":"\",["},"]"]`, 3}, {`["\\",","]`, 2}, {` [ {"e": [1, {"f": 2}]} , 2 ] `, 2},
	} {
		if got := jsonArrayLen([]byte(c.raw)); got != c.want {
			t.Errorf("jsonArrayLen(%s) = %d, want %d", c.raw, got, c.want)
		}
		var v []json.RawMessage
		if json.Unmarshal([]byte(c.raw), &v) == nil && len(v) != c.want {
			t.Errorf("test case %s: encoding/json counts %d", c.raw, len(v))
		}
	}
}
