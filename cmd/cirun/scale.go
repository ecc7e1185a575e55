package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) scaleCommand() *cli.Command {
	return &cli.Command{
		Name:      "scale",
		Usage:     "scale services",
		ArgsUsage: "SERVICE=REPLICAS...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-deps", Usage: "don't start linked services"},
		},
		Action: func(c *cli.Context) error {
			scale, err := parseScaleArgs(c.Args().Slice())
			if err != nil {
				return cli.Exit(err.Error(), 1)
			}
			services := make([]string, 0, len(scale))
			for s := range scale {
				services = append(services, s)
			}
			sort.Strings(services)
			p, err := e.project(c, services...)
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			// docker compose's scale is a detached up of the named services
			// with their replica counts.
			return r.Up(c.Context, p, runner.UpOptions{Services: services, Detach: true, NoDeps: c.Bool("no-deps"), Scale: scale})
		},
	}
}

// parseScaleArgs reads `scale`'s SERVICE=REPLICAS arguments.
func parseScaleArgs(args []string) (map[string]int, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("scale: name at least one SERVICE=REPLICAS")
	}
	scale := map[string]int{}
	for _, a := range args {
		name, val, ok := strings.Cut(a, "=")
		if !ok || name == "" || val == "" {
			return nil, fmt.Errorf("invalid scale specifier: %s", a)
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid scale specifier: can't parse replica value as int: %s", a)
		}
		scale[name] = n
	}
	return scale, nil
}
