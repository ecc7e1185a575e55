package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cirun-dev/cirun/runner"
)

// ttyDisplay is docker compose's terminal progress display, simplified: a
// block with one line per object (image, network, volume, container) and
// its latest status, redrawn in place on each event. Any other output to
// the terminal (container logs, build steps) goes through its writers and
// ends the block, which stays on screen as last drawn; later events start
// a new block below.
type ttyDisplay struct {
	mu    sync.Mutex
	out   io.Writer // the terminal the block is drawn on (stderr)
	width func() int
	lines []*ttyLine
	index map[string]*ttyLine
	drawn int // lines of the current block on screen
}

type ttyLine struct {
	id, status, detail string
	class              string // statusClass
	start, end         time.Time
}

func newTTYDisplay(out io.Writer) *ttyDisplay {
	return &ttyDisplay{out: out, width: func() int { return termWidth(out) }, index: map[string]*ttyLine{}}
}

// termWidth is the terminal's width in columns (80 when unknown).
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
			return int(ws.Col)
		}
	}
	return 80
}

// event is the display's runner.Events.
func (d *ttyDisplay) event(ev runner.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ev.Status == "Warning" {
		d.endBlock()
		fmt.Fprintf(d.out, "WARN[0000] %s\n", ev.Detail)
		return
	}
	id := ev.Kind + " " + ev.Name
	l := d.index[id]
	if l == nil {
		l = &ttyLine{id: id, start: ev.Time}
		d.index[id] = l
		d.lines = append(d.lines, l)
	}
	class := statusClass(ev.Status)
	if class == "Working" && l.class != "Working" {
		l.start = ev.Time // a new operation on the object
	}
	l.status, l.detail, l.class = ev.Status, ev.Detail, class
	if l.class == "Working" {
		l.end = time.Time{}
	} else if l.end.IsZero() {
		l.end = ev.Time
	}
	d.redraw()
}

// endBlock leaves the current block on screen and starts a new one; d.mu
// is held.
func (d *ttyDisplay) endBlock() {
	d.lines, d.index, d.drawn = nil, map[string]*ttyLine{}, 0
}

// redraw draws the block over its previous drawing; d.mu is held.
func (d *ttyDisplay) redraw() {
	var b strings.Builder
	if d.drawn > 0 {
		fmt.Fprintf(&b, "\033[%dF", d.drawn) // to the start of the block
	}
	width := d.width() - 1
	idWidth, done := 0, 0
	for _, l := range d.lines {
		idWidth = max(idWidth, len(l.id))
		if l.class != "Working" {
			done++
		}
	}
	lines := []string{fmt.Sprintf("[+] Running %d/%d", done, len(d.lines))}
	for _, l := range d.lines {
		icon := "⠿"
		switch l.class {
		case "Done":
			icon = "✔"
		case "Error":
			icon = "✘"
		case "Warning":
			icon = "!"
		}
		text := fmt.Sprintf(" %s %-*s  %s", icon, idWidth, l.id, l.status)
		if l.detail != "" {
			text += " " + l.detail
		}
		if !l.end.IsZero() && !l.start.IsZero() {
			text += fmt.Sprintf("  %.1fs", l.end.Sub(l.start).Seconds())
		}
		lines = append(lines, text)
	}
	for _, l := range lines {
		if r := []rune(l); width > 0 && len(r) > width {
			l = string(r[:width])
		}
		b.WriteString("\033[2K" + l + "\n")
	}
	d.drawn = len(lines)
	_, _ = io.WriteString(d.out, b.String())
}

// writer returns w wrapped so that writing to it ends the current block.
func (d *ttyDisplay) writer(w io.Writer) io.Writer { return &ttyPassthrough{d: d, w: w} }

type ttyPassthrough struct {
	d *ttyDisplay
	w io.Writer
}

func (p *ttyPassthrough) Write(b []byte) (int, error) {
	p.d.mu.Lock()
	defer p.d.mu.Unlock()
	p.d.endBlock()
	return p.w.Write(b)
}
