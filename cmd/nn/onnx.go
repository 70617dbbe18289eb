package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/atomicfile"
	"github.com/neuralgo/nn/onnx"
)

const exportSynopsis = `Usage: nn export -model MODEL -o FILE.onnx [flags]

Export writes the model file MODEL as an ONNX model, for ONNX Runtime,
Triton, KServe or any other runtime that reads ONNX. The graph is the
whole prediction path: the encoding of categorical columns and missing
values, the input scaler, every layer and activation and, for a
classifier, the predicted class. Its one input (-input, "X" by default)
takes rows of the model's features in the order of training, one column
each, NaN for a missing value and, for a categorical column, the index of
its category in the model's list (see the metadata "encoding"). A
classifier has the outputs "label" (the class index, int64; the class
names are in the metadata "classes") and "probabilities"; a regression
has the output "prediction".

The file is ONNX IR version 8 with operator set 17, which ONNX Runtime
1.30 runs and the checker of ONNX 1.12 accepts. It computes in double,
as nn does, unless -float32 asks for float. FILE is written atomically:
an existing file is replaced only once the export succeeded.

Examples:

	nn export -model iris.json -o iris.onnx
	nn export -model iris.json -o iris32.onnx -float32
`

const importSynopsis = `Usage: nn import -onnx FILE.onnx -o MODEL [flags]

Import reads a feed-forward network from an ONNX model and writes it as an
nn model file, with which nn predict, eval and serve work. It reads the
files nn export writes, and multilayer perceptrons as PyTorch's
torch.onnx.export writes them for an nn.Sequential of Linear layers and
ReLU, Sigmoid, Tanh, LeakyReLU, ELU or Softplus activations, with an
optional final Softmax, in float or double. Anything else is an error
naming the node and its operator.

A model from elsewhere has no names: -features names its input columns,
-target its target, and -classes makes it a classifier with these class
labels, one per output (two for a single output).

Examples:

	nn import -onnx iris.onnx -o iris2.json
	nn import -onnx mlp.onnx -o mlp.json -features a,b,c,d -classes setosa,versicolor,virginica
`

// runExport is nn export.
func runExport(e *env, args []string) error {
	var model, out, input string
	var f32 bool
	fs := newFlagSet("export")
	fs.StringVar(&model, "model", "", "the model `file` to export")
	fs.StringVar(&out, "o", "", "the ONNX `file` to write")
	fs.StringVar(&input, "input", "X", "the `name` of the graph's input")
	fs.BoolVar(&f32, "float32", false, "compute in float rather than double")
	budget := memoryFlag(fs)
	if err := parseFlags(e, fs, "export", exportSynopsis, args); err != nil {
		return err
	}
	setMemoryBudget(*budget)
	if err := required("export", "model", model, "the model file to export"); err != nil {
		return err
	}
	if err := required("export", "o", out, "the ONNX file to write"); err != nil {
		return err
	}
	if input == "" {
		return &usageError{cmd: "export", msg: "flag -input is empty: the graph's input needs a name"}
	}
	if samePath(model, out) {
		return &usageError{cmd: "export", msg: fmt.Sprintf("-o %s is the model file: the export would replace it", out)}
	}
	m, err := nn.LoadModel(model)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := onnx.Write(&buf, m, &onnx.Options{Float32: f32, Input: input}); err != nil {
		return fmt.Errorf("nn: %s: %w", model, err)
	}
	return atomicfile.WriteFile(out, buf.Bytes())
}

// runImport is nn import.
func runImport(e *env, args []string) error {
	var in, out string
	var features, classes []string
	var target string
	fs := newFlagSet("import")
	fs.StringVar(&in, "onnx", "", "the ONNX `file` to read")
	fs.StringVar(&out, "o", "", "the model `file` to write")
	fs.Var(listFlag{&features}, "features", "comma-separated `names` of the input columns")
	fs.Var(listFlag{&classes}, "classes", "comma-separated class `labels`, one per output: read the model as a classifier")
	fs.StringVar(&target, "target", "", "the `name` of the target")
	budget := memoryFlag(fs)
	if err := parseFlags(e, fs, "import", importSynopsis, args); err != nil {
		return err
	}
	setMemoryBudget(*budget)
	if err := required("import", "onnx", in, "the ONNX file to read"); err != nil {
		return err
	}
	if err := required("import", "o", out, "the model file to write"); err != nil {
		return err
	}
	if samePath(in, out) {
		return &usageError{cmd: "import", msg: fmt.Sprintf("-o %s is the ONNX file: the import would replace it", out)}
	}
	if _, err := atomicfile.Check(out); err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	m, err := onnx.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("nn: %s: %w", in, err)
	}
	if features != nil {
		m.Features = features
	}
	if classes != nil {
		m.Classes = classes
	}
	if target != "" {
		m.Target = target
	}
	// The model's own checks, with the names given: a wrong count of
	// features or classes is an error before anything is written.
	if err := m.Encode(io.Discard); err != nil {
		return fmt.Errorf("nn: %s: %w", in, err)
	}
	return m.Save(out)
}
