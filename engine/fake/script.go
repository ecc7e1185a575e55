package fake

import (
	"path"
	"strconv"
	"strings"
)

// outLine is one line of output a fake process wrote.
type outLine struct {
	stderr bool
	text   string // without the trailing newline
}

// outcome is what interpreting a command gave.
type outcome struct {
	code int
	// blocked: the script reached a command the fake does not model (sleep,
	// a daemon, ...). At container start that means "keeps running"; in an
	// exec or a health check the command counts as succeeded.
	blocked bool
	out     []outLine
}

// interpret runs argv through the fake's tiny shell. Inside a container
// (service=true) an unmodelled command blocks; in an exec or health check
// (service=false) it succeeds with exit code 0 and interpretation goes on.
func interpret(argv []string, service bool) outcome {
	if len(argv) == 0 {
		// No command: an image default, e.g. a daemon. It keeps running.
		return outcome{blocked: service}
	}
	var toks []string
	if len(argv) >= 3 && isShell(argv[0]) && argv[1] == "-c" {
		toks = tokenize(argv[2])
	} else {
		toks = append([]string(nil), argv...)
	}
	var res outcome
	last := 0
	skip := false
	for len(toks) > 0 {
		// Cut one simple command off the token list.
		i := 0
		for i < len(toks) && !isOperator(toks[i]) {
			i++
		}
		words, op := toks[:i], ""
		if i < len(toks) {
			op = toks[i]
			toks = toks[i+1:]
		} else {
			toks = nil
		}
		if !skip && len(words) > 0 {
			code, exit, block := runSimple(words, last, &res)
			if block {
				if service {
					res.blocked = true
					res.code = 0
					return res
				}
				code = 0
			}
			last = code
			if exit {
				res.code = code
				return res
			}
		}
		switch op {
		case "&&":
			skip = last != 0
		case "||":
			skip = last == 0
		default:
			skip = false
		}
	}
	res.code = last
	return res
}

// runSimple runs one simple command. It returns the exit code, whether the
// script ends (exit), and whether the command is not modelled (block).
func runSimple(words []string, last int, res *outcome) (code int, exit, block bool) {
	for len(words) > 0 && (words[0] == "exec" || strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "=")) {
		words = words[1:] // "exec cmd" and "VAR=x cmd" run cmd
	}
	if len(words) == 0 {
		return last, false, false
	}
	stderr, discard := false, false
	var args []string
	rest := words[1:]
	for i := 0; i < len(rest); i++ {
		switch w := rest[i]; {
		case w == ">&2" || w == "1>&2":
			stderr = true
		case w == "2>&1" || strings.HasPrefix(w, "2>"):
		case w == ">" || w == ">>" || w == "1>":
			discard = true
			i++ // the file name
		case strings.HasPrefix(w, ">") || strings.HasPrefix(w, "1>"):
			discard = true
		default:
			args = append(args, w)
		}
	}
	switch path.Base(words[0]) {
	case "exit":
		if len(args) == 0 {
			return last, true, false
		}
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return 2, true, false
		}
		return n & 0xff, true, false
	case "true", ":":
		return 0, false, false
	case "false":
		return 1, false, false
	case "echo":
		newline := true
		if len(args) > 0 && args[0] == "-n" {
			newline = false
			args = args[1:]
		}
		text := strings.Join(args, " ")
		if !discard && (newline || text != "") {
			res.out = append(res.out, outLine{stderr: stderr, text: text})
		}
		return 0, false, false
	}
	return 0, false, true
}

func isShell(s string) bool {
	switch path.Base(s) {
	case "sh", "bash", "ash", "dash":
		return true
	}
	return false
}

func isOperator(t string) bool {
	return t == ";" || t == "&&" || t == "||" || t == "\n"
}

// tokenize splits a shell script into words and the operators ; && || and
// newline. Single and double quotes group words; nothing is expanded.
func tokenize(s string) []string {
	var toks []string
	var cur strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			toks = append(toks, cur.String())
			cur.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				j = len(s) - i - 1
			}
			cur.WriteString(s[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '\\' && i+1 < len(s):
			cur.WriteByte(s[i+1])
			inWord = true
			i++
		case c == ';' || c == '\n':
			flush()
			toks = append(toks, string(c))
		case (c == '&' || c == '|') && i+1 < len(s) && s[i+1] == c:
			flush()
			toks = append(toks, string([]byte{c, c}))
			i++
		case c == ' ' || c == '\t':
			flush()
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return toks
}
