package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/neuralgo/nn"
)

// The flags whose values are enumerations of package nn take the names of
// the package's tables, and a bad one is a usage error that lists them.
func TestEnumFlags(t *testing.T) {
	if got, want := names[nn.Method](), []string{"gd", "sgd", "momentum", "nesterov", "adam", "lbfgs", "adamw"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("names[nn.Method]() = %q, want %q", got, want)
	}
	if got, want := names(notHidden...), []string{"sigmoid", "tanh", "relu", "leaky-relu", "elu", "gelu", "gelu-tanh", "silu", "softplus"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("names(notHidden...) = %q, want %q", got, want)
	}
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"-method", "rmsprop"}, `^nn train: invalid value "rmsprop" for flag -method: unknown training method "rmsprop" \(want gd, sgd, momentum, nesterov, adam, lbfgs or adamw\)`},
		{[]string{"-activation", "softmax"}, `^nn train: -activation softmax: the hidden layers take sigmoid, tanh, relu, leaky-relu, elu, gelu, gelu-tanh, silu or softplus`},
		{[]string{"-activation", "identity"}, `^nn train: -activation identity: the hidden layers take sigmoid, tanh, relu, leaky-relu, elu, gelu, gelu-tanh, silu or softplus`},
		{[]string{"-activation", "swish"}, `^nn train: invalid value "swish" for flag -activation: unknown activation "swish"`},
		{[]string{"-scale", "robust"}, `^nn train: invalid value "robust" for flag -scale: unknown scaler kind "robust" \(want standard, minmax, maxabs or none\)`},
		{[]string{"-header", "maybe"}, `^nn train: invalid value "maybe" for flag -header: unknown header mode "maybe" \(want auto, yes or no\)`},
	} {
		args := append([]string{"train", "-data", irisPath, "-o", "never-written.json"}, test.args...)
		r := runNN(t, "", args...)
		if r.code != 2 || !regexp.MustCompile(test.want).MatchString(r.stderr) {
			t.Errorf("nn %s: status %d, stderr %q; want 2 and a match for %s", strings.Join(test.args, " "), r.code, r.stderr, test.want)
		}
	}
}

// A bad flag quotes at most excerpt.MaxQuoted bytes of what was given,
// however long the value or the flag's name: flag's own message quotes it
// whole.
func TestLongFlagValues(t *testing.T) {
	long := strings.Repeat("12345,", 20000)
	for _, args := range [][]string{
		{"train", "-data", irisPath, "-o", "never-written.json", "-hidden", "x" + long},
		{"train", "-data", irisPath, "-o", "never-written.json", "-epochs", strings.Repeat("9", 1000)},
		{"train", "-data", irisPath, "-o", "never-written.json", "-" + strings.Repeat("a", 1000)},
		{"predict", "-model", "m.json", "-data", irisPath, "-header=" + long},
		{"eval", "-model", "m.json", "-data", irisPath, "-max-memory", long},
	} {
		r := runNN(t, "", args...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || len(r.stderr) > 400 || !strings.Contains(r.stderr, "… (") {
			t.Errorf("nn %s …: status %d, stderr %d bytes %q; want 2 and one line of at most 400 bytes that cuts the value", args[0], r.code, len(r.stderr), r.stderr)
		}
	}
}
