package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
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

// takesValue reports whether a flag is given a value (`-t 0`), as opposed
// to a boolean switch.
func takesValue(f cli.Flag) bool {
	if tv, ok := f.(interface{ TakesValue() bool }); ok {
		return tv.TakesValue()
	}
	return false
}

// shortFlags maps the one-letter names of flags to whether they take a
// value.
func shortFlags(flags []cli.Flag) map[byte]bool {
	m := map[byte]bool{}
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) == 1 {
				m[n[0]] = takesValue(f)
			}
		}
	}
	return m
}

// longValueFlags are the long names of flags that take a value.
func longValueFlags(flags []cli.Flag) map[string]bool {
	m := map[string]bool{}
	for _, f := range flags {
		for _, n := range f.Names() {
			if len(n) > 1 && takesValue(f) {
				m[n] = true
			}
		}
	}
	return m
}

// posixShorts rewrites short flags the way docker's (pflag's) parser reads
// them and urfave's does not: a value attached to its flag (`-t0`,
// `-eKEY=V`) and switches grouped together (`rm -fsv`). A flag given under
// two of its names (`-p 80 --publish 81`, which pflag takes and urfave
// refuses: "Cannot use two forms of the same flag") is spelled the first
// way throughout, so repeatable flags keep every value. It rewrites the
// global flags and the command's own, up to the command's first argument
// (after it come the arguments of `run`/`exec`'s command). It also returns
// the command's name ("" when there is none or it is unknown).
func posixShorts(app *cli.App, args []string) (_ []string, command string) {
	if len(args) == 0 {
		return args, ""
	}
	out := []string{args[0]}
	flags := app.Flags
	spell := spelling(flags)
	inCommand := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(out, args[i:]...), command
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			if hasValue {
				out = append(out, spell(name)+"="+value)
				continue
			}
			out = append(out, spell(name))
			if longValueFlags(flags)[name] && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		case len(a) > 1 && a[0] == '-':
			split, needsNext := splitShorts(a, shortFlags(flags), spell)
			out = append(out, split...)
			if needsNext && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		// A positional argument: the command's name, then its arguments.
		if inCommand {
			return append(out, args[i:]...), command
		}
		cmd := app.Command(a)
		if cmd == nil {
			return append(out, args[i:]...), ""
		}
		out = append(out, a)
		flags, inCommand, command = cmd.Flags, true, cmd.Name
		spell = spelling(flags)
	}
	return out, command
}

// spelling returns a function that turns a flag's name, as given, into
// the argument to pass on: "-x" or "--name", or, when the same flag was
// already given under another of its names, that first name. Unknown
// names are passed on as they are.
func spelling(flags []cli.Flag) func(name string) string {
	byName := map[string]cli.Flag{}
	for _, f := range flags {
		for _, n := range f.Names() {
			byName[n] = f
		}
	}
	first := map[cli.Flag]string{}
	return func(name string) string {
		if f, ok := byName[name]; ok {
			if prev, seen := first[f]; seen {
				name = prev
			} else {
				first[f] = name
			}
		}
		if len(name) == 1 {
			return "-" + name
		}
		return "--" + name
	}
}

// splitShorts splits one "-abc" argument given the short flags (letter ->
// takes a value), each letter spelled by spell. needsNext is true when the
// last flag's value is the next argument. An argument with an unknown
// letter is returned as it is.
func splitShorts(a string, shorts map[byte]bool, spell func(string) string) (split []string, needsNext bool) {
	for j := 1; j < len(a); j++ {
		value, known := shorts[a[j]]
		if !known {
			return []string{a}, false
		}
		split = append(split, spell(string(a[j])))
		if value {
			if rest := a[j+1:]; rest != "" {
				return append(split, strings.TrimPrefix(rest, "=")), false
			}
			return split, true
		}
	}
	return split, false
}
