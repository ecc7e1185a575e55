package main

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

func (e *env) topCommand() *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "display the running processes",
		ArgsUsage: "[SERVICE...]",
		Action: func(c *cli.Context) error {
			sc, err := e.scope(c, c.Args().Slice())
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			tops, err := r.Top(c.Context, sc.Project, sc.Services)
			if err != nil {
				return err
			}
			// One table, docker compose's: SERVICE, #, then every title
			// seen, the command last.
			header := []string{"SERVICE", "#"}
			col := map[string]int{}
			for _, t := range tops {
				for _, title := range t.Titles {
					if _, ok := col[title]; !ok {
						col[title] = len(header)
						header = append(header, title)
					}
				}
			}
			for _, cmd := range []string{"CMD", "COMMAND"} {
				if i, ok := col[cmd]; ok && i != len(header)-1 {
					header = append(append(header[:i:i], header[i+1:]...), cmd)
				}
			}
			for i, h := range header {
				col[h] = i
			}
			var rows [][]string
			for _, t := range tops {
				for _, p := range t.Rows {
					row := make([]string, len(header))
					for i := range row {
						row[i] = "-"
					}
					row[0], row[1] = t.Service, t.Replica
					for i, title := range t.Titles {
						if i < len(p) {
							row[col[title]] = p[i]
						}
					}
					rows = append(rows, row)
				}
			}
			if len(rows) == 0 {
				return nil
			}
			tw := tabwriter.NewWriter(e.stdout, 4, 1, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(header, "\t"))
			for _, row := range rows {
				fmt.Fprintln(tw, strings.Join(row, "\t"))
			}
			return tw.Flush()
		},
	}
}
