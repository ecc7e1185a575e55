package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/cirun-dev/cirun/runner"
)

// scope is what a command on existing containers acts on, found as docker
// compose's projectOrName does: with -f, or without -p, the compose project
// is loaded (and the service names checked against it); with -p alone only
// the name is used, so the command works without a compose file.
func (e *env) scope(c *cli.Context, services []string) (runner.Scope, error) {
	sc := runner.Scope{Services: services}
	name := c.String("project-name")
	if name != "" && len(c.StringSlice("file")) == 0 {
		sc.Project = name
		return sc, nil
	}
	p, err := e.existingProject(c)
	if err != nil {
		if n := os.Getenv("COMPOSE_PROJECT_NAME"); n != "" {
			sc.Project = n
			return sc, nil
		}
		return sc, err
	}
	if err := runner.CheckServices(p, services); err != nil {
		return sc, err
	}
	sc.Project, sc.Compose = p.Name, p
	return sc, nil
}

// timeoutFlag is docker compose's -t/--timeout in seconds; unset means each
// container's own stop timeout.
func timeoutFlag() cli.Flag {
	return &cli.IntFlag{Name: "timeout", Aliases: []string{"t"}, Value: -1, Usage: "shutdown timeout in seconds (default: the service's stop_grace_period, 10 s)"}
}

func timeoutOf(c *cli.Context) *time.Duration {
	t := c.Int("timeout")
	if t < 0 {
		return nil
	}
	d := time.Duration(t) * time.Second
	return &d
}

// multi is a repeatable string flag whose values are never split on commas
// (urfave's StringSliceFlag splits "-e A=1,2").
type multi struct{ values []string }

// multiPrefix marks Serialize's form. After parsing, urfave copies a flag
// set under one name to its other names (-e to --env) by Set(Serialize()):
// one Value serves every name, so that copy must change nothing (with
// String() it appended all values joined as one more value).
const multiPrefix = "cirun-multi:::"

func (m *multi) Set(v string) error {
	if rest, ok := strings.CutPrefix(v, multiPrefix); ok {
		return json.Unmarshal([]byte(rest), &m.values)
	}
	m.values = append(m.values, v)
	return nil
}

func (m *multi) String() string { return strings.Join(m.values, " ") }

// Serialize implements cli.Serializer.
func (m *multi) Serialize() string {
	b, _ := json.Marshal(m.values)
	return multiPrefix + string(b)
}

// multiOf returns the values of a multi flag.
func multiOf(c *cli.Context, name string) []string {
	if m, ok := c.Generic(name).(*multi); ok && m != nil {
		return m.values
	}
	return nil
}

// resolveEnv turns `-e KEY` into KEY=VALUE from lookup, dropping unset
// keys, as docker compose does; KEY=VALUE is kept as is.
func resolveEnv(vals []string, lookup func(string) (string, bool)) []string {
	var out []string
	for _, v := range vals {
		if strings.Contains(v, "=") {
			out = append(out, v)
			continue
		}
		if val, ok := lookup(v); ok {
			out = append(out, v+"="+val)
		}
	}
	return out
}

// isTerminal reports whether f (an *os.File) is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(file.Fd()), unix.TCGETS)
	return err == nil
}

// rawTerminal puts the terminal f in raw mode and returns the restore
// function (a no-op when f is not a terminal).
func rawTerminal(f any) func() {
	file, ok := f.(*os.File)
	if !ok {
		return func() {}
	}
	fd := int(file.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return func() {}
	}
	return func() { _ = unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}

// confirm asks msg on stdout and reads y/N from stdin (EOF: no).
func confirm(in io.Reader, out io.Writer) func(string) (bool, error) {
	return func(msg string) (bool, error) {
		fmt.Fprintf(out, "%s [y/N]? ", msg)
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(out)
			return false, nil
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return true, nil
		}
		return false, nil
	}
}
