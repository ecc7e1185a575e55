package podman

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/podman/rest"
	"github.com/containers/podman/v4/pkg/api/handlers"
	"github.com/containers/podman/v4/pkg/bindings"
	"github.com/containers/podman/v4/pkg/bindings/containers"
	"github.com/containers/podman/v4/pkg/bindings/images"
	"github.com/containers/podman/v4/pkg/bindings/system"
	"github.com/containers/podman/v4/pkg/copy"
	"github.com/containers/podman/v4/pkg/domain/entities"
)

// PushImage pushes the local image ref to the registry its name points to.
func (e *Engine) PushImage(ctx context.Context, ref string, opts engine.PushOptions) error {
	o := new(images.PushOptions).WithQuiet(opts.Quiet || opts.Progress == nil)
	if opts.Progress != nil {
		o.WithProgressWriter(opts.Progress)
	} else {
		o.WithProgressWriter(io.Discard)
	}
	if opts.SkipTLSVerify {
		o.WithSkipTLSVerify(true)
	}
	// Credentials: the bindings read them here, in cirun's environment, from
	// containers/image's default files ($XDG_RUNTIME_DIR/containers/auth.json,
	// ~/.config/containers/auth.json, $DOCKER_CONFIG/config.json or
	// ~/.docker/config.json); REGISTRY_AUTH_FILE, which podman's CLI honours,
	// replaces them.
	if f := os.Getenv("REGISTRY_AUTH_FILE"); f != "" {
		o.WithAuthfile(f)
	}
	if err := images.Push(e.ctx(ctx), ref, ref, o); err != nil {
		return fmt.Errorf("pushing %s: %w", ref, mapErr(err, nil))
	}
	return nil
}

// TopContainer lists a running container's processes (Podman runs ps in
// the container's PID namespace). ErrNotRunning if it is not running.
func (e *Engine) TopContainer(ctx context.Context, id string, psArgs ...string) (engine.Processes, error) {
	conn, err := bindings.GetClient(e.conn)
	if err != nil {
		return engine.Processes{}, fmt.Errorf("listing processes of %s: %w", id, err)
	}
	params := url.Values{}
	for _, a := range psArgs {
		params.Add("ps_args", a)
	}
	resp, err := conn.DoRequest(e.ctx(ctx), nil, http.MethodGet, "/containers/%s/top", params, nil, id)
	if err != nil {
		return engine.Processes{}, fmt.Errorf("listing processes of %s: %w", id, err)
	}
	defer resp.Body.Close()
	if !resp.IsSuccess() {
		return engine.Processes{}, fmt.Errorf("listing processes of %s: %w", id, mapErr(resp.Process(nil), engine.ErrNotRunning))
	}
	// Podman 4.3 answers 200 with an empty body for a container that is
	// not running.
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return engine.Processes{}, fmt.Errorf("listing processes of %s: %w", id, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return engine.Processes{}, fmt.Errorf("listing processes of %s: %w", id, engine.ErrNotRunning)
	}
	var body handlers.ContainerTopOKBody
	if err := json.Unmarshal(data, &body); err != nil {
		return engine.Processes{}, fmt.Errorf("listing processes of %s: %w", id, err)
	}
	return engine.Processes{Titles: body.Titles, Rows: body.Processes}, nil
}

// StatPath describes a path in the container; ErrNotFound if the path (or
// the container) does not exist.
func (e *Engine) StatPath(ctx context.Context, id, path string) (engine.PathStat, error) {
	rep, err := containers.Stat(e.ctx(ctx), id, path)
	if errors.Is(err, copy.ErrENOENT) {
		return engine.PathStat{}, fmt.Errorf("stat %s in %s: %w", path, id, engine.ErrNotFound)
	}
	if err != nil {
		return engine.PathStat{}, fmt.Errorf("stat %s in %s: %w", path, id, mapErr(err, nil))
	}
	fi := rep.FileInfo
	return engine.PathStat{Name: fi.Name, Size: fi.Size, Mode: fi.Mode, ModTime: fi.ModTime, LinkTarget: fi.LinkTarget}, nil
}

// CopyFrom writes a tar archive of path in the container to w.
func (e *Engine) CopyFrom(ctx context.Context, id, path string, w io.Writer) error {
	conn, err := bindings.GetClient(e.conn)
	if err != nil {
		return fmt.Errorf("copying %s from %s: %w", path, id, err)
	}
	resp, err := conn.DoRequest(e.ctx(ctx), nil, http.MethodGet, "/containers/%s/archive", url.Values{"path": {path}}, nil, id)
	if err != nil {
		return fmt.Errorf("copying %s from %s: %w", path, id, err)
	}
	defer resp.Body.Close()
	if !resp.IsSuccess() {
		return fmt.Errorf("copying %s from %s: %w", path, id, mapErr(resp.Process(nil), nil))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("copying %s from %s: %w", path, id, err)
	}
	return nil
}

// CopyTo extracts the tar archive r into the directory dir of the
// container (Podman creates dir when it is missing).
func (e *Engine) CopyTo(ctx context.Context, id, dir string, r io.Reader) error {
	conn, err := bindings.GetClient(e.conn)
	if err != nil {
		return fmt.Errorf("copying to %s in %s: %w", dir, id, err)
	}
	hdr := http.Header{"Content-Type": {"application/x-tar"}}
	resp, err := conn.DoRequest(e.ctx(ctx), r, http.MethodPut, "/containers/%s/archive", url.Values{"path": {dir}}, hdr, id)
	if err != nil {
		return fmt.Errorf("copying to %s in %s: %w", dir, id, err)
	}
	defer resp.Body.Close()
	if err := resp.Process(nil); err != nil {
		return fmt.Errorf("copying to %s in %s: %w", dir, id, mapErr(err, nil))
	}
	return nil
}

// execDetached starts exec session sid without attaching and returns 0.
func (e *Engine) execDetached(ctx context.Context, id, sid string) (int, error) {
	if err := containers.ExecStart(e.ctx(ctx), sid, nil); err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, mapErr(err, engine.ErrNotRunning))
	}
	return 0, nil
}

// podmanOnlyActions are Podman's internal container events, which docker
// does not have; they are not reported.
var podmanOnlyActions = map[string]bool{
	"init": true, "cleanup": true, "mount": true, "unmount": true, "sync": true,
	"refresh": true, "cleanup_exec": true,
}

// ContainerEvents streams Podman's container events in docker's terms:
// "died" is reported as "die", "remove" as "destroy", and the exit code
// attribute as "exitCode".
func (e *Engine) ContainerEvents(ctx context.Context, f engine.EventFilter, fn func(engine.ContainerEvent) error) error {
	filters := map[string][]string{"type": {"container"}}
	if lf := rest.LabelFilters(f.Labels); len(lf) > 0 {
		filters["label"] = lf
	}
	opts := new(system.EventsOptions).WithFilters(filters).WithStream(true)
	if !f.Since.IsZero() {
		opts.WithSince(strconv.FormatInt(f.Since.Unix(), 10))
	}
	if !f.Until.IsZero() {
		opts.WithUntil(strconv.FormatInt(f.Until.Unix(), 10))
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	ch := make(chan entities.Event)
	var err error
	done := make(chan struct{}) // closed when system.Events has returned (err set)
	go func() {
		defer close(done)
		err = system.Events(e.ctx(sctx), ch, nil, opts)
	}()
	// system.Events blocks sending on ch and does not close it when the
	// request fails: whatever happens, let it finish.
	defer func() {
		stop()
		go func() {
			for {
				select {
				case <-ch:
				case <-done:
					return
				}
			}
		}()
	}()
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				<-done
				return eventsErr(ctx, err)
			}
			ce, keep := fromEvent(ev)
			if !keep || !engine.MatchLabels(ce.Attributes, f.Labels) {
				continue
			}
			if ferr := fn(ce); ferr != nil {
				return ferr
			}
		case <-done:
			return eventsErr(ctx, err)
		}
	}
}

// eventsErr is what ContainerEvents returns once the stream ended with
// err: nil when ctx was done (the caller stopped it).
func eventsErr(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("reading events: %w", mapErr(err, nil))
}

// fromEvent translates a Podman event; ok is false for events docker does
// not have.
func fromEvent(ev entities.Event) (engine.ContainerEvent, bool) {
	action := ev.Action
	if action == "" {
		action = ev.Status
	}
	if podmanOnlyActions[action] || ev.Type != "container" {
		return engine.ContainerEvent{}, false
	}
	switch action {
	case "died":
		action = "die"
	case "remove":
		action = "destroy"
	}
	attrs := map[string]string{}
	for k, v := range ev.Actor.Attributes {
		switch k {
		case "containerExitCode":
			if action == "die" {
				attrs["exitCode"] = v
			}
		case "podId":
			if v != "" {
				attrs[k] = v
			}
		default:
			attrs[k] = v
		}
	}
	t := time.Unix(0, ev.TimeNano)
	if ev.TimeNano == 0 {
		t = time.Unix(ev.Time, 0)
	}
	id := ev.Actor.ID
	if id == "" {
		id = ev.ID
	}
	return engine.ContainerEvent{
		Time: t, Action: action, ID: id, Name: attrs["name"], Image: attrs["image"], Attributes: attrs,
	}, true
}
