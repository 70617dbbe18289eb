// Command nn trains neural networks on CSV files, evaluates them and
// predicts with them, using package github.com/neuralgo/nn.
//
// Usage:
//
//	nn train   -data train.csv -o model.json [flags]    train a network, write a model file
//	nn eval    -model model.json -data test.csv [-json] score a model on labelled data
//	nn tune    -data train.csv -o best.json [grid flags] cross-validate a grid, write the best
//	nn predict -model model.json [-data rows.csv]       predict each row (stdin by default)
//	nn serve   -model NAME=model.json [-addr HOST:PORT]  serve predictions over HTTP
//	nn export  -model model.json -o model.onnx           write a model as ONNX
//	nn import  -onnx model.onnx -o model.json            read an ONNX MLP into a model file
//	nn demo                                             the tutorial, reproduced
//	nn help [command]                                   show help
//
// Run "nn help <command>" or "nn <command> -h" for the flags of a command.
//
// # Files
//
// Data files are CSV with one example per row. A first row is taken for a
// header (-header auto) when a field other than the target is not a
// number, by the same rule in train, eval and predict; a leading UTF-8 byte
// order mark is ignored. The target column is the last one unless -target
// names it (or gives its 0-based index). Columns with text are categorical
// and empty cells, NA and NaN missing values (see nn train -h). A model file
// is the JSON document of nn.Model: the network, the encoding and scaler
// fitted on the training rows, the feature and target names and the class
// labels. train writes it
// atomically, only after training succeeded, so a failed run leaves an
// existing model file as it was. Ctrl-C stops training at once, abandoning
// the epoch in progress, and writes no model, unless -save-interrupted asks
// for the weights of the last finished epoch.
//
// # Exit status
//
// 0 on success, 2 for a usage error (unknown command or flag, missing
// required flag, bad flag value), 1 for any other error, an interrupted
// training included. Errors are one line on standard error, prefixed
// "nn: " ("nn <command>: " for a usage error), naming the file, line and
// column where the problem is in a file. Panics are caught and reported
// on one line too; NN_DEBUG=1 adds the stack trace.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/term"

	"github.com/neuralgo/nn"
	"github.com/neuralgo/nn/internal/excerpt"
)

// command is a subcommand of nn.
type command struct {
	name    string
	summary string
	// run runs the command with its arguments (after the command name).
	run func(env *env, args []string) error
}

// env is what a command runs with: the standard streams, so that tests
// can run commands in process as well as through the binary.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// stderrTTY says that stderr is a terminal, for the progress bar.
	stderrTTY bool
}

var commands []*command

func init() {
	commands = []*command{
		{"train", "train a network on a CSV file and write a model file", runTrain},
		{"eval", "score a model on a labelled CSV file", runEval},
		{"tune", "search hyperparameters by cross-validation and write the best model", runTune},
		{"predict", "predict every row of a CSV file (or standard input)", runPredict},
		{"serve", "serve models over HTTP (Open Inference Protocol V2, MLflow)", runServe},
		{"export", "write a model file as ONNX", runExport},
		{"import", "read an ONNX multilayer perceptron into a model file", runImport},
		{"demo", "reproduce the tutorial: perceptron, test-score network, iris", runDemo},
		{"help", "show help for nn or one of its commands", runHelp},
	}
}

func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, stderrTTY: isTerminal(os.Stderr)}
	os.Exit(run(e, os.Args[1:]))
}

// isTerminal reports whether f is a character device such as a terminal.
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}

// checkedWriter is a writer that keeps the first error of its writes.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct {
	cmd string // the command whose usage applies, or ""
	msg string
}

func (e *usageError) Error() string { return e.msg }

// errHelp is returned by a command after printing the help that was asked
// for: exit status 0.
var errHelp = errors.New("help requested")

// errExit is returned by a command that has already reported what went
// wrong on stderr and wants exit status 1.
var errExit = errors.New("exit 1")

// run runs the command line args (without the program name) and returns
// the exit status. No panic escapes it: a panic is reported as one line.
func run(e *env, args []string) (status int) {
	// Every write to stdout is checked: output lost to a full disk is an
	// error, whatever the command. (A closed pipe on os.Stdout stops the
	// program with SIGPIPE first, exit status 141 in a shell, as for other
	// Unix tools; the check catches it where the signal is ignored.)
	out := &checkedWriter{w: e.stdout}
	e = &env{stdin: e.stdin, stdout: out, stderr: e.stderr, stderrTTY: e.stderrTTY}
	defer func() {
		if out.err != nil && status == 0 {
			fmt.Fprintln(e.stderr, describe(out.err))
			status = 1
		}
	}()
	defer func() {
		if r := recover(); r != nil {
			if os.Getenv("NN_DEBUG") != "" {
				fmt.Fprintf(e.stderr, "%s\n", debug.Stack())
			}
			fmt.Fprintf(e.stderr, "nn: internal error: %s (set NN_DEBUG=1 for a stack trace)\n", oneLine(fmt.Sprint(r)))
			status = 1
		}
	}()
	if len(args) == 0 {
		printUsage(e.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		printUsage(e.stdout)
		return 0
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(e.stderr, "nn: unknown command %s (commands: %s; see 'nn help')\n", excerpt.Quote(name), commandNames())
		return 2
	}
	err := cmd.run(e, args[1:])
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.Is(err, errExit):
		return 1
	case errors.As(err, &ue):
		hint := "'nn help'"
		if ue.cmd != "" {
			hint = "'nn " + ue.cmd + " -h'"
		}
		fmt.Fprintf(e.stderr, "nn %s: %s (see %s)\n", cmd.name, oneLine(ue.msg), hint)
		return 2
	}
	line := describe(err)
	switch {
	case errors.Is(err, nn.ErrMemoryBudget):
		line += " (-max-memory raises the budget)"
	case errors.Is(err, nn.ErrResumeChanged):
		line += " (-resume-changed continues all the same)"
	}
	fmt.Fprintln(e.stderr, line)
	return 1
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `nn trains small neural networks on CSV files.

Usage:

	nn <command> [flags]

Commands:

`)
	for _, c := range commands {
		fmt.Fprintf(w, "	%-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'nn help <command>' or 'nn <command> -h' for the flags of a command.

A first session, from the root of the repository:

	nn demo
	nn train -data testdata/iris.csv -target species -o iris.json -plot loss.png
	nn eval -model iris.json -data testdata/iris.csv
	nn predict -model iris.json -data testdata/iris.csv

Exit status: 0 on success, 2 for a usage error, 1 for any other error.
`)
}

func runHelp(e *env, args []string) error {
	switch len(args) {
	case 0:
		printUsage(e.stdout)
		return nil
	case 1:
		c := lookup(args[0])
		if c == nil {
			return &usageError{msg: fmt.Sprintf("unknown command %s (commands: %s)", excerpt.Quote(args[0]), commandNames())}
		}
		if c.name == "help" {
			printUsage(e.stdout)
			return nil
		}
		return c.run(e, []string{"-h"})
	}
	return &usageError{msg: "help takes at most one command name"}
}

// fileError is a problem with a file that this command finds itself,
// such as a model whose labels do not fit its outputs: "path: message".
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// fileErrorf returns a *fileError about the file at path with the message
// of format and args.
func fileErrorf(path, format string, args ...any) error {
	return &fileError{path: path, err: fmt.Errorf(format, args...)}
}

// describe returns the line that reports err: "nn: " and the message. The
// errors of package nn that name no file start with "nn: " already, and so
// do those of this command; those that start with their place get the
// prefix here: a *nn.ParseError ("iris.csv:4:3: ..."), a *fileError, and
// an error of the file system, whose operation is left out ("data.csv: no
// such file or directory").
func describe(err error) string {
	switch e := err.(type) {
	case *fs.PathError:
		return oneLine("nn: " + e.Path + ": " + e.Err.Error())
	case *nn.ParseError, *fileError:
		return oneLine("nn: " + e.Error())
	}
	return oneLine(err.Error())
}

// oneLine returns s with line breaks escaped, so that an error is always
// one line however odd the data it quotes.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`).Replace(strings.TrimSpace(s))
}

// newFlagSet returns a silent FlagSet for the command name: parseFlags
// reports its errors and prints its usage.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("nn "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs. It prints the usage on e.stdout and
// returns errHelp for -h, and returns a usageError for a bad flag or for
// arguments left over.
func parseFlags(e *env, fs *flag.FlagSet, cmd, synopsis string, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(e.stdout, synopsis)
		fmt.Fprintln(e.stdout, "\nFlags:")
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		return errHelp
	}
	if err != nil {
		return &usageError{cmd: cmd, msg: shortenFlagError(err.Error())}
	}
	if fs.NArg() > 0 {
		return &usageError{cmd: cmd, msg: fmt.Sprintf("unexpected argument %s: every input is given by a flag", excerpt.Quote(fs.Arg(0)))}
	}
	return nil
}

// quoted matches a string that package flag, or a flag's Set, quoted with
// %q.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// shortenFlagError shortens the message of package flag's error msg so
// that it quotes at most excerpt.MaxQuoted bytes of any argument: flag
// quotes a bad value whole, and a Set's error may quote it again, and it
// writes an unknown flag or bad syntax unquoted after the colon.
func shortenFlagError(msg string) string {
	msg = quoted.ReplaceAllStringFunc(msg, func(q string) string {
		s, err := strconv.Unquote(q)
		if err != nil || len(s) <= excerpt.MaxQuoted {
			return q
		}
		return excerpt.Quote(s)
	})
	for _, prefix := range []string{"flag provided but not defined: ", "bad flag syntax: ", "flag needs an argument: "} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok && len(rest) > excerpt.MaxQuoted {
			return prefix + excerpt.Quote(rest)
		}
	}
	return msg
}

// required returns a usageError if the string flag name was left empty.
func required(cmd, name, value, what string) error {
	if value == "" {
		return &usageError{cmd: cmd, msg: fmt.Sprintf("flag -%s is required: %s", name, what)}
	}
	return nil
}
