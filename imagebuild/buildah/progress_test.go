package buildah

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/imagebuild"
)

const progressDockerfile = `FROM localhost/base AS build
ARG V=1
RUN make \
    all
FROM localhost/base
COPY --from=build /out /out
CMD ["run"]
`

// fakeClock advances one second each time it is read.
func fakeClock() func() time.Time {
	t := time.Unix(0, 0)
	return func() time.Time { t = t.Add(time.Second); return t }
}

func newTestProgress(t *testing.T, mode string, w io.Writer) *progress {
	t.Helper()
	instrs, err := parseInstructions(strings.NewReader(progressDockerfile))
	if err != nil {
		t.Fatal(err)
	}
	p := newProgress("app", mode, w, "Containerfile", instrs)
	p.now = fakeClock()
	return p
}

// feed replays a build log the way buildah produces it: step messages
// through Log, everything else through the Out writer.
func feed(p *progress, events ...string) {
	out := p.writer()
	for _, e := range events {
		if msg, ok := strings.CutPrefix(e, "LOG "); ok {
			p.logf("%s", msg)
		} else {
			fmt.Fprintf(out, "%s\n", e)
		}
	}
}

func TestProgressLines(t *testing.T) {
	var buf strings.Builder
	p := newTestProgress(t, "plain", &buf)
	feed(p,
		"LOG FROM localhost/base AS build",
		"LOG ARG V=1",
		"--> Using cache 1111111111111111111111111111111111111111111111111111111111111111",
		"--> 111111111111",
		"LOG RUN make     all",
		"compiling",
		"--> 222222222222",
		"LOG FROM localhost/base",
		"LOG COPY --from=build /out /out",
		"LOG CMD [\"run\"]",
		"LOG COMMIT localhost/app:latest",
		"Successfully tagged localhost/app:latest",
	)
	p.done()
	p.summary("localhost/app:latest", imagebuild.Result{ImageID: "abcdef0123456789", Steps: 4, CacheHits: 1, Duration: 4200 * time.Millisecond, Size: 120e6})
	want := `app  FROM localhost/base AS build
app  #1 ARG V=1 CACHED
app  #2 | compiling
app  #2 RUN make all 1.0s
app  FROM localhost/base
app  #3 COPY --from=build /out /out 1.0s
app  #4 CMD ["run"] 1.0s
app  built localhost/app:latest sha256:abcdef012345 in 4.2s: 4 steps, 1 cached, 120 MB
`
	if got := buf.String(); got != want {
		t.Errorf("progress:\n%s\nwant:\n%s", got, want)
	}
	if steps, cached := p.counts(); steps != 4 || cached != 1 {
		t.Errorf("counts = %d, %d; want 4, 1", steps, cached)
	}
	if len(p.names) != 1 || p.names[0] != "localhost/app:latest" {
		t.Errorf("names = %q", p.names)
	}
}

func TestProgressModes(t *testing.T) {
	events := []string{"LOG FROM localhost/base AS build", "LOG ARG V=1", "LOG RUN make     all", "compiling"}
	for mode, want := range map[string]string{
		"quiet": "",
		"tty":   "app  FROM localhost/base AS build\napp  #1 ARG V=1 1.0s\napp  #2 RUN make all 1.0s\n",
	} {
		var buf strings.Builder
		p := newTestProgress(t, mode, &buf)
		feed(p, events...)
		p.done()
		if buf.String() != want {
			t.Errorf("mode %s:\n%s\nwant:\n%s", mode, buf.String(), want)
		}
	}
}

func TestProgressStepError(t *testing.T) {
	var buf strings.Builder
	p := newTestProgress(t, "quiet", &buf)
	feed(p, "LOG FROM localhost/base AS build", "LOG ARG V=1", "LOG RUN make     all")
	for i := 0; i < tailLines+5; i++ {
		feed(p, fmt.Sprintf("line %d", i))
	}
	inner := errors.New("exit status 2")
	err := p.fail(fmt.Errorf("building at STEP \"RUN make all\": %w", inner), false)
	var se *imagebuild.StepError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a StepError", err)
	}
	if se.Step != 2 || se.Line != 3 || se.File != "Containerfile" || se.Instruction != "RUN make all" || se.Err != inner {
		t.Errorf("StepError = %+v", se)
	}
	if len(se.Output) != tailLines || se.Output[0] != "line 5" || se.Output[tailLines-1] != "line 24" {
		t.Errorf("output tail = %q", se.Output)
	}
	msg := err.Error()
	for _, want := range []string{"building app: step #2 RUN make all (Containerfile:3) failed: exit status 2", "  | line 24"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("quiet mode printed %q", buf.String())
	}
}

func TestProgressErrorOutsideStep(t *testing.T) {
	p := newTestProgress(t, "plain", io.Discard)
	feed(p, "LOG FROM localhost/base AS build")
	err := p.fail(errors.New("localhost/base: image not known"), false)
	var se *imagebuild.StepError
	if errors.As(err, &se) {
		t.Fatalf("error outside a step became a StepError: %v", err)
	}
	if err.Error() != "building app: localhost/base: image not known" {
		t.Errorf("error = %q", err)
	}
}

func TestLineWriterPartialLines(t *testing.T) {
	p := newTestProgress(t, "quiet", io.Discard)
	w := p.writer()
	fmt.Fprint(w, "a")
	fmt.Fprint(w, "b\r\nc")
	w.flush()
	if got := strings.Join(p.tail, ","); got != "ab,c" {
		t.Errorf("lines = %q", got)
	}
}

func TestOneLine(t *testing.T) {
	long := "RUN " + strings.Repeat("x", 100)
	if got := oneLine(long); len(got) != 80 || !strings.HasSuffix(got, "...") {
		t.Errorf("oneLine(long) = %q", got)
	}
	if got := oneLine("RUN a \\\n\t b"); got != "RUN a \\ b" {
		t.Errorf("oneLine = %q", got)
	}
}

func TestProgressCanceled(t *testing.T) {
	var buf strings.Builder
	p := newTestProgress(t, "tty", &buf)
	feed(p, "LOG FROM localhost/base AS build", "LOG ARG V=1")
	p.fail(errors.New("committing container for step {...}: context canceled"), true)
	if want := "app  #1 ARG V=1 CANCELED after 1.0s\n"; !strings.HasSuffix(buf.String(), want) {
		t.Errorf("progress:\n%s\nwant suffix %q", buf.String(), want)
	}
}
