package compose

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad feeds random bytes to Load as a compose file on stdin: it must
// return a project or a one-line *Error, never panic. Run it with
// go test ./compose -run '^$' -fuzz FuzzLoad -fuzztime 60s
func FuzzLoad(f *testing.F) {
	// every fixture is a seed
	_ = filepath.WalkDir("testdata", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b)
			}
		}
		return nil
	})
	for _, s := range []string{
		"", "{}", "[]", "null", "~", "services:", "services: []", "services: {a: }", "services: {a: {image: }}",
		"services: {a: {image: x, volumes: [':']}}", "services: {a: {image: x, ports: ['::::']}}",
		"services: {a: {image: x, depends_on: {b: {condition: nope}}}}", "services: {a: {extends: a}}",
		"services: {a: {image: x, networks: [n]}}", "services: {a: {image: x, deploy: {replicas: -1}}}",
		"include: [nope.yaml]", "services: {a: {image: ${X:?}}}", "services: {a: {image: ${}}}", "\x00\xff",
		"services: &a {b: *a}", "a: &a [*a, *a]\nb: &b [*a, *a]", "--- \n---\nservices: {a: {image: x}}",
		"services: {a: {image: x, env_file: [/nonexistent]}}", "services: {a: {image: x, ulimits: {nofile: {}}}}",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Load(context.Background(), Options{
			Files:       []string{"-"},
			Stdin:       bytes.NewReader(data),
			WorkingDir:  dir,
			ProjectName: "fuzz",
			Environ:     []string{"PWD=" + dir, "COMPOSE_DISABLE_ENV_FILE=1"},
		})
		if err == nil {
			return
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("error is %T, not *Error: %v", err, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine ") {
			t.Fatalf("error is not one line: %q", msg)
		}
	})
}
