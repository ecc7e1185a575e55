package main

import (
	"fmt"
	"strconv"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) portCommand() *cli.Command {
	return &cli.Command{
		Name:      "port",
		Usage:     "print the public address of a port binding",
		ArgsUsage: "SERVICE PRIVATE_PORT",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "protocol", Value: "tcp", Usage: "tcp or udp"},
			&cli.IntFlag{Name: "index", Usage: "index of the container if the service has several replicas (default: the first)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return cli.Exit("port: SERVICE and PRIVATE_PORT are required", 1)
			}
			port, err := strconv.ParseUint(c.Args().Get(1), 10, 16)
			if err != nil {
				return cli.Exit(fmt.Sprintf("port: invalid port %q", c.Args().Get(1)), 1)
			}
			svc := c.Args().First()
			sc, err := e.scope(c, []string{svc})
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			addr, err := r.Port(c.Context, sc.Project, svc, uint16(port), runner.PortOptions{Protocol: c.String("protocol"), Index: c.Int("index")})
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, addr)
			return nil
		},
	}
}
