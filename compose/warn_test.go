package compose

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
)

func TestWarnFormatter(t *testing.T) {
	e := &logrus.Entry{
		Level:   logrus.WarnLevel,
		Time:    start.Add(3500 * time.Millisecond),
		Message: `The "FOO" variable is not set. Defaulting to a blank string.`,
	}
	b, err := warnFormatter{}.Format(e)
	if err != nil {
		t.Fatal(err)
	}
	want := "WARN[0003] The \"FOO\" variable is not set. Defaulting to a blank string.\n"
	if string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
	e.Level, e.Data = logrus.ErrorLevel, logrus.Fields{"b": 2, "a": 1}
	b, _ = warnFormatter{}.Format(e)
	if want := "ERRO[0003] The \"FOO\" variable is not set. Defaulting to a blank string. a=1 b=2\n"; string(b) != want {
		t.Errorf("got %q, want %q", b, want)
	}
}

func TestConcurrentLoadsKeepWarningsApart(t *testing.T) {
	file := testdata(t, "interpolation", "compose.yaml")
	const n = 8
	warns := make([]strings.Builder, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		environ := []string{"SET=1"}
		if i%2 == 0 {
			environ = append(environ, fmt.Sprintf("UNSET_VAR=%d", i))
		}
		go func() {
			defer wg.Done()
			_, err := Load(context.Background(), Options{Files: []string{file}, Environ: environ, Warn: &warns[i]})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range n {
		got := warns[i].String()
		want := 1 // the UNSET_VAR warning
		if i%2 == 0 {
			want = 0 // UNSET_VAR is set for these loads
		}
		if strings.Count(got, "\n") != want || (want == 1 && !strings.Contains(got, `"UNSET_VAR"`)) {
			t.Errorf("load %d: warnings %q, want %d line(s)", i, got, want)
		}
	}
}
