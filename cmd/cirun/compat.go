package main

import (
	"fmt"
	"io"
	"strings"
)

// globalValueFlags are the global flags that take a value as the next
// argument.
var globalValueFlags = map[string]bool{
	"-f": true, "--file": true, "-p": true, "--project-name": true, "--project-directory": true,
	"--profile": true, "--env-file": true, "--progress": true, "--ansi": true, "--parallel": true, "--host": true,
}

// compatArgs converts, among the global flags (before the command), the
// docker-compose v1 spellings docker compose still accepts: `-v` and
// `--version` mean the `version` command, `-h` means `--help`, and
// `--verbose` is accepted and ignored (with a note when debug is set).
func compatArgs(args []string, debug bool, notes io.Writer) []string {
	if len(args) == 0 {
		return args
	}
	out := []string{args[0]}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--verbose":
			if debug {
				fmt.Fprintln(notes, "cirun: --verbose is accepted for docker-compose compatibility and ignored")
			}
			continue
		case a == "-v" || a == "--version":
			// The command replaces whatever follows, as `docker-compose
			// --version` prints the version only.
			return append(out, "version")
		case a == "-h":
			out = append(out, "--help")
			continue
		case globalValueFlags[a]:
			out = append(out, a)
			if i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		case strings.HasPrefix(a, "-") && a != "-" && a != "--":
			out = append(out, a) // a bool flag or --flag=value
			continue
		}
		// The command: the rest is its own.
		return append(out, args[i:]...)
	}
	return out
}
