package compose

import (
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"sync"
)

// Error is a problem with the compose model: a YAML syntax error, an invalid
// value, a reference to something undefined, a missing file or a key cirun
// does not implement. Its Error() is a single line naming the file (when one
// is known) and the problem; the CLI prints it as is and exits 1.
type Error struct {
	// File is the compose file (or env file) the problem is in; "" when the
	// problem is not tied to a file (a bad -p value, no compose file found).
	// Standard input is named StdinName.
	File string
	// Service is the service the problem is in, "" for top-level problems.
	Service string
	// Key is the key path of the problem: relative to the service when
	// Service is set ("build.ssh", "volumes[0].type"), from the top of the
	// file otherwise ("secrets", "networks.front.driver").
	Key string
	// Msg says what is wrong, without the file or the path.
	Msg string
	// Err is the underlying error, when there is one (nil for problems
	// cirun itself detects).
	Err error
	// schema marks a schema validation error: Error() then writes the path
	// and the message separated by a space, as docker compose does
	// ("services.web.image must be a string"), since CI logs and tests
	// grep that phrase.
	schema bool
	// pathInMsg marks a message that names the path itself (docker
	// compose's "invalid interpolation format for services.web.image"):
	// Error() then leaves the path out.
	pathInMsg bool
}

// StdinName is the name Error uses for a compose file read from standard input.
const StdinName = "<stdin>"

// MsgUnsupported is the Msg of an Error for a key cirun does not implement.
const MsgUnsupported = "not supported by cirun yet"

// Path is the full key path of the problem ("services.app.build.ssh"), or ""
// when the problem is not tied to a key.
func (e *Error) Path() string {
	switch {
	case e.Service != "" && e.Key != "":
		return joinKey("services."+e.Service, e.Key)
	case e.Service != "":
		return "services." + e.Service
	default:
		return e.Key
	}
}

// Error returns "FILE: PATH: MSG" on one line, leaving out the empty parts
// ("FILE: PATH MSG" for a schema error, in docker compose's words).
func (e *Error) Error() string {
	var parts []string
	if e.File != "" {
		parts = append(parts, e.File)
	}
	msg := e.Msg
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	switch p := e.Path(); {
	case e.pathInMsg:
	case p != "" && e.schema:
		msg = p + " " + msg
	case p != "":
		parts = append(parts, p)
	}
	parts = append(parts, msg)
	return oneLine(strings.Join(parts, ": "))
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// joinKey appends key to path, without a dot before a list index.
func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	if strings.HasPrefix(key, "[") {
		return path + key
	}
	return path + "." + key
}

// splitPath turns a dotted key path into an Error's Service and Key.
func splitPath(path string) (service, key string) {
	rest, ok := strings.CutPrefix(path, "services.")
	if !ok {
		return "", path
	}
	// the service name ends at the next dot or list index
	if i := strings.IndexAny(rest, ".["); i >= 0 {
		return rest[:i], strings.TrimPrefix(rest[i:], ".")
	}
	return rest, ""
}

var spaces = lazyRegexp(`\s*\n\s*`)

// oneLine folds a possibly multi-line message onto one line.
func oneLine(s string) string {
	return spaces().ReplaceAllString(strings.TrimSpace(s), " ")
}

// lazyRegexp compiles expr on first use: every cirun command links this
// package, few of them print a load error, and compiling at init would cost
// each of them start-up time.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// displayName is how an Error names a compose file.
func displayName(file string) string {
	if file == "-" {
		return StdinName
	}
	return file
}

// Patterns of the errors compose-go returns, most specific first. They are
// pinned by the tests: a compose-go upgrade that rewords one fails them.
var (
	reEnvFile        = lazyRegexp(`(?s)^couldn't (?:find|read) env file: (.+)$`)
	reEnvFileParse   = lazyRegexp(`(?s)^failed to read (.+?): (.*)$`)
	reComposeFileEnv = lazyRegexp(`(?s)^compose file "(.+?)" (set by COMPOSE_FILE environment variable) is invalid: (.*)$`)
	reParse          = lazyRegexp(`(?s)^failed to parse (.+?): (yaml: .*)$`)
	reValidate       = lazyRegexp(`(?s)^validating (.+?): (\S*) (.*)$`)
	reInterpolate    = lazyRegexp(`(?s)^error while interpolating (\S+): (.*)$`)
	reInterpFmt      = lazyRegexp(`(?s)^invalid interpolation format for (\S+?)\.?\n.*\n(.*)$`)
	reUndefDep       = lazyRegexp(`^service "([^"]+)" depends on undefined service "([^"]+)"`)
	reRefersTo       = lazyRegexp(`^service "([^"]+)" refers to undefined (network|volume|secret|config|build secret|model) (\S+?)(: .*)?$`)
	reService        = lazyRegexp(`^service "([^"]+)" (.*?)(: invalid compose project)?$`)
	reServicesKey    = lazyRegexp(`^services\.([^.: ]+)(?:\.(\S+?))?: (.*?)(: invalid compose project)?$`)
	reInvalidProj    = lazyRegexp(`: invalid compose project$`)
)

// loadError turns an error from compose-go, the file system or dotenv into an
// *Error naming the file. src gives the compose files and their content, to
// find which file holds a key the error names.
func loadError(err error, src []source) *Error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	msg := err.Error()
	first := ""
	if len(src) > 0 {
		first = displayName(src[0].name)
	}
	if strings.HasPrefix(msg, "invalid project name") {
		return &Error{Msg: msg, Err: err}
	}
	if reEnvFile().MatchString(msg) {
		// docker compose's words, which name the file: "couldn't find env
		// file: PATH"
		return &Error{Msg: oneLine(msg), Err: err}
	}
	if m := reEnvFileParse().FindStringSubmatch(msg); m != nil {
		return &Error{File: m[1], Msg: m[2], Err: err}
	}
	if m := reComposeFileEnv().FindStringSubmatch(msg); m != nil {
		detail := m[3]
		var pe *fs.PathError
		if errors.As(err, &pe) {
			detail = pe.Err.Error()
		}
		return &Error{File: m[1], Msg: fmt.Sprintf("%s (%s)", detail, m[2]), Err: err}
	}
	if m := reParse().FindStringSubmatch(msg); m != nil {
		return &Error{File: displayName(m[1]), Msg: m[2], Err: err}
	}
	if m := reValidate().FindStringSubmatch(msg); m != nil {
		path, msg := schemaMsg(m[2], m[3])
		service, key := splitPath(path)
		return &Error{File: displayName(m[1]), Service: service, Key: key, Msg: msg, Err: err, schema: true}
	}
	if m := reInterpolate().FindStringSubmatch(msg); m != nil {
		service, key := splitPath(m[1])
		return &Error{File: locate(src, m[1], false), Service: service, Key: key, Msg: m[2], Err: err}
	}
	if m := reInterpFmt().FindStringSubmatch(msg); m != nil {
		service, key := splitPath(m[1])
		return &Error{File: locate(src, m[1], false), Service: service, Key: key,
			Msg: oneLine(msg), Err: err, pathInMsg: true} // docker compose's words, on one line
	}
	if m := reUndefDep().FindStringSubmatch(msg); m != nil {
		path := "services." + m[1] + ".depends_on"
		return &Error{File: locate(src, path, true), Service: m[1], Key: "depends_on",
			Msg: m[0], Err: err} // docker compose's wording, which CI logs are grepped for
	}
	if m := reRefersTo().FindStringSubmatch(msg); m != nil {
		key := map[string]string{
			"network": "networks", "volume": "volumes", "secret": "secrets",
			"config": "configs", "build secret": "build.secrets", "model": "models",
		}[m[2]]
		return &Error{File: locate(src, "services."+m[1]+"."+key, true), Service: m[1], Key: key,
			Msg: fmt.Sprintf("service %q refers to undefined %s %s", m[1], m[2], m[3]), Err: err} // docker compose's wording
	}
	if m := reService().FindStringSubmatch(msg); m != nil {
		return &Error{File: locate(src, "services."+m[1], true), Service: m[1],
			Msg: fmt.Sprintf("service %q %s", m[1], m[2]), Err: err} // docker compose's wording
	}
	if m := reServicesKey().FindStringSubmatch(msg); m != nil {
		path := "services." + m[1]
		if m[2] != "" {
			path += "." + m[2]
		}
		return &Error{File: locate(src, path, true), Service: m[1], Key: m[2], Msg: m[3], Err: err}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &Error{File: pe.Path, Msg: pe.Err.Error(), Err: err}
	}
	return &Error{File: first, Msg: reInvalidProj().ReplaceAllString(msg, ""), Err: err}
}

// schemaMsg returns the key path and message of a schema error in docker
// compose's words. The validator reports a key the specification does not
// have as a "false schema" at that key; docker compose (v5.5.0) says
// "services.web additional properties 'foo' not allowed", at the parent.
func schemaMsg(path, m string) (string, string) {
	if m == "false schema" {
		parent, key := "", path
		if i := strings.LastIndex(path, "."); i >= 0 {
			parent, key = path[:i], path[i+1:]
		}
		if key != "" && !strings.ContainsAny(key, "[]") && strings.Trim(key, "0123456789") != "" {
			return parent, fmt.Sprintf("additional properties '%s' not allowed", key)
		}
		return path, "unknown key (not in the compose specification)"
	}
	return path, m
}
