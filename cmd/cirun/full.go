//go:build !cirun_front

package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/podman"
	"github.com/cirun-dev/cirun/imagebuild"
	"github.com/cirun-dev/cirun/imagebuild/buildah"
)

// This file is what the full binary (bin/cirun-full) has and the front one
// (front.go) has not: Podman's bindings and the Buildah library.

// handOff runs every command here.
func (e *env) handOff([]string, string, []string) error { return nil }

// connectEngine connects to Podman through its bindings, starting cirun's
// own service when none runs.
func connectEngine(ctx context.Context, host string, logf func(string, ...any)) (engine.Engine, func(), error) {
	eng, err := podman.New(ctx, podman.Options{Host: host, Logf: logf})
	if err != nil {
		return nil, nil, err
	}
	return eng, eng.Close, nil
}

// lister is the engine itself.
func (e *env) lister(c *cli.Context) (engine.ContainerLister, error) { return e.engine(c) }

// newBuilder is the Buildah library, opened on the first build.
func newBuilder() (imagebuild.Builder, func()) {
	l := &lazyBuilder{}
	return l, l.close
}

// lazyBuilder opens the Buildah store on the first build only: commands that
// build nothing never pay for it.
type lazyBuilder struct {
	once sync.Once
	b    *buildah.Builder
	err  error
}

func (l *lazyBuilder) Build(ctx context.Context, req imagebuild.Request) (imagebuild.Result, error) {
	l.once.Do(func() { l.b, l.err = buildah.New(buildah.Options{}) })
	if l.err != nil {
		return imagebuild.Result{}, fmt.Errorf("opening image store: %w", l.err)
	}
	return l.b.Build(ctx, req)
}

func (l *lazyBuilder) close() {
	if l.b != nil {
		_ = l.b.Close()
	}
}
