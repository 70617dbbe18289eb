package serve

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// mlflowForms are the keys of the forms of an MLflow JSON body.
var mlflowForms = []string{"inputs", "instances", "dataframe_split", "dataframe_records"}

// decodeMLflowJSON reads the rows of an MLflow JSON body into t: an object
// with exactly one of the forms, and optionally "params". It reads the
// body in one pass with a scanner rather than encoding/json, which would
// take two (a check, then the decoding) and most of the time of a
// request.
func decodeMLflowJSON(t *table, body []byte) *httpError {
	t.limitValues(len(body)/2 + 1)
	s := scanner{b: body}
	if s.kind() != kindObject {
		if s.kind() == kindEnd {
			return badRequest("the body is empty: want a JSON object")
		}
		return badRequest("the body: want a JSON object")
	}
	s.open('{')
	form := ""
	for k := 0; ; k++ {
		ok, err := s.more('}', k)
		if err != nil {
			return s.syntaxError(err)
		}
		if !ok {
			break
		}
		key, err := s.key()
		if err != nil {
			return s.syntaxError(err)
		}
		i := slices.Index(mlflowForms, string(key))
		if i < 0 {
			start := s.i
			if err := s.skip(); err != nil {
				return s.syntaxError(err)
			}
			if v := bytes.TrimLeft(body[start:s.i], " \t\r\n"); string(key) == "params" && v[0] != '{' && string(v) != "null" {
				return badRequest("params: want an object")
			}
			continue
		}
		if form != "" {
			return badRequest(`the body must hold exactly one of "inputs", "instances", "dataframe_split" and "dataframe_records"; it holds %q and %q`, form, mlflowForms[i])
		}
		form = mlflowForms[i]
		var rerr *httpError
		switch form {
		case "inputs":
			rerr = decodeRows(t, &s, form, true)
		case "instances", "dataframe_records":
			rerr = decodeRows(t, &s, form, false)
		default:
			rerr = decodeSplit(t, &s)
		}
		if rerr != nil {
			return rerr
		}
	}
	if s.kind() != kindEnd {
		return badRequest("the body is not valid JSON: more after the object, at byte %d", s.i)
	}
	if form == "" {
		return badRequest(`the body must hold exactly one of "inputs", "instances", "dataframe_split" and "dataframe_records"; it holds none`)
	}
	return nil
}

// decodeRows reads an array of rows, each an array of values in the
// model's column order or an object keyed by feature, or with columnar
// an object of one array per feature.
func decodeRows(t *table, s *scanner, prefix string, columnar bool) *httpError {
	switch s.kind() {
	case kindArray:
	case kindObject:
		if columnar {
			return decodeColumns(t, s, prefix)
		}
		fallthrough
	default:
		return badRequest("%s: want an array of rows", prefix)
	}
	s.open('[')
	for i := 0; ; i++ {
		ok, err := s.more(']', i)
		if err != nil {
			return badRequest("%s: %v", prefix, s.why(err))
		}
		if !ok {
			break
		}
		row, rerr := t.addRow(prefix)
		if rerr != nil {
			return rerr
		}
		switch s.kind() {
		case kindArray:
			if err := positionalRow(t, s, row, prefix, i); err != nil {
				return err
			}
		case kindObject:
			if err := recordRow(t, s, row, prefix, i); err != nil {
				return err
			}
		default:
			return badRequest("%s[%d]: want a row, an array of %d values or an object keyed by feature", prefix, i, t.e.cols)
		}
	}
	return t.checkEmpty(prefix)
}

// positionalRow reads a row given as an array of values in column order.
func positionalRow(t *table, s *scanner, row []float64, prefix string, i int) *httpError {
	cols := t.e.cols
	s.open('[')
	j := 0
	for ; ; j++ {
		ok, err := s.more(']', j)
		if err != nil {
			return badRequest("%s[%d]: %v", prefix, i, s.why(err))
		}
		if !ok {
			break
		}
		if j == cols {
			return badRequest("%s[%d]: more than %d values; the model takes %d features: %s", prefix, i, cols, cols, excerpt.Quotes(t.e.schema.Features()))
		}
		if err := t.cell(s, j, false, &row[j]); err != nil {
			return badRequest("%s[%d][%d]: %v", prefix, i, j, err)
		}
	}
	if j != cols {
		return badRequest("%s[%d]: %d values, want %d, one per feature: %s", prefix, i, j, cols, excerpt.Quotes(t.e.schema.Features()))
	}
	return nil
}

// recordRow reads a row given as an object keyed by feature; other keys
// are ignored.
func recordRow(t *table, s *scanner, row []float64, prefix string, i int) *httpError {
	cols := t.e.cols
	if len(t.seen) < cols {
		t.seen = make([]int, cols)
	}
	// seen[j] == i+1 marks column j as set in row i; rows start from 0,
	// and reset sets nothing, so clear the marks of an earlier request.
	if i == 0 {
		clear(t.seen)
	}
	s.open('{')
	found := 0
	for k := 0; ; k++ {
		ok, err := s.more('}', k)
		if err != nil {
			return badRequest("%s[%d]: %v", prefix, i, s.why(err))
		}
		if !ok {
			break
		}
		key, err := s.key()
		if err != nil {
			return badRequest("%s[%d]: %v", prefix, i, s.why(err))
		}
		j := t.e.schema.Column(string(key))
		if j < 0 {
			if err := s.skip(); err != nil {
				return badRequest("%s[%d][%s]: %v", prefix, i, excerpt.Quote(string(key)), s.why(err))
			}
			continue
		}
		if t.seen[j] == i+1 {
			return badRequest("%s[%d]: the feature %s twice", prefix, i, t.feature(j))
		}
		t.seen[j] = i + 1
		found++
		if err := t.cell(s, j, false, &row[j]); err != nil {
			return badRequest("%s[%d]: %v", prefix, i, err)
		}
	}
	if found != cols {
		for j := range cols {
			if t.seen[j] != i+1 {
				return badRequest("%s[%d]: no value for the feature %s (the model takes %s)", prefix, i, t.feature(j), excerpt.Quotes(t.e.schema.Features()))
			}
		}
	}
	return nil
}

// decodeColumns reads an object of one array of values per feature.
func decodeColumns(t *table, s *scanner, prefix string) *httpError {
	cols := t.e.cols
	if len(t.seen) < cols {
		t.seen = make([]int, cols)
	}
	clear(t.seen)
	s.open('{')
	rows := -1
	for k := 0; ; k++ {
		ok, err := s.more('}', k)
		if err != nil {
			return badRequest("%s: %v", prefix, s.why(err))
		}
		if !ok {
			break
		}
		key, err := s.key()
		if err != nil {
			return badRequest("%s: %v", prefix, s.why(err))
		}
		j := t.e.schema.Column(string(key))
		if j < 0 {
			if err := s.skip(); err != nil {
				return badRequest("%s[%s]: %v", prefix, excerpt.Quote(string(key)), s.why(err))
			}
			continue
		}
		if t.seen[j] != 0 {
			return badRequest("%s: the feature %s twice", prefix, t.feature(j))
		}
		t.seen[j] = 1
		if !s.open('[') {
			return badRequest("%s[%s]: want an array of the column's values", prefix, t.feature(j))
		}
		i := 0
		for ; ; i++ {
			ok, err := s.more(']', i)
			if err != nil {
				return badRequest("%s[%s]: %v", prefix, t.feature(j), s.why(err))
			}
			if !ok {
				break
			}
			if i >= t.n {
				if rows >= 0 {
					return badRequest("%s[%s]: more than the %d values of the columns before it", prefix, t.feature(j), rows)
				}
				if err := t.setRows(i+1, prefix); err != nil {
					return err
				}
			}
			if err := t.cell(s, j, false, &t.x[i*cols+j]); err != nil {
				return badRequest("%s (row %d): %v", prefix, i, err)
			}
		}
		if rows >= 0 && i != rows {
			return badRequest("%s[%s]: %d values, but the columns before it have %d", prefix, t.feature(j), i, rows)
		}
		rows = i
	}
	for j := range cols {
		if t.seen[j] == 0 {
			return badRequest("%s: no column for the feature %s (the model takes %s)", prefix, t.feature(j), excerpt.Quotes(t.e.schema.Features()))
		}
	}
	return t.checkEmpty(prefix)
}

// maxColumns returns the most columns of a table (a dataframe_split or a
// CSV body) for the model of t: its features and as many others as a
// table of the model's may sensibly carry (a target, ids), beyond which a
// request is refused before room is made for its columns.
func (t *table) maxColumns() int { return 16*t.e.cols + 1024 }

// decodeSplit reads a dataframe_split: a pandas DataFrame in the split
// orientation, {"columns": [...], "data": [[...], ...], "index": [...]}.
func decodeSplit(t *table, s *scanner) *httpError {
	const prefix = "dataframe_split"
	if s.kind() != kindObject {
		return badRequest("%s: want an object", prefix)
	}
	cols := t.e.cols
	var data []byte
	hasColumns := false
	pos := t.pos[:0]
	defer func() { t.pos = pos }()
	have := make([]bool, cols)
	s.open('{')
	for k := 0; ; k++ {
		ok, err := s.more('}', k)
		if err != nil {
			return badRequest("%s: %v", prefix, s.why(err))
		}
		if !ok {
			break
		}
		key, err := s.key()
		if err != nil {
			return badRequest("%s: %v", prefix, s.why(err))
		}
		switch string(key) {
		case "columns":
			if hasColumns {
				return badRequest(`%s: "columns" twice`, prefix)
			}
			hasColumns = true
			if !s.open('[') {
				return badRequest("%s.columns: want an array of strings", prefix)
			}
			for p := 0; ; p++ {
				ok, err := s.more(']', p)
				if err != nil {
					return badRequest("%s.columns: %v", prefix, s.why(err))
				}
				if !ok {
					break
				}
				if p == t.maxColumns() {
					return badRequest("%s.columns: more than %d columns; the model takes %d features", prefix, t.maxColumns(), cols)
				}
				if s.kind() != kindString {
					return badRequest("%s.columns[%d]: want a string", prefix, p)
				}
				name, err := s.str()
				if err != nil {
					return badRequest("%s.columns[%d]: %v", prefix, p, s.why(err))
				}
				j := t.e.schema.Column(string(name))
				if j < 0 {
					pos = append(pos, -1)
					continue
				}
				if have[j] {
					return badRequest("%s.columns[%d]: the feature %s twice", prefix, p, t.feature(j))
				}
				have[j] = true
				pos = append(pos, j)
			}
		case "data":
			if data != nil {
				return badRequest(`%s: "data" twice`, prefix)
			}
			start := s.i
			if err := s.skip(); err != nil {
				return badRequest("%s.data: %v", prefix, s.why(err))
			}
			data = s.b[start:s.i]
		default: // index, and keys of other orientations
			if err := s.skip(); err != nil {
				return badRequest("%s[%s]: %v", prefix, excerpt.Quote(string(key)), s.why(err))
			}
		}
	}
	if !hasColumns {
		return badRequest(`%s: no "columns"`, prefix)
	}
	if data == nil {
		return badRequest(`%s: no "data"`, prefix)
	}
	for j, ok := range have {
		if !ok {
			return badRequest("%s.columns: no column for the feature %s (the model takes %s)", prefix, t.feature(j), excerpt.Quotes(t.e.schema.Features()))
		}
	}
	const where = prefix + ".data"
	d := scanner{b: data}
	if !d.open('[') {
		return badRequest("%s: want an array of rows", where)
	}
	for i := 0; ; i++ {
		ok, err := d.more(']', i)
		if err != nil {
			return badRequest("%s: %v", where, d.why(err))
		}
		if !ok {
			break
		}
		row, rerr := t.addRow(where)
		if rerr != nil {
			return rerr
		}
		if !d.open('[') {
			return badRequest("%s[%d]: want an array of %d values, one per column", where, i, len(pos))
		}
		p := 0
		for ; ; p++ {
			ok, err := d.more(']', p)
			if err != nil {
				return badRequest("%s[%d]: %v", where, i, d.why(err))
			}
			if !ok {
				break
			}
			if p == len(pos) {
				return badRequest("%s[%d]: more values than the %d columns", where, i, len(pos))
			}
			j := pos[p]
			if j < 0 {
				if err := d.skip(); err != nil {
					return badRequest("%s[%d][%d]: %v", where, i, p, d.why(err))
				}
				continue
			}
			if err := t.cell(&d, j, false, &row[j]); err != nil {
				return badRequest("%s[%d][%d]: %v", where, i, p, err)
			}
		}
		if p != len(pos) {
			return badRequest("%s[%d]: %d values, want %d, one per column", where, i, p, len(pos))
		}
	}
	return t.checkEmpty(where)
}

// decodeCSV reads the rows of a CSV body with a header row, as nn predict
// reads a file: the features found by name, in any order, other columns
// ignored.
func decodeCSV(t *table, body []byte) *httpError {
	e := t.e
	// A row of n values takes n bytes at least, its commas and its end.
	t.limitValues(len(body) + 1)
	if n := headerFields(body, e.csv.Comma); n > t.maxColumns() {
		return badRequest("the CSV body: the header has %d columns, more than the %d a request may have; the model takes %d features", n, t.maxColumns(), e.cols)
	}
	r := nn.NewCSVReader(bytes.NewReader(body), e.csv)
	if cap(t.rowbuf) < e.cols {
		t.rowbuf = make([]float64, e.cols)
	}
	buf := t.rowbuf[:e.cols]
	for {
		_, err := r.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			return csvError(t, body, err)
		}
		row, rerr := t.addRow("the CSV body")
		if rerr != nil {
			return rerr
		}
		copy(row, buf)
	}
	t.csvUnknown = r.Unknown()
	return t.checkEmpty("the CSV body")
}

// headerFields returns the number of fields of the first record of the
// CSV text body with the separator comma (',' if zero), without making
// room for them.
func headerFields(body []byte, comma rune) int {
	sep := byte(',')
	if comma != 0 {
		if comma >= utf8.RuneSelf {
			return 1 // a multibyte separator: not counted, as rare as it is
		}
		sep = byte(comma)
	}
	n, quoted := 1, false
	for _, c := range body {
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == sep:
			n++
		case c == '\n':
			return n
		}
	}
	return n
}

// csvError returns the 400 of a CSV body that nn.CSVReader refused,
// naming the column by its header.
func csvError(t *table, body []byte, err error) *httpError {
	var pe *nn.ParseError
	if !errors.As(err, &pe) {
		return badRequest("the CSV body: %v", err)
	}
	if pe.Line == 0 {
		return badRequest("the CSV body: %v", pe.Err)
	}
	if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
		// encoding/csv's column of a syntax error is a byte of the line.
		return badRequest("line %d, byte %d: %v", pe.Line, pe.Column, pe.Err)
	}
	if pe.Column > 0 {
		cr := csv.NewReader(bytes.NewReader(body))
		cr.FieldsPerRecord = -1
		if comma := t.e.csv.Comma; comma != 0 {
			cr.Comma = comma
		}
		header, herr := cr.Read()
		if herr == nil && pe.Column <= len(header) {
			name := header[pe.Column-1]
			if strings.Contains(pe.Err.Error(), excerpt.Quote(name)) {
				// nn.CSVReader's message names the column already.
				return badRequest("line %d: %v", pe.Line, pe.Err)
			}
			return badRequest("line %d, column %s: %v", pe.Line, excerpt.Quote(name), pe.Err)
		}
		return badRequest("line %d, field %d: %v", pe.Line, pe.Column, pe.Err)
	}
	return badRequest("line %d: %v", pe.Line, pe.Err)
}
