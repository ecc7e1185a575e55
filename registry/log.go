package registry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// distribution logs through a logrus entry it looks up in the request
// context under an unexported key of its internal dcontext package, and
// falls back to the global logrus logger, which it uses to report every 404
// at error level. Serving each request with a context that answers that key
// with a private entry keeps distribution's logging away from the global
// logger without touching global state. TestNotFoundIsQuiet guards this
// against changes in distribution.
const (
	dcontextPkg       = "github.com/distribution/distribution/v3/internal/dcontext"
	dcontextLoggerKey = "loggerKey"
)

func isLoggerKey(key any) bool {
	t := reflect.TypeOf(key)
	return t != nil && t.Name() == dcontextLoggerKey && t.PkgPath() == dcontextPkg
}

// loggerContext answers distribution's logger key with a fixed entry.
type loggerContext struct {
	context.Context
	entry *logrus.Entry
}

func (c loggerContext) Value(key any) any {
	if isLoggerKey(key) {
		return c.entry
	}
	return c.Context.Value(key)
}

func withLogger(ctx context.Context, entry *logrus.Entry) context.Context {
	return loggerContext{Context: ctx, entry: entry}
}

// withRequestLogger serves next with entry as distribution's logger.
func withRequestLogger(next http.Handler, entry *logrus.Entry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(withLogger(r.Context(), entry)))
	})
}

// logSink is the private logrus logger distribution logs into. Entries tied
// to a request are dropped (the access log reports the request, with the
// error body for server errors); warnings and errors outside requests are
// written to out on one line each.
type logSink struct {
	entry *logrus.Entry
}

func newLogSink(out io.Writer) *logSink {
	if out == nil {
		out = io.Discard
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	l.SetLevel(logrus.WarnLevel)
	l.AddHook(&lineHook{out: out})
	return &logSink{entry: logrus.NewEntry(l)}
}

type lineHook struct {
	mu  sync.Mutex
	out io.Writer
}

func (h *lineHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (h *lineHook) Fire(e *logrus.Entry) error {
	if _, ok := e.Data["http.request.id"]; ok {
		return nil
	}
	msg := e.Message
	if err, ok := e.Data[logrus.ErrorKey]; ok {
		msg = fmt.Sprintf("%s: %v", msg, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := fmt.Fprintf(h.out, "registry: %s: %s\n", e.Level, oneLine(msg))
	return err
}

// maxErrorBody bounds how much of a server error's body goes into its log line.
const maxErrorBody = 512

// accessLog writes one line per request to out (only server errors when
// quiet), including the start of the response body for 5xx responses.
func accessLog(out io.Writer, quiet bool, next http.Handler) http.Handler {
	var mu sync.Mutex
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if quiet && rec.status < 500 {
			return
		}
		line := fmt.Sprintf("registry: %s %s %d %dB %s", r.Method, r.URL.RequestURI(), rec.status, rec.written,
			time.Since(start).Round(10*time.Microsecond))
		if rec.status >= 500 && rec.body.Len() > 0 {
			line += " " + oneLine(rec.body.String())
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = io.WriteString(out, line+"\n")
	})
}

// recorder captures a response's status, size and, for server errors, the
// start of its body.
type recorder struct {
	http.ResponseWriter
	status      int
	written     int64
	wroteHeader bool
	body        bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status = code
		r.wroteHeader = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	if r.status >= 500 && r.body.Len() < maxErrorBody {
		r.body.Write(p[:min(len(p), maxErrorBody-r.body.Len())])
	}
	n, err := r.ResponseWriter.Write(p)
	r.written += int64(n)
	return n, err
}

// ReadFrom keeps io.Copy's fast path (sendfile) for blob downloads.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	r.wroteHeader = true
	if r.status >= 500 {
		return io.Copy(writerOnly{r}, src)
	}
	rf, ok := r.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{r}, src)
	}
	n, err := rf.ReadFrom(src)
	r.written += n
	return n, err
}

// Flush forwards to the underlying writer when it supports flushing.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// writerOnly hides ReadFrom so io.Copy does not recurse into it.
type writerOnly struct{ io.Writer }

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
