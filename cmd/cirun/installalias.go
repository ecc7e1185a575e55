package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

func (e *env) installAliasCommand() *cli.Command {
	return &cli.Command{
		Name:      "install-alias",
		Usage:     "create a docker-compose symlink to cirun (next to the binary, or in DIR)",
		ArgsUsage: "[DIR]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "replace an existing docker-compose in DIR"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return cli.Exit("install-alias: at most one DIR", 1)
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("finding the cirun binary: %w", err)
			}
			if exe, err = filepath.EvalSymlinks(exe); err != nil {
				return fmt.Errorf("finding the cirun binary: %w", err)
			}
			dir := filepath.Dir(exe)
			if c.NArg() == 1 {
				if dir, err = filepath.Abs(c.Args().First()); err != nil {
					return err
				}
			}
			link, err := installAlias(exe, dir, c.Bool("force"))
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%s -> %s\n", link, exe)
			return nil
		},
	}
}

// installAlias makes dir/docker-compose a symlink to exe. An existing
// symlink to exe is kept; anything else there is replaced only with force.
func installAlias(exe, dir string, force bool) (string, error) {
	link := filepath.Join(dir, "docker-compose")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("install-alias: %s is not a directory", dir)
	}
	if target, err := filepath.EvalSymlinks(link); err == nil && target == exe {
		return link, nil
	}
	if _, err := os.Lstat(link); err == nil {
		if !force {
			return "", fmt.Errorf("install-alias: %s already exists (use --force to replace it)", link)
		}
		if err := os.Remove(link); err != nil {
			return "", fmt.Errorf("install-alias: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("install-alias: %w", err)
	}
	if err := os.Symlink(exe, link); err != nil {
		return "", fmt.Errorf("install-alias: %w", err)
	}
	return link, nil
}
