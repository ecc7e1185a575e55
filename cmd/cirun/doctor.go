//go:build !cirun_front

package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/engine/podman"
)

func (e *env) doctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check that this machine can run cirun, and say how to fix what is missing",
		Action: func(c *cli.Context) error {
			checks := podman.Doctor(c.Context, podman.Options{Host: c.String("host")})
			failed := 0
			for _, ch := range checks {
				mark := "OK  "
				if !ch.OK {
					mark = "FAIL"
					failed++
				}
				fmt.Fprintf(e.stdout, "%s %-28s %s\n", mark, ch.Name, ch.Detail)
				if !ch.OK && ch.Fix != "" {
					fmt.Fprintf(e.stdout, "     fix: %s\n", ch.Fix)
				}
			}
			if failed > 0 {
				return cli.Exit(fmt.Sprintf("%d check(s) failed", failed), 1)
			}
			return nil
		},
	}
}
