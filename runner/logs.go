package runner

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
	buf    []byte
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
		_, err := io.WriteString(w.out, w.prefix+string(line))
		w.mu.Unlock()
		w.buf = w.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
	return len(b), nil
}

// Flush writes a last unterminated line.
func (w *prefixWriter) Flush() {
	if len(w.buf) > 0 {
		w.mu.Lock()
		fmt.Fprintf(w.out, "%s%s\n", w.prefix, w.buf)
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

// shortName is a container's name without the project: "db-1".
func shortName(c engine.Container) string {
	svc := c.Labels[engine.LabelService]
	num := c.Labels[engine.LabelContainerNumber]
	if svc == "" {
		return c.Name
	}
	if c.Labels[engine.LabelOneoff] == "True" {
		return strings.TrimPrefix(c.Name, c.Labels[engine.LabelProject]+"-")
	}
	return svc + "-" + num
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

// attach streams the targets' logs with prefixes until every container has
// exited or ctx ends (`up` without -d).
func (s *session) attach(ctx context.Context, runs map[string]*svcRun, targets []string) error {
	var cs []engine.Container
	var names []string
	for _, t := range targets {
		for _, c := range runs[t].containers {
			cs = append(cs, c)
			names = append(names, shortName(c))
		}
	}
	prefixes := logPrefixes(names)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func(c engine.Container) {
			defer wg.Done()
			w := &prefixWriter{mu: &mu, out: s.r.opts.Stdout, prefix: prefixes[shortName(c)]}
			lctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = s.r.eng.ContainerLogs(lctx, c.ID, engine.LogOptions{Follow: true}, w, w)
			}()
			code, err := s.r.eng.WaitContainer(ctx, c.ID)
			if err == nil {
				// the log stream ends by itself once the container exited
				select {
				case <-done:
				case <-time.After(2 * time.Second):
				}
			}
			cancel()
			<-done
			w.Flush()
			if err == nil {
				mu.Lock()
				fmt.Fprintf(s.r.opts.Stdout, "%s exited with code %d\n", shortName(c), code)
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	return nil
}
