package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// prefixWriter writes complete lines to out, each behind prefix. Writers
// sharing one lock keep lines from different containers whole.
type prefixWriter struct {
	mu     *sync.Mutex
	out    io.Writer
	prefix string
	// stamp, when set, returns a timestamp written after the prefix
	// (docker compose's --timestamps: the time the line was received).
	stamp func() string
	buf   []byte
	// lf, when set, gives the prefix of name at lf's current width
	// (attached up, where hook sources widen every prefix).
	lf    *logFormatter
	name  string
	color string
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := w.buf[:i+1]
		w.mu.Lock()
		_, err := io.WriteString(w.out, w.lead()+string(line))
		w.mu.Unlock()
		w.buf = w.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

// lead is what comes before each line: the prefix and the timestamp.
func (w *prefixWriter) lead() string {
	prefix := w.prefix
	if w.lf != nil {
		prefix = w.lf.prefixOf(w.name, w.color) // w.mu is lf.mu: held
	}
	if w.stamp == nil {
		return prefix
	}
	return prefix + w.stamp() + " "
}

// Flush writes a last unterminated line.
func (w *prefixWriter) Flush() {
	if len(w.buf) > 0 {
		w.mu.Lock()
		fmt.Fprintf(w.out, "%s%s\n", w.lead(), w.buf)
		w.mu.Unlock()
		w.buf = nil
	}
}

// logPrefixes returns docker compose's log prefixes for container short
// names ("db-1"): padded to the longest name plus one, then "| ".
func logPrefixes(names []string) map[string]string {
	width := 0
	for _, n := range names {
		if len(n) > width {
			width = len(n)
		}
	}
	out := map[string]string{}
	for _, n := range names {
		out[n] = fmt.Sprintf("%-*s | ", width+1, n)
	}
	return out
}

// shortName is a container's name without the project: "db-1"; a
// container_name is kept whole, as docker compose does.
func shortName(c engine.Container) string {
	svc := c.Labels[engine.LabelService]
	num := c.Labels[engine.LabelContainerNumber]
	if svc == "" {
		return c.Name
	}
	project := c.Labels[engine.LabelProject]
	if c.Labels[engine.LabelOneoff] == "True" {
		return strings.TrimPrefix(c.Name, project+"-")
	}
	if c.Name != "" && c.Name != project+"-"+svc+"-"+num {
		return c.Name
	}
	return svc + "-" + num
}

// LogFormat is how container output is written (`up` attached, `logs`).
type LogFormat struct {
	// NoPrefix drops the "db-1  | " prefix (--no-log-prefix).
	NoPrefix bool
	// Color colors each container's prefix and status lines (docker
	// compose's rainbow); the CLI sets it only for a terminal.
	Color bool
	// Timestamps writes the time each line was received after the prefix.
	Timestamps bool
}

// logColors are docker compose's prefix colors (ANSI SGR codes), handed
// out in turn: cyan, yellow, green, magenta, blue, then their bold forms.
var logColors = []string{"36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"}

func ansi(code, s string) string { return "\033[" + code + "m" + s + "\033[0m" }

// logFormatter writes the output of a fixed set of containers: every prefix
// padded to the longest name, colors assigned in name order.
type logFormatter struct {
	f        LogFormat
	clock    Clock
	mu       sync.Mutex // keeps lines of different containers whole
	out      io.Writer
	err      io.Writer // the containers' stderr lines (docker compose: stderr)
	prefixes map[string]string
	colors   map[string]string
	// width is the prefixes' padding: one past the longest name, hook
	// sources ("db-1 ->") included; it grows when a hook source first
	// writes, and every prefix follows (docker compose's log consumer).
	width int
}

// newLogFormatter prepares prefixes for names (short container names).
func newLogFormatter(out, errOut io.Writer, names []string, f LogFormat, clock Clock) *logFormatter {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	if errOut == nil {
		errOut = out
	}
	lf := &logFormatter{f: f, clock: clock, out: out, err: errOut, prefixes: logPrefixes(sorted), colors: map[string]string{}}
	for i, n := range sorted {
		if f.Color {
			lf.colors[n] = logColors[i%len(logColors)]
		}
		switch {
		case f.NoPrefix:
			lf.prefixes[n] = ""
		case f.Color:
			lf.prefixes[n] = ansi(lf.colors[n], lf.prefixes[n])
		}
		lf.width = max(lf.width, len(n)+1)
	}
	return lf
}

// prefixOf is name's prefix at the current width; lf.mu is held.
func (lf *logFormatter) prefixOf(name, color string) string {
	if lf.f.NoPrefix {
		return ""
	}
	p := fmt.Sprintf("%-*s | ", lf.width, name)
	if color != "" {
		p = ansi(color, p)
	}
	return p
}

// writer returns the line writer for one container's output.
func (lf *logFormatter) writer(name string) *prefixWriter {
	return lf.writerTo(lf.out, name)
}

// errWriter returns the line writer for one container's stderr: the same
// prefix, on stderr, as docker compose's log consumer.
func (lf *logFormatter) errWriter(name string) *prefixWriter {
	return lf.writerTo(lf.err, name)
}

// hookWriter returns the line writer for the output of a container's
// hooks: docker compose's source "NAME ->", its prefix padded like the
// others (at least one space past the longest name).
func (lf *logFormatter) hookWriter(name string) *prefixWriter {
	src := name + " ->"
	lf.mu.Lock()
	lf.width = max(lf.width, len(src)+1)
	lf.mu.Unlock()
	w := lf.writerTo(lf.out, name)
	w.name = src
	return w
}

func (lf *logFormatter) writerTo(out io.Writer, name string) *prefixWriter {
	w := &prefixWriter{mu: &lf.mu, out: out, prefix: lf.prefixes[name], lf: lf, name: name, color: lf.colors[name]}
	if lf.f.Timestamps {
		w.stamp = func() string { return lf.clock.Now().Format(rfc3339NanoFixed) }
	}
	return w
}

// rfc3339NanoFixed is docker's timestamp layout for log lines.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

// status writes a line about a container ("db-1 exited with code 0"), in
// the container's color.
func (lf *logFormatter) status(name, msg string) {
	line := name + " " + msg
	if c := lf.colors[name]; c != "" {
		line = ansi(c, line)
	}
	lf.mu.Lock()
	fmt.Fprintln(lf.out, line)
	lf.mu.Unlock()
}

// println writes a line of its own ("Attaching to ...").
func (lf *logFormatter) println(line string) {
	lf.mu.Lock()
	fmt.Fprintln(lf.out, line)
	lf.mu.Unlock()
}

// tail returns the last n lines of a container's output.
func (s *session) tail(id string, n int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var buf bytes.Buffer
	var mu sync.Mutex
	w := &lockedWriter{mu: &mu, w: &buf}
	if err := s.r.eng.ContainerLogs(ctx, id, engine.LogOptions{Tail: n}, w, w); err != nil {
		return []string{fmt.Sprintf("(logs unavailable: %v)", err)}
	}
	text := strings.TrimRight(buf.String(), "\n")
	if text == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
