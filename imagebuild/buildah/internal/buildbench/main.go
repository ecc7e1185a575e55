package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/cirun-dev/cirun/imagebuild"
	"github.com/cirun-dev/cirun/imagebuild/buildah"
)

func main() {
	if buildah.Reexec() {
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "buildbench:", err)
		os.Exit(1)
	}
}

func run() error {
	tag := flag.String("t", "localhost/buildbench:latest", "image tag")
	mode := flag.String("progress", "plain", "plain, tty or quiet")
	noCache := flag.Bool("no-cache", false, "ignore the layer cache")
	n := flag.Int("n", 1, "builds in a row (same process)")
	debug := flag.Bool("debug", false, "print the builder's debug messages")
	timeout := flag.Duration("timeout", 0, "cancel each build after this long")
	root := flag.String("root", "", "storage graph root (default: the user's store)")
	runRoot := flag.String("runroot", "", "storage run root")
	trace := flag.Bool("trace", false, "log the libraries at debug level with millisecond timestamps")
	registry := flag.String("registry", "", "registry HOST:PORT used as layer cache (and pushed to)")
	flag.Parse()
	if flag.NArg() != 1 {
		return fmt.Errorf("usage: buildbench [flags] CONTEXT")
	}
	// As cirun's main does: the libraries (containers/storage, netavark via
	// RUST_LOG) follow the global logrus level.
	logrus.SetLevel(logrus.WarnLevel)
	if *trace {
		logrus.SetLevel(logrus.DebugLevel)
		logrus.SetFormatter(&logrus.TextFormatter{FullTimestamp: true, TimestampFormat: "15:04:05.000"})
	}
	t0 := time.Now()
	opts := buildah.Options{GraphRoot: *root, RunRoot: *runRoot}
	if *debug {
		opts.Logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, "debug: "+f+"\n", a...) }
	}
	b, err := buildah.New(opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "new: %.3fs\n", time.Since(t0).Seconds())
	for i := 0; i < *n; i++ {
		t := time.Now()
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if *timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, *timeout)
		}
		_, err := b.Build(ctx, imagebuild.Request{
			Service: "bench", ContextDir: flag.Arg(0), Tags: []string{*tag}, Registry: *registry,
			NoCache: *noCache, Progress: os.Stderr, ProgressMode: *mode,
		})
		cancel()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build failed after %.3fs\n", time.Since(t).Seconds())
			b.Close()
			return err
		}
		fmt.Fprintf(os.Stderr, "build: %.3fs\n", time.Since(t).Seconds())
	}
	t := time.Now()
	err = b.Close()
	fmt.Fprintf(os.Stderr, "close: %.3fs total: %.3fs\n", time.Since(t).Seconds(), time.Since(t0).Seconds())
	return err
}
