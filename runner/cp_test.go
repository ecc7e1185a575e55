package runner

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o640); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("reading %s: %v", p, err)
	}
	return string(b)
}

func TestCopyFollowsDockerCpRules(t *testing.T) {
	c := upCmd(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "f.txt"), "file\n")
	writeFile(t, filepath.Join(dir, "tree", "a.txt"), "a\n")
	writeFile(t, filepath.Join(dir, "tree", "sub", "b.txt"), "b\n")
	if err := os.Symlink("a.txt", filepath.Join(dir, "tree", "link")); err != nil {
		t.Fatal(err)
	}
	cp := func(src, dst string) error {
		return c.r.Copy(c.ctx, "p", CopyOptions{Source: src, Destination: dst})
	}
	stat := func(p string) (bool, bool) {
		st, err := c.eng.StatPath(c.ctx, "p-worker-1", p)
		return err == nil, err == nil && st.Mode.IsDir()
	}

	// Into an existing directory: under the source's name.
	if err := cp(filepath.Join(dir, "f.txt"), "worker:/tmp"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := stat("/tmp/f.txt"); !ok {
		t.Errorf("cp f.txt worker:/tmp: /tmp/f.txt missing")
	}
	// To a new name; a directory as a whole.
	if err := cp(filepath.Join(dir, "f.txt"), "worker:/tmp/renamed"); err != nil {
		t.Fatal(err)
	}
	if ok, isDir := stat("/tmp/renamed"); !ok || isDir {
		t.Errorf("cp f.txt worker:/tmp/renamed: not a file")
	}
	if err := cp(filepath.Join(dir, "tree"), "worker:/data"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/data/a.txt", "/data/sub/b.txt", "/data/link"} {
		if ok, _ := stat(p); !ok {
			t.Errorf("cp tree worker:/data: %s missing", p)
		}
	}
	// The contents only, with "/.".
	if err := cp(filepath.Join(dir, "tree")+"/.", "worker:/tmp"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := stat("/tmp/a.txt"); !ok {
		t.Errorf("cp tree/. worker:/tmp: /tmp/a.txt missing")
	}
	// A missing parent directory, a directory onto a file.
	if err := cp(filepath.Join(dir, "f.txt"), "worker:/nope/x"); err == nil || !strings.Contains(err.Error(), "could not find the file /nope") {
		t.Errorf("cp to a missing parent: %v", err)
	}
	if err := cp(filepath.Join(dir, "tree"), "worker:/tmp/f.txt"); err == nil || !strings.Contains(err.Error(), "cannot overwrite non-directory") {
		t.Errorf("cp a directory onto a file: %v", err)
	}

	// And back out.
	out := t.TempDir()
	if err := cp("worker:/data", filepath.Join(out, "copy")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "copy", "sub", "b.txt")); got != "b\n" {
		t.Errorf("cp worker:/data copy: sub/b.txt = %q", got)
	}
	if l, err := os.Readlink(filepath.Join(out, "copy", "link")); err != nil || l != "a.txt" {
		t.Errorf("cp worker:/data copy: link -> %q, %v", l, err)
	}
	if err := cp("worker:/tmp/f.txt", out); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "f.txt")); got != "file\n" {
		t.Errorf("cp worker:/tmp/f.txt DIR: %q", got)
	}
	// Relative destinations, as docker compose's TestCopy uses them.
	t.Chdir(out)
	if err := cp("worker:/tmp/f.txt", "./rel.txt"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "rel.txt")); got != "file\n" {
		t.Errorf("cp worker:/tmp/f.txt ./rel.txt: %q", got)
	}
	if err := cp("worker:/data", "reldir"); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "reldir", "sub", "b.txt")); got != "b\n" {
		t.Errorf("cp worker:/data reldir: sub/b.txt = %q", got)
	}
	if err := cp("worker:/data/.", filepath.Join(out, "copy")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(out, "copy", "a.txt")); got != "a\n" {
		t.Errorf("cp worker:/data/. copy: a.txt = %q", got)
	}
	if err := cp("worker:/missing", out); err == nil || err.Error() != "could not find the file /missing in container p-worker-1" {
		t.Errorf("cp of a missing file: %v", err)
	}
	if err := cp("worker:/tmp/f.txt", "db:/tmp"); err == nil {
		t.Errorf("cp between services: want an error")
	}

	// "-" streams a tar archive.
	c.out.Reset()
	if err := cp("worker:/tmp/f.txt", "-"); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(c.out.Bytes()))
	h, err := tr.Next()
	if err != nil || h.Name != "f.txt" {
		t.Errorf("cp worker:/tmp/f.txt -: first entry %v, %v", h, err)
	}
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	_ = tw.WriteHeader(&tar.Header{Name: "from-stdin", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("s\n"))
	_ = tw.Close()
	if err := c.r.Copy(c.ctx, "p", CopyOptions{Source: "-", Destination: "worker:/tmp", Stdin: &in}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := stat("/tmp/from-stdin"); !ok {
		t.Errorf("cp - worker:/tmp: /tmp/from-stdin missing")
	}
}

func TestCopyToEveryContainerOfTheService(t *testing.T) {
	c := upCmd(t)
	p := cmdProject()
	w := p.Services["worker"]
	two := 2
	w.Scale = &two
	p.Services["worker"] = w
	if err := c.r.Up(c.ctx, p, UpOptions{Detach: true, Services: []string{"worker"}}); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "f")
	writeFile(t, f, "x")
	if err := c.r.Copy(c.ctx, "p", CopyOptions{Source: f, Destination: "worker:/tmp/"}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"p-worker-1", "p-worker-2"} {
		if _, err := c.eng.StatPath(c.ctx, n, "/tmp/f"); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if err := c.r.Copy(c.ctx, "p", CopyOptions{Source: f, Destination: "worker:/tmp/only2", Index: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.eng.StatPath(c.ctx, "p-worker-1", "/tmp/only2"); err == nil {
		t.Errorf("cp --index 2 copied to worker-1 too")
	}
}

func TestExtractRejectsEntriesOutsideTheDirectory(t *testing.T) {
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	_ = tw.WriteHeader(&tar.Header{Name: "root/../../evil", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte("x"))
	_ = tw.Close()
	dir := t.TempDir()
	err := extract(&in, filepath.Join(dir, "in"), "", false)
	if err == nil || !strings.Contains(err.Error(), "outside") {
		t.Errorf("extract of ../../evil = %v, want an error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "evil")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("extract wrote outside its directory")
	}
}

func TestSplitCopyArg(t *testing.T) {
	for _, tc := range []struct{ in, svc, path string }{
		{"web:/etc/hosts", "web", "/etc/hosts"},
		{"/tmp/a:b", "", "/tmp/a:b"},
		{"./x:y", "", "./x:y"},
		{"plain", "", "plain"},
		{"-", "", "-"},
	} {
		if svc, p := splitCopyArg(tc.in); svc != tc.svc || p != tc.path {
			t.Errorf("splitCopyArg(%q) = %q, %q; want %q, %q", tc.in, svc, p, tc.svc, tc.path)
		}
	}
}
