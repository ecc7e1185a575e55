package compose

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// Check rejects the first key of p that cirun does not implement: any
// non-empty field of the enabled services or of the top-level elements
// whose path the Supported table does not cover, or whose value a row
// restricts. x-* extensions are kept and never rejected. The error is an
// *Error "FILE: services.SVC.KEY: not supported by cirun yet", FILE being
// the compose file that declares the key (read again from disk; Load passes
// the content it read instead).
//
// Only what the user wrote is rejected: fields compose-go fills in by itself
// (the default network, build.dockerfile, depends_on's condition and
// required, a port's mode and protocol...) are all within Supported, and
// fields its zero value means "unset" for are skipped. Disabled services
// (inactive profiles) are not checked: cirun never runs them.
func Check(p *types.Project) error {
	var src []source
	for _, f := range p.ComposeFiles {
		if f == "-" {
			src = append(src, source{name: f})
			continue
		}
		b, _ := os.ReadFile(f) // only used to name the file in the error
		src = append(src, source{name: f, content: b})
	}
	if err := check(p, src); err != nil {
		return err
	}
	return nil
}

// check is Check with the compose files' content at hand.
func check(p *types.Project, src []source) *Error {
	f := compileTable(Supported).walk(reflect.ValueOf(p).Elem(), nil)
	if f == nil {
		return checkConflicts(p, src)
	}
	dotted := display(f.path)
	service, key := splitPath(dotted)
	msg := MsgUnsupported
	if f.allowed != nil {
		msg = fmt.Sprintf("%q %s (supported: %s)", f.value, MsgUnsupported, strings.Join(f.allowed, ", "))
	}
	return &Error{File: locate(src, dotted, true), Service: service, Key: key, Msg: msg}
}

// checkConflicts rejects supported keys that cannot go together (see
// JoinedNetworkConflict), and init with a shared PID namespace (Podman:
// "cannot add init binary as PID 1").
func checkConflicts(p *types.Project, src []source) *Error {
	for _, name := range ServiceNames(p) {
		s := p.Services[name]
		if key := JoinedNetworkConflict(s); key != "" {
			return &Error{File: locate(src, "services."+name+"."+key, true), Service: name, Key: key,
				Msg: fmt.Sprintf("cannot be set with network_mode %q: the network namespace is the other container's", s.NetworkMode)}
		}
		if s.Init != nil && *s.Init && s.Pid != "" && s.Pid != "private" {
			return &Error{File: locate(src, "services."+name+".init", true), Service: name, Key: "init",
				Msg: fmt.Sprintf("cannot be set with pid %q: Podman runs its init only as PID 1 of a private PID namespace", s.Pid)}
		}
	}
	return nil
}

// JoinedNetworkConflict names the first key a service that joins another
// container's network namespace (network_mode service:NAME or
// container:NAME) sets although it belongs to that namespace: hostname,
// ports, expose, extra_hosts, dns*, mac_address. Docker refuses these;
// Podman ignores some silently. "" when there is none.
func JoinedNetworkConflict(s types.ServiceConfig) string {
	nm := s.NetworkMode
	if !strings.HasPrefix(nm, types.ServicePrefix) && !strings.HasPrefix(nm, types.ContainerPrefix) {
		return ""
	}
	for _, c := range []struct {
		key string
		set bool
	}{
		{"hostname", s.Hostname != ""},
		{"ports", len(s.Ports) > 0},
		{"expose", len(s.Expose) > 0},
		{"extra_hosts", len(s.ExtraHosts) > 0},
		{"dns", len(s.DNS) > 0},
		{"dns_search", len(s.DNSSearch) > 0},
		{"dns_opt", len(s.DNSOpts) > 0},
		{"mac_address", s.MacAddress != ""},
	} {
		if c.set {
			return c.key
		}
	}
	return ""
}

// finding is an unsupported key: its path, and for a key whose values a row
// restricts, the value found and the values allowed.
type finding struct {
	path    []string
	value   string
	allowed []string
}

// row is a compiled Support row.
type row struct {
	path   []string
	values []string
}

type table []row

func compileTable(rows []Support) table {
	t := make(table, 0, len(rows))
	for _, r := range rows {
		t = append(t, row{path: strings.Split(r.Path, "."), values: r.Values})
	}
	return t
}

// componentMatches reports whether one path component matches a pattern
// component: "*" any map key, "[]" any list index.
func componentMatches(pattern, c string) bool {
	isIndex := strings.HasPrefix(c, "[")
	switch pattern {
	case "[]":
		return isIndex
	case "*":
		return !isIndex
	}
	return pattern == c
}

func prefixMatches(pattern, path []string) bool {
	for i := range pattern {
		if !componentMatches(pattern[i], path[i]) {
			return false
		}
	}
	return true
}

// lookup classifies path: covered by a row (the row returned; exact when
// the row's path is path itself), or partial (a row lies deeper: descend),
// or neither.
func (t table) lookup(path []string) (r *row, exact, covered, partial bool) {
	for i := range t {
		rp := t[i].path
		if len(rp) <= len(path) && prefixMatches(rp, path[:len(rp)]) {
			return &t[i], len(rp) == len(path), true, false
		}
		if len(rp) > len(path) && prefixMatches(rp[:len(path)], path) {
			partial = true
		}
	}
	return nil, false, false, partial
}

var extensionsType = reflect.TypeOf(types.Extensions{})

// isZero reports whether v is unset. Types with an IsZero method (OptOut,
// whose zero is true) decide for themselves, as in yaml's omitempty.
func isZero(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface || v.Kind() == reflect.Map || v.Kind() == reflect.Slice) && v.IsNil() {
		return true
	}
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	if (v.Kind() == reflect.Map || v.Kind() == reflect.Slice) && v.Len() == 0 {
		return true
	}
	return v.IsZero()
}

// walk returns the first unsupported key under v, nil when all is supported.
func (t table) walk(v reflect.Value, path []string) *finding {
	if isZero(v) {
		return nil
	}
	if len(path) > 0 {
		r, exact, covered, partial := t.lookup(path)
		switch {
		case covered:
			if exact && len(r.values) > 0 {
				if s, isString := scalar(v); isString && !valueAllowed(r.values, s) {
					return &finding{path: path, value: s, allowed: r.values}
				}
			}
			return nil
		case !partial:
			return &finding{path: path}
		}
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		return t.walkStruct(v, path)
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			if f := t.walk(v.MapIndex(k), appendPath(path, fmt.Sprint(k))); f != nil {
				return f
			}
		}
		return nil
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if f := t.walk(v.Index(i), appendPath(path, "["+strconv.Itoa(i)+"]")); f != nil {
				return f
			}
		}
		return nil
	}
	// a scalar where the table only supports some children
	return &finding{path: path}
}

func (t table) walkStruct(v reflect.Value, path []string) *finding {
	for i := 0; i < v.NumField(); i++ {
		field := v.Type().Field(i)
		if !field.IsExported() || field.Type == extensionsType {
			continue // x-* extensions are kept as they are
		}
		name, inline := yamlName(field)
		switch {
		case name == "-":
			continue
		case inline:
			if f := t.walkStruct(v.Field(i), path); f != nil {
				return f
			}
		default:
			if f := t.walk(v.Field(i), appendPath(path, name)); f != nil {
				return f
			}
		}
	}
	return nil
}

// yamlName is a field's yaml key, and whether it is inlined.
func yamlName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("yaml")
	name, opts, _ := strings.Cut(tag, ",")
	inline := slices.Contains(strings.Split(opts, ","), "inline")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name, inline && f.Type.Kind() == reflect.Struct
}

func appendPath(path []string, c string) []string {
	return append(slices.Clip(path), c)
}

// valueAllowed reports whether s is one of values; a value ending in "*"
// allows any string with that prefix ("service:*").
func valueAllowed(values []string, s string) bool {
	for _, v := range values {
		if prefix, glob := strings.CutSuffix(v, "*"); glob && strings.HasPrefix(s, prefix) || v == s {
			return true
		}
	}
	return false
}

// scalar returns v as a string when it is one.
func scalar(v reflect.Value) (string, bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	if v.Kind() == reflect.String {
		return v.String(), true
	}
	return "", false
}

// display joins path components into "services.app.volumes[0].type".
func display(path []string) string {
	s := ""
	for _, c := range path {
		s = joinKey(s, c)
	}
	return s
}

// locate returns the compose file that declares the dotted key path: the
// one holding the longest prefix of it (up to its first list index), the
// last such file when last is set (an override wins), the first otherwise.
// It falls back to the first file when none matches (the key came from an
// extended or included file, or from compose-go itself).
func locate(src []source, dotted string, last bool) string {
	if len(src) == 0 {
		return ""
	}
	keys := strings.Split(dotted, ".")
	for i, k := range keys {
		if j := strings.Index(k, "["); j >= 0 {
			keys = append(keys[:i], k[:j])
			break
		}
	}
	best, bestDepth := src[0].name, 0
	for _, s := range src {
		d := depth(s.content, keys)
		if d > bestDepth || (last && d == bestDepth && d > 0) {
			best, bestDepth = s.name, d
		}
	}
	return displayName(best)
}

// depth is how many leading keys of keys content declares (over all its
// YAML documents).
func depth(content []byte, keys []string) int {
	max := 0
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) || err != nil {
			return max
		}
		d := 0
		node := doc
		for _, k := range keys {
			m, ok := node.(map[string]any)
			if !ok {
				break
			}
			next, found := m[k]
			if !found {
				break
			}
			d++
			node = next
		}
		if d > max {
			max = d
		}
	}
}
