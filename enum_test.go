package nn

import (
	"encoding"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// textEnum is what every enumerated type of the package implements.
type textEnum interface {
	fmt.Stringer
	encoding.TextMarshaler
}

// TestEnumText checks, for every enumerated type, that each value's name
// reads back as the value through UnmarshalText and JSON, that a value
// outside the table has no name, and that an unknown name is an error
// listing the names.
func TestEnumText(t *testing.T) {
	for _, test := range []struct {
		values  []textEnum
		invalid textEnum
		zero    func() encoding.TextUnmarshaler // a new zero value to read into
		names   []string
	}{
		{
			[]textEnum{Sigmoid, Tanh, ReLU, Identity, Softmax, LeakyReLU, ELU, GELU, GELUTanh, SiLU, Softplus}, Activation(11),
			func() encoding.TextUnmarshaler { return new(Activation) },
			[]string{"sigmoid", "tanh", "relu", "identity", "softmax", "leaky-relu", "elu", "gelu", "gelu-tanh", "silu", "softplus"},
		},
		{
			[]textEnum{SquaredError, CrossEntropy, BinaryCrossEntropy}, Loss(3),
			func() encoding.TextUnmarshaler { return new(Loss) },
			[]string{"squared-error", "cross-entropy", "binary-cross-entropy"},
		},
		{
			[]textEnum{StandardNormal, Xavier, He}, Init(3),
			func() encoding.TextUnmarshaler { return new(Init) },
			[]string{"normal", "xavier", "he"},
		},
		{
			[]textEnum{GradientDescent, SGD, Momentum, Nesterov, Adam, LBFGS, AdamW}, Method(7),
			func() encoding.TextUnmarshaler { return new(Method) },
			[]string{"gd", "sgd", "momentum", "nesterov", "adam", "lbfgs", "adamw"},
		},
		{
			[]textEnum{ConstantRate, StepDecay, InverseTime, Cosine, Exponential, Plateau}, Schedule(6),
			func() encoding.TextUnmarshaler { return new(Schedule) },
			[]string{"constant", "step", "inverse-time", "cosine", "exponential", "plateau"},
		},
		{
			[]textEnum{MaxEpochs, Converged, NoImprovement, Cancelled, Diverged}, StopReason(5),
			func() encoding.TextUnmarshaler { return new(StopReason) },
			[]string{"max epochs", "converged", "patience", "cancelled", "diverged"},
		},
		{
			[]textEnum{HeaderAuto, HeaderYes, HeaderNo}, Header(3),
			func() encoding.TextUnmarshaler { return new(Header) },
			[]string{"auto", "yes", "no"},
		},
		{
			[]textEnum{Standardize, MinMax, MaxAbs, NoScaling}, ScaleKind(4),
			func() encoding.TextUnmarshaler { return new(ScaleKind) },
			[]string{"standard", "minmax", "maxabs", "none"},
		},
		{
			[]textEnum{MonitorLoss, MonitorAccuracy}, Monitor(2),
			func() encoding.TextUnmarshaler { return new(Monitor) },
			[]string{"loss", "accuracy"},
		},
		{
			[]textEnum{ImputeMean, ImputeMedian, ImputeMostFrequent}, Impute(3),
			func() encoding.TextUnmarshaler { return new(Impute) },
			[]string{"mean", "median", "most-frequent"},
		},
		{
			[]textEnum{Labels, Probabilities, LabelsAndProbabilities}, Output(3),
			func() encoding.TextUnmarshaler { return new(Output) },
			[]string{"labels", "probabilities", "labels+probabilities"},
		},
	} {
		for i, v := range test.values {
			b, err := v.MarshalText()
			if err != nil || string(b) != test.names[i] || v.String() != test.names[i] {
				t.Errorf("%T %d: MarshalText = %q, %v, String = %q; want %q", v, i, b, err, v.String(), test.names[i])
			}
			got := test.zero()
			if err := got.UnmarshalText(b); err != nil || fmt.Sprint(got) != test.names[i] {
				t.Errorf("%T: UnmarshalText(%q) = %v, error %v", v, b, got, err)
			}
			j, err := json.Marshal(v)
			if want := `"` + test.names[i] + `"`; err != nil || string(j) != want {
				t.Errorf("%T %d: JSON %s, %v; want %s", v, i, j, err, want)
			}
			got = test.zero()
			if err := json.Unmarshal(j, got); err != nil || fmt.Sprint(got) != test.names[i] {
				t.Errorf("%T: json.Unmarshal(%s) = %v, %v", v, j, got, err)
			}
		}
		typ := fmt.Sprintf("%T", test.invalid)
		typ = typ[strings.LastIndex(typ, ".")+1:]
		if b, err := test.invalid.MarshalText(); err == nil {
			t.Errorf("%s: MarshalText of an invalid value = %q, want an error", typ, b)
		}
		if s := test.invalid.String(); !strings.HasPrefix(s, typ+"(") {
			t.Errorf("%s: String of an invalid value = %q, want %s(n)", typ, s, typ)
		}
		err := test.zero().UnmarshalText([]byte("bogus"))
		if err == nil || !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), test.names[len(test.names)-1]) {
			t.Errorf("%s: UnmarshalText(bogus) = %v, want an error quoting it and listing the names", typ, err)
		}
	}
}
