package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// runHooks runs a service's lifecycle hooks (post_start, pre_stop) in c,
// one after the other, as docker compose does: each is an exec with the
// hook's user, privileges, working directory and environment, and the
// first that exits non-zero is docker compose's error ("SERVICE hook exited
// with status N"). Their output (both streams) goes to out, as docker
// compose shows it in an attached up; nil discards it.
func (r *Runner) runHooks(ctx context.Context, c engine.Container, svc types.ServiceConfig, hooks []types.ServiceHook, out io.Writer) error {
	for _, h := range hooks {
		spec := engine.ExecSpec{
			Cmd:        []string(h.Command),
			User:       h.User,
			WorkDir:    h.WorkingDir,
			Privileged: h.Privileged,
			Tty:        svc.Tty,
			Env:        hookEnv(h.Environment),
			Streams:    engine.Streams{Stdout: out, Stderr: out},
		}
		code, err := r.eng.Exec(ctx, c.ID, spec)
		if f, ok := out.(interface{ Flush() }); ok {
			f.Flush()
		}
		if err != nil {
			return fmt.Errorf("running a %s hook in %s: %w", svc.Name, c.Name, err)
		}
		if code != 0 {
			return fmt.Errorf("%s hook exited with status %d", svc.Name, code)
		}
	}
	return nil
}

// preStop runs svc's pre_stop hooks in a running c before it is stopped;
// a container that is gone or no longer running is not an error (as
// docker compose). The hooks' output goes to out (nil: discarded).
func (r *Runner) preStop(ctx context.Context, c engine.Container, svc types.ServiceConfig, out io.Writer) error {
	if len(svc.PreStop) == 0 || !c.Running() {
		return nil
	}
	err := r.runHooks(ctx, c, svc, svc.PreStop, out)
	if errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrNotRunning) {
		return nil
	}
	return err
}

// hookRun is the output of one container's hooks, kept until an attached
// up shows it.
type hookRun struct {
	c   engine.Container
	out *bytes.Buffer
}

// hookWriter is where the output of c's hooks goes now: the attached up's
// display, a buffer it will show once attached, or nowhere.
func (s *session) hookWriter(c engine.Container) io.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.hookLog != nil:
		return s.hookLog(c)
	case s.hookOutput != nil:
		run := hookRun{c: c, out: &bytes.Buffer{}}
		*s.hookOutput = append(*s.hookOutput, run)
		return run.out
	}
	return nil
}

func hookEnv(m types.MappingWithEquals) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v != nil {
			out = append(out, k+"="+*v)
		}
	}
	sort.Strings(out)
	return out
}
