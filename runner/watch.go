package runner

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// ServiceEvent is one container event of a project, as `events` prints it.
type ServiceEvent struct {
	Time      time.Time
	Action    string // docker's: create, start, die, stop, kill, destroy, ...
	Container string // container ID
	Name      string // container name
	Service   string
	// Attributes are the container's attributes without docker compose's
	// own labels (com.docker.compose.*): name, image, exitCode, other labels.
	Attributes map[string]string
}

// String is docker compose's text form of an event.
func (e ServiceEvent) String() string {
	keys := sortedKeys(e.Attributes)
	attrs := make([]string, len(keys))
	for i, k := range keys {
		attrs[i] = k + "=" + e.Attributes[k]
	}
	return fmt.Sprintf("%s container %s %s (%s)", e.Time.Format("2006-01-02 15:04:05.000000"), e.Action, e.Container, strings.Join(attrs, ", "))
}

// EventsOptions are `cirun events`' options.
type EventsOptions struct {
	Services []string  // empty: all
	Since    time.Time // replay from then; zero: only new events
	Until    time.Time // stop then; zero: until ctx is done
}

// Events calls fn with each container event of the project's services
// (one-off containers excepted) until ctx is done, o.Until passes or fn
// fails.
func (r *Runner) Events(ctx context.Context, project string, o EventsOptions, fn func(ServiceEvent) error) error {
	want := map[string]bool{}
	for _, s := range o.Services {
		want[s] = true
	}
	f := engine.EventFilter{Labels: map[string]string{engine.LabelProject: project}, Since: o.Since, Until: o.Until}
	err := r.eng.ContainerEvents(ctx, f, func(ev engine.ContainerEvent) error {
		if ev.Attributes[engine.LabelOneoff] == "True" {
			return nil
		}
		svc := ev.Attributes[engine.LabelService]
		if len(want) > 0 && !want[svc] {
			return nil
		}
		attrs := map[string]string{}
		for k, v := range ev.Attributes {
			if !strings.HasPrefix(k, "com.docker.compose.") {
				attrs[k] = v
			}
		}
		return fn(ServiceEvent{Time: ev.Time, Action: ev.Action, Container: ev.ID, Name: ev.Name, Service: svc, Attributes: attrs})
	})
	if err != nil {
		return fmt.Errorf("events of project %s: %w", project, err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
