package runner

import (
	"context"
	"fmt"
	"sync"

	"github.com/cirun-dev/cirun/engine"
)

// WaitOptions are `cirun wait`'s options.
type WaitOptions struct {
	Services []string
	// DownProject tears the project down (as `down --remove-orphans`) once
	// the containers have stopped.
	DownProject bool
}

// Wait blocks until every running container (one-offs included) of the
// services has stopped, printing `container "ID" exited with status code
// N` for each on Stdout, and returns the exit code of the last one to stop,
// as docker compose does.
func (r *Runner) Wait(ctx context.Context, project string, o WaitOptions) (int, error) {
	l, err := r.list(ctx, Scope{Project: project})
	if err != nil {
		return 1, err
	}
	var cs []engine.Container
	for _, n := range l.targets(Scope{Project: project, Services: o.Services}, true) {
		cs = append(cs, l.of(n, containerSel{oneoff: true, running: true})...)
	}
	if len(cs) == 0 {
		return 1, fmt.Errorf("no containers for project %q", project)
	}
	var mu sync.Mutex
	last := 0
	err = each(cs, func(c engine.Container) error {
		code, err := r.eng.WaitContainer(ctx, c.ID)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", c.Name, err)
		}
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(r.opts.Stdout, "container %q exited with status code %d\n", c.ID, code)
		last = code
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return 130, ErrInterrupted
		}
		return 1, err
	}
	if o.DownProject {
		if err := r.Down(ctx, project, DownOptions{RemoveOrphans: true}); err != nil {
			return 1, err
		}
	}
	return last, nil
}
