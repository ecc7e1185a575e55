package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/compose"
)

func (e *env) configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "validate the compose files and print the normalized project",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "yaml", Usage: "yaml or json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only validate, print nothing"},
			&cli.BoolFlag{Name: "services", Usage: "print the service names, one per line"},
			&cli.BoolFlag{Name: "volumes", Usage: "print the volume names, one per line"},
		},
		Action: func(c *cli.Context) error {
			p, err := e.project(c)
			if err != nil {
				return err
			}
			switch {
			case c.Bool("quiet"):
				return nil
			case c.Bool("services"):
				for _, s := range compose.ServiceNames(p) {
					fmt.Fprintln(e.stdout, s)
				}
				return nil
			case c.Bool("volumes"):
				for _, v := range p.VolumeNames() {
					fmt.Fprintln(e.stdout, v)
				}
				return nil
			}
			out, err := compose.Render(p, c.String("format"))
			if err != nil {
				return err
			}
			_, err = e.stdout.Write(out)
			return err
		},
	}
}
