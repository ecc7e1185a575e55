package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/runner"
)

func TestTTYDisplayRedrawsItsBlockAndEndsItOnOtherOutput(t *testing.T) {
	var term bytes.Buffer
	d := newTTYDisplay(&term)
	d.width = func() int { return 40 }
	at := time.Unix(1_700_000_000, 0)
	d.event(runner.Event{Kind: "Container", Name: "p-db-1", Status: "Starting", Time: at})
	d.event(runner.Event{Kind: "Container", Name: "p-db-1", Status: "Started", Time: at.Add(300 * time.Millisecond)})
	want := "\033[2K[+] Running 0/1\n\033[2K ⠿ Container p-db-1  Starting\n" +
		"\033[2F\033[2K[+] Running 1/1\n\033[2K ✔ Container p-db-1  Started  0.3s\n"
	if term.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", term.String(), want)
	}
	term.Reset()
	_, _ = d.writer(&term).Write([]byte("Attaching to db-1\n"))
	d.event(runner.Event{Kind: "Container", Name: "p-db-1-with-a-very-long-name", Status: "Stopping", Time: at})
	got := term.String()
	if strings.Contains(got, "\033[2F") || !strings.HasPrefix(got, "Attaching to db-1\n\033[2K[+] Running 0/1\n") {
		t.Errorf("a new block must start below the other output:\n%q", got)
	}
	if !strings.Contains(got, " ⠿ Container p-db-1-with-a-very-long-na\n") {
		t.Errorf("line not cut at the terminal's width:\n%q", got)
	}
}
