package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

// Progress modes (--progress, COMPOSE_PROGRESS), as docker compose has them.
const (
	progressAuto  = "auto"
	progressTTY   = "tty"
	progressPlain = "plain"
	progressJSON  = "json"
	progressQuiet = "quiet"
)

// ANSI modes (--ansi, COMPOSE_ANSI).
const (
	ansiNever  = "never"
	ansiAlways = "always"
	ansiAuto   = "auto"
)

// ansiMode is the effective --ansi: the flag (or COMPOSE_ANSI), "never"
// when NO_COLOR is set, as docker compose does.
func ansiMode(c *cli.Context) (string, error) {
	mode := c.String("ansi")
	switch mode {
	case ansiNever, ansiAlways, ansiAuto:
	case "":
		mode = ansiAuto
	default:
		return "", fmt.Errorf("unsupported --ansi value %q (never, always, auto)", mode)
	}
	if os.Getenv("NO_COLOR") != "" {
		mode = ansiNever
	}
	return mode, nil
}

// color reports whether container output on stdout gets ANSI colors:
// --ansi always, or auto on a terminal.
func (e *env) color(c *cli.Context) (bool, error) {
	mode, err := ansiMode(c)
	if err != nil {
		return false, err
	}
	return mode == ansiAlways || mode == ansiAuto && isTerminal(e.stdout), nil
}

// progressMode resolves --progress with docker compose's rules: auto is a
// terminal display when stdout and stderr are terminals and ANSI is not
// disabled, plain lines otherwise; tty needs ANSI, plain refuses forced
// ANSI.
func (e *env) progressMode(c *cli.Context) (string, error) {
	ansi, err := ansiMode(c)
	if err != nil {
		return "", err
	}
	switch mode := c.String("progress"); mode {
	case progressAuto, "":
		if ansi != ansiNever && isTerminal(e.stdout) && isTerminal(e.stderr) {
			return progressTTY, nil
		}
		return progressPlain, nil
	case progressTTY:
		if ansi == ansiNever {
			return "", fmt.Errorf("can't use --progress tty while ANSI support is disabled")
		}
		return mode, nil
	case progressPlain:
		if ansi == ansiAlways {
			return "", fmt.Errorf("can't use --progress plain while ANSI support is forced")
		}
		return mode, nil
	case progressQuiet, "none":
		return progressQuiet, nil
	case progressJSON:
		return mode, nil
	default:
		return "", fmt.Errorf("unsupported --progress value %q", mode)
	}
}

// newDisplay returns the progress events for a resolved progress mode and
// the stdout and stderr the runner writes to: for tty, the terminal display
// and writers that end its current block when anything else is written.
func newDisplay(stdout, stderr io.Writer, mode string) (runner.Events, io.Writer, io.Writer) {
	if mode == progressTTY {
		d := newTTYDisplay(stderr)
		return d.event, d.writer(stdout), d.writer(stderr)
	}
	return newRenderer(stderr, mode), stdout, stderr
}

// newRenderer returns the line renderer for a progress mode: docker
// compose's plain lines (" Container p-db-1 Started"), JSON lines, or
// nothing. Progress always goes to stderr.
func newRenderer(w io.Writer, mode string) runner.Events {
	var mu sync.Mutex
	switch mode {
	case progressQuiet:
		return func(runner.Event) {}
	case progressJSON:
		enc := json.NewEncoder(w)
		return func(ev runner.Event) {
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(jsonEvent{
				ID: ev.Kind + " " + ev.Name, Status: statusClass(ev.Status), Text: ev.Status, Details: ev.Detail,
				Time: ev.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
			})
		}
	default:
		return func(ev runner.Event) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintln(w, plainLine(ev))
		}
	}
}

// plainLine is one event as docker compose's plain display writes it:
// " Container p-db-1 Started" (details after the status).
func plainLine(ev runner.Event) string {
	switch {
	case ev.Status == "Warning":
		return "WARN[0000] " + ev.Detail
	case ev.Status == "Error" && ev.Detail != "":
		return fmt.Sprintf(" %s %s Error: %s", ev.Kind, ev.Name, ev.Detail)
	case ev.Detail != "":
		return fmt.Sprintf(" %s %s %s %s", ev.Kind, ev.Name, ev.Status, ev.Detail)
	default:
		return fmt.Sprintf(" %s %s %s", ev.Kind, ev.Name, ev.Status)
	}
}

// jsonEvent is docker compose's --progress json message.
type jsonEvent struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Text    string `json:"text,omitempty"`
	Details string `json:"details,omitempty"`
	Time    string `json:"time"`
}

// statusClass is docker compose's status of an event: Working while an
// action runs, Done when it finished, Warning, Error.
func statusClass(status string) string {
	switch status {
	case "Creating", "Starting", "Stopping", "Removing", "Pulling", "Building", "Waiting", "Recreate", "Restarting", "Killing", "Pausing", "Unpausing":
		return "Working"
	case "Warning":
		return "Warning"
	case "Error":
		return "Error"
	default:
		return "Done"
	}
}
