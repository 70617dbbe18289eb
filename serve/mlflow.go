package serve

import (
	"mime"
	"net/http"
	"strings"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// invocations answers POST /invocations, MLflow's scoring endpoint.
func (s *Server) invocations(w http.ResponseWriter, r *http.Request, st *reqState) {
	m := s.def
	if name := r.URL.Query().Get("model"); name != "" {
		m = s.model(name)
		if m == nil {
			s.fail(w, st, s.unknownModel(name))
			return
		}
	} else if m == nil {
		s.fail(w, st, badRequest("several models are served and none is the default: name one, as in /invocations?model=NAME; the models are %s", excerpt.Quotes(s.cat.Load().names)))
		return
	}
	st.model = m.name
	sl, herr := m.version("")
	if herr != nil {
		s.fail(w, st, herr)
		return
	}
	b, e := s.begin(sl)
	defer b.put()
	csv := isCSV(r.Header.Get("Content-Type"))
	if err := s.readBody(w, r, st, b, e, csv); err != nil {
		s.fail(w, st, err)
		return
	}
	s.reading(sl, st)
	var err *httpError
	if csv {
		err = decodeCSV(&b.t, b.body)
	} else {
		err = decodeMLflowJSON(&b.t, b.body)
	}
	if err == nil {
		s.inflight.shrink(&st.held, held(e, b))
		err = s.predict(sl, st, b)
	}
	if err != nil {
		s.fail(w, st, err)
		return
	}
	n := b.t.n
	out := append(b.resp[:0], `{"predictions":[`...)
	for i := range n {
		if i > 0 {
			out = append(out, ',')
		}
		switch {
		case e.labelJSON != nil:
			out = append(out, e.labelJSON[b.cls[i]]...)
		case e.out == 1:
			out = nn.AppendFloat(out, b.out[i])
		default:
			out = append(out, '[')
			out = appendRow(out, b.out[i*e.out:(i+1)*e.out])
			out = append(out, ']')
		}
	}
	out = append(out, "]}\n"...)
	b.resp = out
	s.write(w, st, http.StatusOK, out)
}

// isCSV reports whether the media type ct is CSV: text/csv or
// application/csv. Any other type, or none, is read as JSON, so that
// curl -d, which sends application/x-www-form-urlencoded, works.
func isCSV(ct string) bool {
	if ct == "" || strings.HasPrefix(ct, "application/json") {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "text/csv" || mt == "application/csv")
}
