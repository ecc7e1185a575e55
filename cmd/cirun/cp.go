package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) cpCommand() *cli.Command {
	return &cli.Command{
		Name:  "cp",
		Usage: "copy files between a service container and the local filesystem",
		ArgsUsage: "SERVICE:SRC_PATH DEST_PATH|-\n" +
			"   cirun cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "index", Usage: "index of the container if the service has several replicas (default: from the first, to all)"},
			&cli.BoolFlag{Name: "all", Hidden: true, Usage: "deprecated: copying to a service copies to all its containers"},
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "archive mode (copy all uid/gid information)"},
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "always follow a symbolic link in SRC_PATH"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return cli.Exit("cp: SOURCE and DESTINATION are required", 1)
			}
			src, dst := c.Args().Get(0), c.Args().Get(1)
			var services []string
			for _, a := range []string{src, dst} {
				if svc, _, ok := strings.Cut(a, ":"); ok && !strings.HasPrefix(a, "/") && !strings.HasPrefix(a, ".") {
					services = append(services, svc)
				}
			}
			sc, err := e.scope(c, services)
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			return r.Copy(c.Context, sc.Project, runner.CopyOptions{
				Source: src, Destination: dst, Index: c.Int("index"),
				FollowLink: c.Bool("follow-link"), Archive: c.Bool("archive"), Stdin: e.stdin,
			})
		},
	}
}
