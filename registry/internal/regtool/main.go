package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/cirun-dev/cirun/registry"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "regtool:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: regtool serve|gen|bench [flags]")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:])
	case "gen":
		return gen(args[1:])
	case "bench":
		return bench(args[1:])
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", registry.DefaultAddr, "listen address")
	root := fs.String("root", "", "storage directory")
	quiet := fs.Bool("quiet", false, "no per-request lines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := registry.New(registry.Config{Addr: *addr, Root: *root, Log: os.Stderr, Quiet: *quiet})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Printf("registry listening on %s, storage %s\n", s.Addr(), s.Root())
	return s.Serve(ctx)
}

// gen writes an OCI layout holding one image of random, incompressible
// uncompressed-tar layers.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	dir := fs.String("dir", "", "OCI layout directory to create")
	sizeMB := fs.Int("size", 200, "total layer size in MB")
	layers := fs.Int("layers", 4, "number of layers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *layers < 1 || *sizeMB < 1 {
		return errors.New("gen: -dir, a positive -size and -layers are required")
	}
	p, err := layout.Write(*dir, empty.Index)
	if err != nil {
		return fmt.Errorf("creating layout: %w", err)
	}
	rng := rand.NewChaCha8([32]byte{byte(time.Now().UnixNano())})
	per := int64(*sizeMB) * 1e6 / int64(*layers)
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for i := range *layers {
		var b bytes.Buffer
		tw := tar.NewWriter(&b)
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("random-%d.bin", i), Size: per, Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := io.CopyN(tw, rng, per); err != nil {
			return err
		}
		if err := tw.Close(); err != nil {
			return err
		}
		img, err = mutate.AppendLayers(img, static.NewLayer(b.Bytes(), types.OCIUncompressedLayer))
		if err != nil {
			return err
		}
	}
	if err := p.AppendImage(img); err != nil {
		return fmt.Errorf("writing image: %w", err)
	}
	d, _ := img.Digest()
	fmt.Printf("wrote %s: %d layers, %d MB, %s\n", *dir, *layers, *sizeMB, d)
	return nil
}

// bench pushes the layout's image to each registry and pulls it back, n
// rounds, alternating registries within a round, and prints medians.
func bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	dir := fs.String("layout", "", "OCI layout made by gen")
	n := fs.Int("n", 5, "rounds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	type target struct{ name, host string }
	var targets []target
	for _, a := range fs.Args() {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return fmt.Errorf("bench: target %q is not NAME=HOST", a)
		}
		targets = append(targets, target{k, v})
	}
	if *dir == "" || len(targets) == 0 || *n < 1 {
		return errors.New("bench: -layout, -n >= 1 and at least one NAME=HOST are required")
	}
	img, size, err := layoutImage(*dir)
	if err != nil {
		return err
	}
	pushes := map[string][]float64{}
	pulls := map[string][]float64{}
	stamp := time.Now().UnixNano()
	for round := range *n {
		for _, t := range targets {
			ref, err := name.ParseReference(fmt.Sprintf("%s/bench/r%d-%d:latest", t.host, stamp, round), name.Insecure)
			if err != nil {
				return err
			}
			start := time.Now()
			if err := remote.Write(ref, img); err != nil {
				return fmt.Errorf("pushing to %s: %w", t.name, err)
			}
			push := time.Since(start).Seconds()
			start = time.Now()
			if err := pull(ref); err != nil {
				return fmt.Errorf("pulling from %s: %w", t.name, err)
			}
			pullS := time.Since(start).Seconds()
			pushes[t.name] = append(pushes[t.name], push)
			pulls[t.name] = append(pulls[t.name], pullS)
			fmt.Printf("round %d %-20s push %6.2fs  pull %6.2fs\n", round+1, t.name, push, pullS)
		}
	}
	fmt.Printf("\nimage %.0f MB, %d rounds, median seconds (MB/s)\n", float64(size)/1e6, *n)
	for _, t := range targets {
		ps, pl := median(pushes[t.name]), median(pulls[t.name])
		fmt.Printf("%-20s push %6.2f (%4.0f)  pull %6.2f (%4.0f)\n", t.name, ps, float64(size)/1e6/ps, pl, float64(size)/1e6/pl)
	}
	if len(targets) == 2 {
		a, b := targets[0].name, targets[1].name
		fmt.Printf("ratio %s/%s time: push %.2f  pull %.2f (below 1 means %s is faster)\n",
			a, b, median(pushes[a])/median(pushes[b]), median(pulls[a])/median(pulls[b]), a)
	}
	return nil
}

func layoutImage(dir string) (v1.Image, int64, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("reading layout %s: %w", dir, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, 0, err
	}
	if len(m.Manifests) != 1 {
		return nil, 0, fmt.Errorf("layout %s holds %d manifests, want 1", dir, len(m.Manifests))
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		return nil, 0, err
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, 0, err
	}
	var size int64
	for _, l := range layers {
		s, err := l.Size()
		if err != nil {
			return nil, 0, err
		}
		size += s
	}
	return img, size, nil
}

// pull fetches the manifest, config and every layer (four at a time, like
// podman), discarding the bytes; digests are verified while reading.
func pull(ref name.Reference) error {
	img, err := remote.Image(ref)
	if err != nil {
		return err
	}
	if _, err := img.RawConfigFile(); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(layers))
	sem := make(chan struct{}, 4)
	for i, l := range layers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			rc, err := l.Compressed()
			if err != nil {
				errs[i] = err
				return
			}
			defer rc.Close()
			_, errs[i] = io.Copy(io.Discard, rc)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
