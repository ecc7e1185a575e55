package podman

import (
	"bytes"
	"testing"
)

// Podman stamps every log frame, the continuation of a partial line too;
// the joined line keeps its first timestamp only.
func TestLineWriterJoinsStampedPartialLines(t *testing.T) {
	var out bytes.Buffer
	w := newLineWriter(&out)
	w.stamped = true
	for _, frame := range []string{
		"2026-12-05T19:38:17.100000000Z This",
		"2026-12-05T19:38:17.200000000Z  is line 489\n",
		"2026-12-05T19:38:17.300000000Z next\n",
	} {
		if _, err := w.Write([]byte(frame)); err != nil {
			t.Fatal(err)
		}
	}
	want := "2026-12-05T19:38:17.100000000Z This is line 489\n2026-12-05T19:38:17.300000000Z next\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}
