package compose

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// compose-go logs its warnings (unset variables, obsolete `version`, several
// candidate files...) through logrus's global logger. Load redirects that
// logger to Options.Warn for its duration and restores it afterwards:
//
//   - loads are serialized by logMu, so concurrent Loads never mix warnings;
//   - the logger's output, formatter and level are saved and restored, so the
//     rest of the process keeps its own logging setup;
//   - the level is raised to at least Warn during a load, so warnings are
//     never lost to a quieter global level (and lowered back after);
//   - the one leak: another goroutine logging through logrus's global logger
//     *during* a load (a few milliseconds) has its line written to
//     Options.Warn in this format. cirun loads the model before starting
//     anything else, so this does not happen in practice.
var logMu sync.Mutex

// start is the reference of the [0000] seconds counter, like logrus's.
var start = time.Now()

// captureWarnings points logrus's global logger at w (nil discards) and
// returns the function that restores it.
func captureWarnings(w io.Writer) (restore func()) {
	logMu.Lock()
	l := logrus.StandardLogger()
	out, formatter, level := l.Out, l.Formatter, l.GetLevel()
	if w == nil {
		w = io.Discard
	}
	l.SetOutput(w)
	l.SetFormatter(warnFormatter{})
	if level < logrus.WarnLevel {
		l.SetLevel(logrus.WarnLevel)
	}
	return func() {
		l.SetOutput(out)
		l.SetFormatter(formatter)
		l.SetLevel(level)
		logMu.Unlock()
	}
}

// warnFormatter formats a log entry as docker compose prints it on a
// terminal, without colours: "WARN[0000] message".
type warnFormatter struct{}

// Format implements logrus.Formatter.
func (warnFormatter) Format(e *logrus.Entry) ([]byte, error) {
	level := strings.ToUpper(e.Level.String())
	if len(level) > 4 {
		level = level[:4]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s[%04d] %s", level, int(e.Time.Sub(start)/time.Second), strings.TrimRight(e.Message, "\n"))
	keys := make([]string, 0, len(e.Data))
	for k := range e.Data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%v", k, e.Data[k])
	}
	b.WriteByte('\n')
	return []byte(b.String()), nil
}
