package runner

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/cirun-dev/cirun/engine"
)

// ExecOptions are `cirun exec`'s options.
type ExecOptions struct {
	Service string
	// Index is the container number (--index); 0 means the service's
	// first running container.
	Index      int
	Command    []string
	Env        []string // KEY=VALUE
	User       string
	WorkingDir string
	Privileged bool
	Tty        bool
	// Detach starts the command in the background and returns 0.
	Detach bool
	// Stdin is copied to the command; nil gives it none.
	Stdin io.Reader
}

// Exec runs a command in a running container of a service, with its output
// on Stdout and Stderr, and returns the command's exit code.
func (r *Runner) Exec(ctx context.Context, project string, o ExecOptions) (int, error) {
	if len(o.Command) == 0 {
		return 1, fmt.Errorf("exec: a command is required")
	}
	c, err := r.target(ctx, project, o.Service, o.Index, true)
	if err != nil {
		return 1, err
	}
	spec := engine.ExecSpec{
		Cmd: o.Command, Env: o.Env, User: o.User, WorkDir: o.WorkingDir,
		Tty: o.Tty, Privileged: o.Privileged, Detach: o.Detach,
	}
	if !o.Detach {
		spec.Streams = engine.Streams{Stdin: o.Stdin, Stdout: r.opts.Stdout, Stderr: r.opts.Stderr}
	}
	code, err := r.eng.Exec(ctx, c.ID, spec)
	if err != nil {
		if ctx.Err() != nil {
			return 130, ErrInterrupted
		}
		return 1, fmt.Errorf("exec in %s: %w", c.Name, err)
	}
	return code, nil
}

// target returns the container of service number index (0: the first by
// number) of the project, running ones only when running is set.
func (r *Runner) target(ctx context.Context, project, service string, index int, running bool) (engine.Container, error) {
	l, err := r.list(ctx, Scope{Project: project})
	if err != nil {
		return engine.Container{}, err
	}
	cs := l.of(service, containerSel{running: running})
	for _, c := range cs {
		if index == 0 || c.Labels[engine.LabelContainerNumber] == strconv.Itoa(index) {
			return c, nil
		}
	}
	what := "is not running"
	if !running {
		what = "has no container"
	}
	if index > 0 {
		return engine.Container{}, fmt.Errorf("service %q %s container #%d", service, what, index)
	}
	return engine.Container{}, fmt.Errorf("service %q %s", service, what)
}
