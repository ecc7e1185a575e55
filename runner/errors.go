package runner

import (
	"errors"
	"fmt"
)

// ErrInterrupted is returned when the context was cancelled by a signal.
var ErrInterrupted = errors.New("interrupted")

// ExitError carries the exit code the CLI must exit with (a test or one-off
// container's code, docker compose's codes for aborts).
type ExitError struct {
	Code int
	Err  error // optional cause, printed by the CLI when non-nil
}

func (e *ExitError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("exit status %d", e.Code)
}

func (e *ExitError) Unwrap() error { return e.Err }

// ServiceError reports a service that failed to start, became unhealthy or
// exited while something waited on it. Logs holds its last log lines.
type ServiceError struct {
	Service   string
	Container string
	// Reason is docker compose's wording: "is unhealthy", "exited (1)",
	// "has no healthcheck configured", "didn't complete successfully: exit 1".
	Reason string
	Logs   []string
	// Dependency is true when the failure stopped a dependent from starting.
	Dependency bool
}

func (e *ServiceError) Error() string {
	msg := fmt.Sprintf("container %s %s", e.Container, e.Reason)
	if e.Dependency {
		return "dependency failed to start: " + msg
	}
	return msg
}
