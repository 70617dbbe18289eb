package serve

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/neuralgo/nn/internal/excerpt"
)

// httpError is a request that cannot be answered, with the HTTP status that
// says why: a 4xx for a mistake of the client. Its message names the place
// of the problem in the request.
type httpError struct {
	// Status is the HTTP status code.
	Status int
	// Msg says what is wrong and where.
	Msg string
}

// Error returns e.Msg.
func (e *httpError) Error() string { return e.Msg }

// badRequest returns a 400 *httpError.
func badRequest(format string, args ...any) *httpError {
	return &httpError{Status: http.StatusBadRequest, Msg: fmt.Sprintf(format, args...)}
}

// tooLarge returns a 413 *httpError.
func tooLarge(format string, args ...any) *httpError {
	return &httpError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf(format, args...)}
}

// appendError appends the JSON error body {"error": msg}.
func appendError(b []byte, msg string) []byte {
	b = append(b, `{"error":`...)
	b = appendJSONString(b, strings.ToValidUTF8(msg, "\uFFFD"))
	return append(b, "}\n"...)
}

// appendMLflowError appends the JSON error body of MLflow's scoring
// server, {"error_code": "BAD_REQUEST", "message": msg}, with "error": msg
// as every other endpoint has it.
func appendMLflowError(b []byte, err *httpError) []byte {
	msg := strings.ToValidUTF8(err.Msg, "\uFFFD")
	b = append(b, `{"error_code":"`...)
	b = append(b, mlflowCode(err.Status)...)
	b = append(b, `","message":`...)
	b = appendJSONString(b, msg)
	b = append(b, `,"error":`...)
	b = appendJSONString(b, msg)
	return append(b, "}\n"...)
}

// mlflowCode returns the MLflow (Databricks) error code of an HTTP
// status.
func mlflowCode(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case status == http.StatusNotFound:
		return "RESOURCE_DOES_NOT_EXIST"
	case status == http.StatusServiceUnavailable:
		return "TEMPORARILY_UNAVAILABLE"
	case status >= 500:
		return "INTERNAL_ERROR"
	}
	return "BAD_REQUEST"
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < 0x7f {
			continue
		}
		if c >= 0x80 {
			continue // UTF-8 passes through; invalid bytes are replaced below
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, `\u00`...)
			b = append(b, hex[c>>4], hex[c&15])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hex = "0123456789abcdef"

// numberError returns the error of a JSON number text that float64 cannot
// hold.
func numberError(text []byte) error {
	return fmt.Errorf("%s is out of the range of float64 (its magnitude is at most %g)", excerpt.Quote(string(text)), math.MaxFloat64)
}

// itoa is strconv.Itoa.
func itoa(i int) string { return strconv.Itoa(i) }
