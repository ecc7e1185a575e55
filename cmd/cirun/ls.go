package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) lsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ls",
		Usage: "list running compose projects",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display project names"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all stopped compose projects"},
			&cli.GenericFlag{Name: "filter", Value: &multi{}, Usage: "filter output based on conditions provided (name=REGEXP)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return cli.Exit("ls: no arguments expected", 1)
			}
			o := runner.LsOptions{All: c.Bool("all")}
			for _, f := range multiOf(c, "filter") {
				k, v, _ := strings.Cut(f, "=")
				if k != "name" {
					return cli.Exit(fmt.Sprintf("invalid filter '%s'", k), 1)
				}
				o.Name = v
			}
			l, err := e.containerLister(c)
			if err != nil {
				return err
			}
			stacks, err := runner.Ls(c.Context, l, o)
			if err != nil {
				return err
			}
			switch {
			case c.Bool("quiet"):
				for _, s := range stacks {
					fmt.Fprintln(e.stdout, s.Name)
				}
			case c.String("format") == "json":
				type view struct{ Name, Status, ConfigFiles string }
				list := []view{}
				for _, s := range stacks {
					list = append(list, view(s))
				}
				return json.NewEncoder(e.stdout).Encode(list)
			case c.String("format") == "table":
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 3, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSTATUS\tCONFIG FILES")
				for _, s := range stacks {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Status, s.ConfigFiles)
				}
				return tw.Flush()
			default:
				return writeTemplate(e.stdout, c.String("format"), lsHeader, stacks)
			}
			return nil
		},
	}
}

// lsHeader is the header row of `ls --format "table TEMPLATE"`.
var lsHeader = runner.Stack{Name: "NAME", Status: "STATUS", ConfigFiles: "CONFIG FILES"}
