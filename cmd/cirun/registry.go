//go:build !cirun_front

package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/registry"
)

// defaultRegistryRoot is where `registry serve` and `registry gc` keep data.
func defaultRegistryRoot() string { return filepath.Join(dataDir(), "registry") }

func (e *env) registryCommand() *cli.Command {
	// No EnvVars: CIRUN_REGISTRY belongs to the global flag, so that
	// `cirun --registry X registry ls` beats the environment.
	hostFlag := &cli.StringFlag{Name: "registry", Usage: "registry HOST:PORT (default: the global --registry, CIRUN_REGISTRY, else " + registry.DefaultAddr + ")"}
	insecure := &cli.BoolFlag{Name: "insecure-registry", Usage: "allow plain HTTP to a non-loopback registry"}
	addr := func(c *cli.Context) string {
		if a := buildRegistry(c); a != "" {
			return a
		}
		return registry.DefaultAddr
	}
	return &cli.Command{
		Name:  "registry",
		Usage: "the embedded OCI registry (in-pod image store and build cache)",
		Subcommands: []*cli.Command{
			{
				Name:  "serve",
				Usage: "serve an OCI registry (distribution v3, filesystem storage, delete enabled)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "addr", Value: registry.DefaultAddr, Usage: "listen address (loopback by default)"},
					&cli.StringFlag{Name: "root", Value: defaultRegistryRoot(), Usage: "storage directory (survives restarts)"},
					&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "log server errors only"},
				},
				Action: func(c *cli.Context) error {
					srv, err := registry.New(registry.Config{Addr: c.String("addr"), Root: c.String("root"), Log: e.stderr, Quiet: c.Bool("quiet")})
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stderr, "registry: serving %s on http://%s\n", srv.Root(), srv.Addr())
					return srv.Serve(c.Context)
				},
			},
			{
				Name:      "ls",
				Usage:     "list repositories and their tags",
				ArgsUsage: "[REPO]",
				Flags:     []cli.Flag{hostFlag, insecure},
				Action: func(c *cli.Context) error {
					repos, err := registry.List(c.Context, addr(c), c.Args().First(), registry.ClientOptions{Insecure: insecureRegistry(c)})
					if err != nil {
						return err
					}
					for _, r := range repos {
						fmt.Fprintf(e.stdout, "%s\t%s\n", r.Name, strings.Join(r.Tags, " "))
					}
					return nil
				},
			},
			{
				Name:      "rm",
				Usage:     "delete a tag (REPO:TAG) or a manifest (REPO@DIGEST)",
				ArgsUsage: "REF",
				Flags:     []cli.Flag{hostFlag, insecure},
				Action: func(c *cli.Context) error {
					if c.NArg() != 1 {
						return cli.Exit("registry rm: exactly one REPO:TAG or REPO@DIGEST", 1)
					}
					return registry.Remove(c.Context, addr(c), c.Args().First(), registry.ClientOptions{Insecure: insecureRegistry(c)})
				},
			},
			{
				Name:  "gc",
				Usage: "remove old tags and unreferenced blobs (offline, on the storage root)",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "root", Value: defaultRegistryRoot(), Usage: "storage directory"},
					&cli.IntFlag{Name: "keep-last", Usage: "keep the N newest tags of each repository (0: all)"},
					&cli.DurationFlag{Name: "older-than", Usage: "remove tags last pushed longer ago than this (e.g. 72h)"},
					&cli.BoolFlag{Name: "dry-run", Usage: "only report what would be removed"},
				},
				Action: func(c *cli.Context) error {
					res, err := registry.GC(c.Context, c.String("root"), registry.GCOptions{
						KeepLast: c.Int("keep-last"), OlderThan: c.Duration("older-than"), DryRun: c.Bool("dry-run")})
					if err != nil {
						return err
					}
					verb := "removed"
					if c.Bool("dry-run") {
						verb = "would remove"
					}
					fmt.Fprintf(e.stdout, "%s %d tags, %d manifests, %d blobs (%d bytes), %d stale uploads\n", verb, len(res.Tags), res.Manifests, res.Blobs, res.Bytes, res.Uploads)
					for _, t := range res.Tags {
						fmt.Fprintf(e.stdout, "  %s\n", t)
					}
					return nil
				},
			},
		},
	}
}
