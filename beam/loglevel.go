package nnbeam

import (
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
)

// SetLogLevel sets the level of the slog logger that beam.Init makes the
// process's default: "debug", "info" (Beam's default, about fifteen lines
// a pipeline), "warn" or "error". It must be called before beam.Init,
// which reads it. It returns an error, and changes nothing, for another
// level.
func SetLogLevel(level string) error {
	switch l := strings.ToLower(level); l {
	case "debug", "info", "warn", "error":
		log.LogLevel = l
		return nil
	}
	return fmt.Errorf("nnbeam: log level %q: want debug, info, warn or error", level)
}
