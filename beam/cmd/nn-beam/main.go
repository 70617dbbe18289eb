// Command nn-beam runs the models of github.com/neuralgo/nn on Apache
// Beam, with package github.com/neuralgo/nn/beam: the same pipeline runs
// on the local Prism runner and, unchanged, on Dataflow, Flink or Spark.
//
// Usage:
//
//	nn-beam score -model MODEL -input GLOB -output PREFIX [flags]   predict the rows of CSV files
//	nn-beam train -data GLOB -target COLUMN -o MODEL [flags]        train a network on CSV shards
//	nn-beam help [command]                                         show help
//
// Run "nn-beam help <command>" or "nn-beam <command> -h" for the flags of
// a command.
//
// # Runners and Beam's flags
//
// -runner chooses the runner: prism (the default, in this process),
// direct, dataflow, flink or spark. The flags of Beam and of its runners
// (--project, --region, --temp_location, --endpoint, --environment_type,
// --worker_binary…) are accepted beside a command's own and passed to
// Beam. A runner that starts workers runs this same binary with Beam's
// worker flags and no command; it then serves as a Beam worker.
//
// # Logging
//
// Beam logs through log/slog on standard error at the level of
// -log-level: warn by default, so that a run prints its summary and its
// problems only; info or debug show what Beam and the runner do. At warn
// and error, the runner's long reports of a failed bundle or job are left
// out: nn-beam's one-line error says what failed and where.
//
// # Exit status
//
// 0 on success, 2 for a usage error (unknown command or flag, missing
// required flag, bad flag value), 1 for any other error, a failed job
// included. Errors are one line on standard error, prefixed "nn-beam: ".
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	// The runners nn-beam supports, each registering itself and its
	// flags. (x/beamx would bring every runner and more.)
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"

	// The file systems of inputs, models and outputs.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"

	"github.com/neuralgo/nn/internal/excerpt"
)

// command is a subcommand of nn-beam. Its flags are defined on a FlagSet
// of its own, which shows them in its help, and are parsed together with
// Beam's flags, which the runners define on flag.CommandLine.
type command struct {
	name    string
	summary string
	// synopsis is the help of the command, printed before its flags.
	synopsis string
	// flags defines the command's flags on fs and returns the function
	// that runs the command once they are parsed and Beam is
	// initialized.
	flags func(fs *flag.FlagSet) func(ctx context.Context, e *env) error
}

// env is what a command runs with: its output streams.
type env struct {
	stdout, stderr io.Writer
}

// commands are the subcommands of nn-beam, in the order of the help.
// A new command is a file with its synopsis and flags function, and a
// line here.
var commands []*command

// runnerNames are the names -runner accepts, the first being the
// default.
var runnerNames = []string{"prism", "direct", "dataflow", "flink", "spark"}

// logLevels are the levels -log-level accepts, those of Beam's log
// package.
var logLevels = []string{"debug", "info", "warn", "error"}

// logLevel is the value of -log-level.
var logLevel = "warn"

func init() {
	commands = []*command{
		{"score", "predict the rows of CSV files with a model file, as nn predict does", scoreSynopsis, scoreFlags},
		{"train", "train a network on shards of CSV files, the driver keeping the weights", trainSynopsis, trainFlags},
		{"help", "show help for nn-beam or one of its commands", "", nil},
	}

	// Beam's flags are on flag.CommandLine, defined by the init
	// functions of its packages, which run before this one. Errors and
	// help are reported by run.
	flag.CommandLine.Init("nn-beam", flag.ContinueOnError)
	flag.CommandLine.SetOutput(io.Discard)
	flag.CommandLine.Usage = func() {}
	*runners.Runner = runnerNames[0]
	flag.CommandLine.Lookup("runner").DefValue = runnerNames[0]
	flag.CommandLine.Func("log-level", "the `level` of Beam's logs: "+orList(logLevels)+` (default "warn")`, setLogLevel)
}

func main() {
	os.Exit(run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr}))
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct {
	cmd string // the command whose help applies, or ""
	msg string
}

func (e *usageError) Error() string { return e.msg }

// usagef returns a *usageError of the command cmd with the message of
// format and args.
func usagef(cmd, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// requiredFlag is a flag that a command requires, its value, and what it
// is for.
type requiredFlag struct{ name, value, what string }

// required returns a usage error of the command cmd for the first of
// flags that is not set, or nil.
func required(cmd string, flags ...requiredFlag) error {
	for _, f := range flags {
		if f.value == "" {
			return usagef(cmd, "flag -%s is required: %s", f.name, f.what)
		}
	}
	return nil
}

// errHelp is returned after printing the help that was asked for: exit
// status 0.
var errHelp = errors.New("help requested")

// run runs the command line args (without the program name) and returns
// the exit status. A runner's worker, started with Beam's worker flags
// and no command, does not return: beam.Init serves it and exits.
func run(args []string, e *env) (status int) {
	defer func() {
		// No panic escapes as a stack trace: Beam panics on some
		// mistakes while a pipeline is built or run.
		if r := recover(); r != nil {
			fmt.Fprintf(e.stderr, "nn-beam: internal error: %s\n", oneLine(fmt.Sprint(r)))
			status = 1
		}
	}()
	err := dispatch(args, e)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		hint := "'nn-beam help'"
		if ue.cmd != "" {
			hint = "'nn-beam help " + ue.cmd + "'"
		}
		fmt.Fprintf(e.stderr, "nn-beam: %s (see %s)\n", oneLine(ue.msg), hint)
		return 2
	}
	fmt.Fprintf(e.stderr, "nn-beam: %s\n", oneLine(err.Error()))
	return 1
}

// dispatch parses the flags before the command, Beam's among them, then
// the command and its flags, initializes Beam and runs the command.
func dispatch(args []string, e *env) error {
	err := flag.CommandLine.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(e.stdout)
		return errHelp
	}
	if err != nil {
		return usagef("", "%v", err)
	}
	if flag.NArg() == 0 {
		// A runner's worker: Beam's worker flags and no command.
		// beam.Init serves it and does not return.
		if err := initBeam(); err != nil {
			return err
		}
		printUsage(e.stderr)
		return usagef("", "no command")
	}
	name := flag.Arg(0)
	cmd := lookup(name)
	if cmd == nil {
		return usagef("", "unknown command %s (commands: %s)", excerpt.Quote(name), commandNames())
	}
	if cmd.name == "help" {
		return runHelp(e, flag.Args()[1:])
	}
	fs := flag.NewFlagSet("nn-beam "+cmd.name, flag.ContinueOnError)
	runCmd := cmd.flags(fs)
	// Beam's flags and the command's are parsed together.
	fs.VisitAll(func(f *flag.Flag) {
		flag.CommandLine.Var(f.Value, f.Name, f.Usage)
	})
	err = flag.CommandLine.Parse(flag.Args()[1:])
	if errors.Is(err, flag.ErrHelp) {
		printHelp(e.stdout, cmd)
		return errHelp
	}
	if err != nil {
		return usagef(cmd.name, "%v", err)
	}
	if flag.NArg() > 0 {
		return usagef(cmd.name, "unexpected argument %s: every input is given by a flag; quote a glob, or the shell expands it", excerpt.Quote(flag.Arg(0)))
	}
	if err := initBeam(); err != nil {
		return err
	}
	return runCmd(context.Background(), e)
}

// setLogLevel sets the level of Beam's logs, which beam.Init reads.
func setLogLevel(s string) error {
	if !slices.Contains(logLevels, s) {
		return fmt.Errorf("want %s", orList(logLevels))
	}
	logLevel = s
	return nil
}

// initBeam checks -runner and initializes Beam, as a Beam program must
// once its flags are parsed. In a worker started by a runner, beam.Init
// serves the worker and exits the process.
func initBeam() error {
	name := strings.ToLower(*runners.Runner)
	if !slices.Contains(runnerNames, name) {
		return usagef("", "invalid value %s for flag -runner: want %s", excerpt.Quote(*runners.Runner), orList(runnerNames))
	}
	*runners.Runner = name
	// beam.Init replaces slog's default logger with one at this level.
	log.LogLevel = logLevel
	beam.Init()
	if logLevel == "warn" || logLevel == "error" {
		slog.SetDefault(slog.New(quietFailures{slog.Default().Handler()}))
	}
	return nil
}

// quietFailures is a slog handler that leaves out the runner's reports of
// a failed bundle or job: Prism logs each at error level, with the whole
// plan of the stage, several kilobytes, while nn-beam's own one-line
// error says what failed and where. At -log-level info or debug they are
// all kept.
type quietFailures struct{ slog.Handler }

// Handle passes r on unless it is one of the runner's reports of a
// failure.
func (h quietFailures) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && failureReport(r.Message) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs returns the handler with attrs, still quiet.
func (h quietFailures) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietFailures{h.Handler.WithAttrs(attrs)}
}

// WithGroup returns the handler with the group, still quiet.
func (h quietFailures) WithGroup(name string) slog.Handler {
	return quietFailures{h.Handler.WithGroup(name)}
}

// failureReport reports whether msg is one of the messages with which
// Prism and the SDK report a failed bundle or job.
func failureReport(msg string) bool {
	switch msg {
	case "job failed", "Bundle Failed.", "stage.Execute aborting due to bundle error", "Prism received bundle error from worker response":
		return true
	}
	return strings.HasPrefix(msg, "[SDK] process bundle failed") || strings.HasPrefix(msg, "[SDK] bundle ")
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
	fmt.Fprint(w, `nn-beam runs neural-network models of github.com/neuralgo/nn on Apache Beam.

Usage:

	nn-beam <command> [flags] [Beam's flags]

Commands:

`)
	for _, c := range commands {
		fmt.Fprintf(w, "	%-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'nn-beam help <command>' or 'nn-beam <command> -h' for the flags of a
command.
`+commonHelp+`
Examples:

	nn-beam score -model iris.json -input 'data/*.csv' -output out/iris
`+runnerExamples)
}

// commonHelp describes the flags that every command takes.
const commonHelp = `
Every command takes:

	-runner NAME       the Beam runner: prism (default, in this process),
	                   direct, dataflow, flink or spark
	-log-level LEVEL   Beam's logs on standard error: debug, info, warn
	                   (default) or error

and the flags of Beam and its runners, such as --project, --region,
--temp_location, --staging_location (Dataflow), --endpoint,
--environment_type (Flink, Spark, a Prism job server), --worker_binary,
--job_name and --parallelism. Workers started by a runner run this same
binary, built for their system (--worker_binary), with Beam's worker
flags; without --worker_binary, Beam compiles one from the sources of
nn-beam, which must then be at hand. Exit status: 0 on success, 2 for a
usage error, 1 for any other error, a failed job included.
`

// runnerExamples are examples of the runners, for the help of commands.
const runnerExamples = `
	# Dataflow: model and files on Cloud Storage, workers built for Linux
	# (in the directory of the module github.com/neuralgo/nn/beam).
	GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -o nn-beam-linux ./cmd/nn-beam
	nn-beam score -model gs://b/iris.json -input 'gs://b/data/*.csv' -output gs://b/out/iris \
	    --runner dataflow --project P --region R \
	    --temp_location gs://b/tmp --staging_location gs://b/staging \
	    --worker_binary nn-beam-linux

	# Flink, through its job server, with workers in this process.
	nn-beam score -model iris.json -input 'data/*.csv' -output out/iris \
	    --runner flink --endpoint localhost:8099 --environment_type LOOPBACK

	# Spark, through its job server (workers in Docker: --worker_binary
	# as for Dataflow, or --environment_type LOOPBACK as for Flink).
	nn-beam score -model iris.json -input 'data/*.csv' -output out/iris \
	    --runner spark --endpoint localhost:8099
`

// printHelp prints the help of cmd and its flags.
func printHelp(w io.Writer, cmd *command) {
	fmt.Fprint(w, cmd.synopsis)
	fmt.Fprintln(w, "\nFlags:")
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.flags(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, commonHelp)
}

func runHelp(e *env, args []string) error {
	switch len(args) {
	case 0:
		printUsage(e.stdout)
		return nil
	case 1:
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			printUsage(e.stdout)
			return nil
		}
		c := lookup(args[0])
		if c == nil {
			return usagef("", "unknown command %s (commands: %s)", excerpt.Quote(args[0]), commandNames())
		}
		if c.name == "help" {
			printUsage(e.stdout)
			return nil
		}
		printHelp(e.stdout, c)
		return nil
	}
	return usagef("", "help takes at most one command name")
}

// orList returns "a, b or c".
func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// oneLine returns s with line breaks escaped, so that an error is always
// one line however odd the data it quotes.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`).Replace(strings.TrimSpace(s))
}
