package serve

import (
	"net/http"

	"github.com/neuralgo/nn"
)

// infer answers POST /v2/models/{name}/infer.
func (s *Server) infer(w http.ResponseWriter, r *http.Request, st *reqState, sl *slot) {
	b, e := s.begin(sl)
	defer b.put()
	if err := s.readBody(w, r, st, b, e, false); err != nil {
		s.fail(w, st, err)
		return
	}
	s.reading(sl, st)
	req, err := decodeV2(&b.t, b.body)
	if err == nil {
		s.inflight.shrink(&st.held, held(e, b))
		err = s.predict(sl, st, b)
	}
	if err != nil {
		s.fail(w, st, err)
		return
	}
	n := b.t.n
	out := b.resp[:0]
	out = append(out, `{"model_name":`...)
	out = append(out, e.nameJSON...)
	out = append(out, `,"model_version":`...)
	out = appendJSONString(out, sl.version)
	if req.ID != "" {
		out = append(out, `,"id":`...)
		out = appendJSONString(out, req.ID)
	}
	out = append(out, `,"outputs":[`...)
	for k, name := range req.Outputs {
		if k > 0 {
			out = append(out, ',')
		}
		out = append(out, `{"name":"`...)
		out = append(out, name...)
		switch name {
		case "label":
			out = append(out, `","datatype":"BYTES","shape":[`...)
			out = append(out, itoa(n)...)
			out = append(out, `],"data":[`...)
			for i, c := range b.cls[:n] {
				if i > 0 {
					out = append(out, ',')
				}
				out = append(out, e.labelJSON[c]...)
			}
		case "probabilities":
			k := len(e.schema.Classes())
			out = appendShape(out, n, k, true)
			b.prob = grow(b.prob, k)
			for i := range n {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendRow(out, e.schema.ProbabilitiesTo(b.prob, b.out[i*e.out:(i+1)*e.out]))
			}
		default: // scores, prediction
			out = appendShape(out, n, e.out, name == "scores" || e.out > 1)
			for i := range n {
				if i > 0 {
					out = append(out, ',')
				}
				out = appendRow(out, b.out[i*e.out:(i+1)*e.out])
			}
		}
		out = append(out, "]}"...)
	}
	out = append(out, "]}\n"...)
	b.resp = out
	s.write(w, st, http.StatusOK, out)
}

// appendShape appends the datatype and shape of an FP64 output, [n, k]
// or [n] unless matrix, and the start of its data.
func appendShape(out []byte, n, k int, matrix bool) []byte {
	out = append(out, `","datatype":"FP64","shape":[`...)
	out = append(out, itoa(n)...)
	if matrix {
		out = append(out, ',')
		out = append(out, itoa(k)...)
	}
	return append(out, `],"data":[`...)
}

// appendRow appends the values of row separated by commas, as JSON
// numbers in the module's one number format, the shortest that reads back
// as the same float64.
func appendRow(out []byte, row []float64) []byte {
	for j, v := range row {
		if j > 0 {
			out = append(out, ',')
		}
		out = nn.AppendFloat(out, v)
	}
	return out
}
