package buildah

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/cirun-dev/cirun/imagebuild"
)

// tailLines is how many output lines of the running step a StepError keeps.
const tailLines = 20

// maxPartial bounds a line without newline before it is flushed anyway.
const maxPartial = 64 << 10

// instr is one Dockerfile instruction, for mapping buildah's step log back
// to a line number.
type instr struct {
	text string // the instruction as buildah logs it (continuations joined)
	line int
	from bool
}

// step is one instruction executed (or found in the cache) by a build.
type step struct {
	num    int
	text   string
	line   int
	start  time.Time
	dur    time.Duration
	cached bool
	remote bool // the cache hit was pulled from a registry
}

var (
	// imageIDLine is buildah's "--> 0123456789ab" after each committed step.
	// Compiled on first use, not at init: every cirun command links this
	// package and few of them build.
	imageIDLine    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^--> [0-9a-f]{12,64}$`) })
	cacheHitPfx    = "--> Using cache "
	cachePulledPfx = "--> Cache pulled from remote "
	cachePushPfx   = "--> Pushing cache "
	taggedPfx      = "Successfully tagged "
)

// progress is the sink of one build's log. buildah reports steps through
// BuildOptions.Log (FROM, each instruction, COMMIT) and everything else on
// its Out and Err writers: RUN output, "--> Using cache <id>" when a step is
// a cache hit, "--> <id>" after each step, "Successfully tagged <name>".
// progress turns that into cirun's lines ("app  #2 COPY . /src CACHED"),
// counts steps and cache hits, and keeps the running step's output tail for
// errors. It is safe for concurrent use.
type progress struct {
	service string
	mode    string
	w       io.Writer
	now     func() time.Time
	file    string
	debugf  func(format string, args ...any)

	mu     sync.Mutex
	instrs []instr
	pos    int
	steps  []*step
	cur    *step
	tail   []string
	names  []string
	// cachePushes counts the layer-cache images pushed to a registry.
	cachePushes int
}

func newProgress(service, mode string, w io.Writer, file string, instrs []instr) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{service: service, mode: mode, w: w, now: time.Now, file: file, instrs: instrs, debugf: func(string, ...any) {}}
}

// logf is BuildOptions.Log.
func (p *progress) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case msg == "COMMIT" || strings.HasPrefix(msg, "COMMIT "):
		return
	case strings.HasPrefix(msg, "FROM "):
		p.endStep()
		p.debugf("%s: %s", p.service, msg)
		p.match(msg, true)
		if p.mode != "quiet" {
			p.printf("%s", oneLine(msg))
		}
	default:
		p.endStep()
		p.cur = &step{num: len(p.steps) + 1, text: msg, line: p.match(msg, false), start: p.now()}
		p.steps = append(p.steps, p.cur)
		p.tail = p.tail[:0]
	}
}

// match finds the next instruction logged as text and returns its line.
func (p *progress) match(text string, from bool) int {
	for i := p.pos; i < len(p.instrs); i++ {
		in := p.instrs[i]
		if in.from == from && (from || in.text == text) {
			p.pos = i + 1
			return in.line
		}
	}
	return 0
}

// endStep closes the running step and prints its line. Callers hold mu.
func (p *progress) endStep() {
	s := p.cur
	if s == nil {
		return
	}
	p.cur = nil
	s.dur = p.now().Sub(s.start)
	p.debugf("%s: step #%d took %s (cached: %v)", p.service, s.num, s.dur, s.cached)
	if p.mode == "quiet" {
		return
	}
	switch {
	case s.cached && s.remote:
		p.printf("#%d %s CACHED (registry, %s)", s.num, oneLine(s.text), seconds(s.dur))
	case s.cached:
		p.printf("#%d %s CACHED", s.num, oneLine(s.text))
	default:
		p.printf("#%d %s %s", s.num, oneLine(s.text), seconds(s.dur))
	}
}

// line handles one complete line of buildah's Out or Err stream.
func (p *progress) line(l string) {
	l = strings.TrimSuffix(l, "\r")
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case strings.HasPrefix(l, cacheHitPfx):
		if p.cur != nil {
			p.cur.cached = true
		}
		return
	case strings.HasPrefix(l, cachePulledPfx):
		if p.cur != nil {
			p.cur.remote = true
		}
		return
	case strings.HasPrefix(l, cachePushPfx):
		p.cachePushes++
		return
	case imageIDLine().MatchString(l):
		return
	case strings.HasPrefix(l, taggedPfx):
		p.names = append(p.names, strings.TrimPrefix(l, taggedPfx))
		return
	}
	if len(p.tail) == tailLines {
		copy(p.tail, p.tail[1:])
		p.tail = p.tail[:tailLines-1]
	}
	p.tail = append(p.tail, l)
	if p.mode != "plain" && p.mode != "" {
		return
	}
	if p.cur != nil {
		p.printf("#%d | %s", p.cur.num, l)
	} else {
		p.printf("| %s", l)
	}
}

// printf writes one prefixed line in a single Write, so that lines of
// builds running in parallel on the same writer never interleave.
func (p *progress) printf(format string, args ...any) {
	fmt.Fprintf(p.w, p.service+"  "+format+"\n", args...)
}

// writer returns a writer feeding p line by line; use one per stream.
func (p *progress) writer() *lineWriter { return &lineWriter{p: p} }

// done ends the last step of a successful build.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.endStep()
}

// fail ends the build with err, attributing it to the running step (with
// the step's Dockerfile line and output tail) when buildah failed in one.
// canceled says the build's context was canceled.
func (p *progress) fail(err error, canceled bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.cur
	p.cur = nil
	msg := err.Error()
	wrapped := strings.HasPrefix(msg, "building at STEP") || strings.HasPrefix(msg, "committing container for step")
	inStep := wrapped || strings.HasPrefix(msg, "failed pushing cache")
	if s == nil || !inStep {
		return fmt.Errorf("building %s: %w", p.service, err)
	}
	s.dur = p.now().Sub(s.start)
	if p.mode != "quiet" {
		verdict := "ERROR"
		if canceled {
			verdict = "CANCELED"
		}
		p.printf("#%d %s %s after %s", s.num, oneLine(s.text), verdict, seconds(s.dur))
	}
	// Both prefixes wrap the cause with %w; the outer text repeats the step
	// (or dumps it with %+v), which StepError already says.
	inner := err
	if u := errors.Unwrap(err); u != nil && wrapped {
		inner = u
	}
	return &imagebuild.StepError{
		Service:     p.service,
		Step:        s.num,
		Instruction: oneLine(s.text),
		File:        p.file,
		Line:        s.line,
		Output:      append([]string(nil), p.tail...),
		Err:         inner,
	}
}

// counts returns the number of steps and of cache hits so far.
func (p *progress) counts() (steps, cached int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.steps {
		if s.cached {
			cached++
		}
	}
	return len(p.steps), cached
}

// summary prints the build's last line.
func (p *progress) summary(name string, r imagebuild.Result) {
	if p.mode == "quiet" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	id := strings.TrimPrefix(r.ImageID, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	if name == "" {
		name = "image"
	}
	p.printf("built %s sha256:%s in %s: %d steps, %d cached, %s",
		name, id, seconds(r.Duration), r.Steps, r.CacheHits, megabytes(r.Size))
}

// pushed reports the built image pushed to a registry.
func (p *progress) pushed(ref, digest string, d time.Duration) {
	if p.mode == "quiet" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printf("pushed %s@%s in %s", ref, digest, seconds(d))
}

// lineWriter splits one stream into lines for progress.
type lineWriter struct {
	p   *progress
	mu  sync.Mutex
	buf []byte
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.p.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxPartial {
		w.p.line(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(b), nil
}

// flush hands over a last line without newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.p.line(string(w.buf))
		w.buf = w.buf[:0]
	}
}

// oneLine shortens an instruction for a progress line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	const max = 80
	if r := []rune(s); len(r) > max {
		s = string(r[:max-3]) + "..."
	}
	return s
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func megabytes(n int64) string {
	switch {
	case n >= 10e6:
		return fmt.Sprintf("%d MB", (n+5e5)/1e6)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	default:
		return fmt.Sprintf("%d kB", (n+500)/1000)
	}
}
