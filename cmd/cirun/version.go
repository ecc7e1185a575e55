package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"
)

func (e *env) versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "show the cirun version",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "short", Usage: "only the version number"},
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "pretty", Usage: "pretty or json"},
		},
		Action: func(c *cli.Context) error {
			switch {
			case c.Bool("short"):
				fmt.Fprintln(e.stdout, version)
			case c.String("format") == "json":
				return json.NewEncoder(e.stdout).Encode(map[string]string{"version": version})
			default:
				fmt.Fprintf(e.stdout, "cirun version %s\n", version)
			}
			return nil
		},
	}
}
