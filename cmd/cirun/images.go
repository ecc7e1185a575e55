package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
)

func (e *env) imagesCommand() *cli.Command {
	return &cli.Command{
		Name:      "images",
		Usage:     "list images used by the created containers",
		ArgsUsage: "[SERVICE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: "table", Usage: "table or json"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display IDs"},
		},
		Action: func(c *cli.Context) error {
			sc, err := e.scope(c, c.Args().Slice())
			if err != nil {
				return err
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			imgs, err := r.Images(c.Context, sc.Project, sc.Services)
			if err != nil {
				return err
			}
			switch {
			case c.Bool("quiet"):
				seen := map[string]bool{}
				for _, i := range imgs {
					if !seen[i.ID] {
						seen[i.ID] = true
						fmt.Fprintln(e.stdout, i.ID)
					}
				}
			case c.String("format") == "json":
				type img struct {
					ID            string     `json:"ID"`
					ContainerName string     `json:"ContainerName"`
					Repository    string     `json:"Repository"`
					Tag           string     `json:"Tag"`
					Size          int64      `json:"Size"`
					Created       *time.Time `json:"Created,omitempty"`
				}
				list := []img{}
				for _, i := range imgs {
					j := img{ID: i.ID, ContainerName: i.ContainerName, Repository: i.Repository, Tag: i.Tag, Size: i.Size}
					if !i.Created.IsZero() {
						t := i.Created
						j.Created = &t
					}
					list = append(list, j)
				}
				return json.NewEncoder(e.stdout).Encode(list)
			case c.String("format") == "table":
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 3, ' ', 0)
				fmt.Fprintln(tw, "CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tSIZE\tCREATED")
				for _, i := range imgs {
					repo, tag, created := orNone(i.Repository), orNone(i.Tag), "N/A"
					if !i.Created.IsZero() {
						created = ago(i.Created)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", i.ContainerName, repo, tag, shortID(i.ID), humanSize(i.Size), created)
				}
				return tw.Flush()
			default:
				return cli.Exit(fmt.Sprintf("images: unknown format %q (table or json)", c.String("format")), 1)
			}
			return nil
		},
	}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// humanSize is docker's HumanSizeWithPrecision(size, 3): decimal units.
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}
