package enginetest

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// testTop: a running container's process table shows its command; a
// container that is not running has none.
func testTop(e *env) {
	t, ctx := e.t, e.ctx
	created := e.create(e.spec("top-created", "sleep", "300"))
	_, err := e.eng.TopContainer(ctx, created)
	wantErr(t, "TopContainer of a created container", err, engine.ErrNotRunning)

	id := e.running("top")
	p, err := e.eng.TopContainer(ctx, id)
	if err != nil {
		t.Fatalf("TopContainer: %v", err)
	}
	if len(p.Titles) < 2 || !contains(p.Titles, "PID") {
		t.Errorf("TopContainer titles = %q, want a PID column", p.Titles)
	}
	found := false
	for _, row := range p.Rows {
		if len(row) != len(p.Titles) {
			t.Errorf("TopContainer row %q has %d cells for %d titles", row, len(row), len(p.Titles))
			continue
		}
		if strings.Contains(row[len(row)-1], "sleep") {
			found = true
		}
	}
	if !found {
		t.Errorf("TopContainer rows = %q, want one whose last cell runs sleep", p.Rows)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// testFiles: a tar copied into a container comes back out with the same
// names and content; StatPath describes files and directories; missing
// paths give ErrNotFound.
func testFiles(e *env) {
	t, ctx := e.t, e.ctx
	id := e.running("files")
	dir := "/tmp/" + e.run
	var in bytes.Buffer
	tw := tar.NewWriter(&in)
	mod := time.Unix(1_700_000_000, 0)
	for _, f := range []struct {
		name, body string
		dir        bool
	}{{"d/", "", true}, {"d/a.txt", "alpha\n", false}, {"d/sub/", "", true}, {"d/sub/b.txt", "beta\n", false}} {
		h := &tar.Header{Name: f.name, Mode: 0o644, ModTime: mod, Typeflag: tar.TypeReg, Size: int64(len(f.body))}
		if f.dir {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.CopyTo(ctx, id, dir, &in); err != nil {
		t.Fatalf("CopyTo(%s): %v", dir, err)
	}

	st, err := e.eng.StatPath(ctx, id, dir+"/d/a.txt")
	if err != nil {
		t.Fatalf("StatPath(a.txt): %v", err)
	}
	if st.Name != "a.txt" || st.Size != 6 || st.Mode.IsDir() {
		t.Errorf("StatPath(a.txt) = %+v, want a 6-byte file named a.txt", st)
	}
	if st, err := e.eng.StatPath(ctx, id, dir+"/d"); err != nil || !st.Mode.IsDir() || st.Name != "d" {
		t.Errorf("StatPath(d) = %+v, %v; want directory d", st, err)
	}
	_, err = e.eng.StatPath(ctx, id, dir+"/missing")
	wantErr(t, "StatPath of a missing path", err, engine.ErrNotFound)

	var out bytes.Buffer
	if err := e.eng.CopyFrom(ctx, id, dir+"/d", &out); err != nil {
		t.Fatalf("CopyFrom(d): %v", err)
	}
	got := map[string]string{}
	tr := tar.NewReader(&out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading CopyFrom's archive: %v", err)
		}
		body, _ := io.ReadAll(tr)
		name := strings.TrimSuffix(h.Name, "/")
		if h.Typeflag == tar.TypeDir {
			got[name] = "<dir>"
		} else {
			got[name] = string(body)
		}
	}
	want := map[string]string{"d": "<dir>", "d/a.txt": "alpha\n", "d/sub": "<dir>", "d/sub/b.txt": "beta\n"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("CopyFrom archive entry %q = %q, want %q (archive: %q)", k, got[k], v, got)
		}
	}
	err = e.eng.CopyFrom(ctx, id, dir+"/missing", io.Discard)
	wantErr(t, "CopyFrom of a missing path", err, engine.ErrNotFound)
}

// testEvents: creating, running and removing a container gives docker's
// create, start, die (with its exit code) and destroy events, in order,
// carrying the container's labels.
func testEvents(e *env) {
	t := e.t
	since := time.Now().Add(-2 * time.Second)
	id := e.create(e.spec("events", "sh", "-c", "exit 3"))
	e.start(id)
	if code := e.wait(id); code != 3 {
		t.Fatalf("container exited %d, want 3", code)
	}
	if err := e.eng.RemoveContainer(e.ctx, id, engine.RemoveOptions{}); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	want := []string{"create", "start", "die", "destroy"}
	var got []string
	errDone := errors.New("done")
	err := e.eng.ContainerEvents(ctx, engine.EventFilter{Labels: e.labels(), Since: since}, func(ev engine.ContainerEvent) error {
		if ev.ID != id {
			t.Errorf("event %s for container %s, want only %s", ev.Action, ev.ID, id)
			return nil
		}
		got = append(got, ev.Action)
		if ev.Attributes[LabelRun] != e.run || ev.Attributes["name"] != e.name("events") {
			t.Errorf("event %s attributes %v: want label %s=%s and name %s", ev.Action, ev.Attributes, LabelRun, e.run, e.name("events"))
		}
		if ev.Action == "die" && ev.Attributes["exitCode"] != "3" {
			t.Errorf("die event exitCode = %q, want 3", ev.Attributes["exitCode"])
		}
		if ev.Time.Before(since) {
			t.Errorf("event %s at %v, before Since %v", ev.Action, ev.Time, since)
		}
		if ev.Action == "destroy" {
			return errDone
		}
		return nil
	})
	if !errors.Is(err, errDone) {
		t.Fatalf("ContainerEvents = %v after %q; want the destroy event", err, got)
	}
	i := 0
	for _, a := range got {
		if i < len(want) && a == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Errorf("events %q, want %q in this order", got, want)
	}

	// A cancelled context ends the stream with nil.
	cctx, ccancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() {
		done <- e.eng.ContainerEvents(cctx, engine.EventFilter{Labels: e.labels()}, func(engine.ContainerEvent) error { return nil })
	}()
	ccancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ContainerEvents after cancel = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("ContainerEvents did not return after its context was cancelled")
	}
}

// testPushMissing: pushing an image that is not local gives ErrNotFound.
func testPushMissing(e *env) {
	err := e.eng.PushImage(e.ctx, "localhost/"+e.run+"-missing:latest", engine.PushOptions{Quiet: true})
	wantErr(e.t, "PushImage of a missing image", err, engine.ErrNotFound)
}

// testExecPrivilegedDetach: a privileged exec runs; a detached exec returns
// 0 at once and its command runs.
func testExecPrivilegedDetach(e *env) {
	t, ctx := e.t, e.ctx
	id := e.running("exec-pd")
	code, err := e.eng.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"sh", "-c", "exit 4"}, Privileged: true})
	if err != nil || code != 4 {
		t.Errorf("privileged Exec(exit 4) = %d, %v; want 4, nil", code, err)
	}
	code, err = e.eng.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"sh", "-c", "exit 7"}, Detach: true})
	if err != nil || code != 0 {
		t.Errorf("detached Exec(exit 7) = %d, %v; want 0, nil", code, err)
	}
}
