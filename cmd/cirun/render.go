package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/cirun-dev/cirun/runner"
)

// newRenderer returns the progress renderer for --progress: plain lines
// (docker compose's " Container x-db-1  Started"), JSON lines, or nothing.
// Progress always goes to stderr.
func newRenderer(w io.Writer, mode string) runner.Events {
	var mu sync.Mutex
	switch mode {
	case "quiet":
		return func(runner.Event) {}
	case "json":
		enc := json.NewEncoder(w)
		return func(ev runner.Event) {
			mu.Lock()
			defer mu.Unlock()
			_ = enc.Encode(map[string]string{"kind": ev.Kind, "id": ev.Name, "status": ev.Status, "text": ev.Detail, "time": ev.Time.UTC().Format("2006-01-02T15:04:05.000Z")})
		}
	default: // auto, tty, plain: plain lines (a tty renderer is future work)
		return func(ev runner.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case ev.Status == "Warning":
				fmt.Fprintf(w, "WARN[0000] %s\n", ev.Detail)
			case ev.Detail != "" && ev.Status == "Error":
				fmt.Fprintf(w, " %s %s  %s: %s\n", ev.Kind, ev.Name, ev.Status, ev.Detail)
			case ev.Detail != "":
				fmt.Fprintf(w, " %s %s  %s %s\n", ev.Kind, ev.Name, ev.Status, ev.Detail)
			default:
				fmt.Fprintf(w, " %s %s  %s\n", ev.Kind, ev.Name, ev.Status)
			}
		}
	}
}
