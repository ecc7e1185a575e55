package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/cirun-dev/cirun/runner"
)

func (e *env) execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "execute a command in a running container; exits with the command's exit code",
		ArgsUsage: "SERVICE COMMAND [ARGS...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the command in the background"},
			&cli.GenericFlag{Name: "env", Aliases: []string{"e"}, Value: &multi{}, Usage: "set an environment variable (KEY=VALUE, or KEY to pass it from here)"},
			&cli.IntFlag{Name: "index", Usage: "index of the container if the service has several replicas (default: the first)"},
			&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to the process"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run the command as this user"},
			&cli.BoolFlag{Name: "no-tty", Aliases: []string{"T", "no-TTY"}, Usage: "disable pseudo-TTY allocation (the default when stdout is not a terminal)"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory for the command"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Value: true, Hidden: true, Usage: "keep STDIN open"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Value: true, Hidden: true, Usage: "allocate a pseudo-TTY"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return cli.Exit("exec: SERVICE and COMMAND are required", 1)
			}
			svc := c.Args().First()
			sc, err := e.scope(c, []string{svc})
			if err != nil {
				return err
			}
			lookup := os.LookupEnv
			if sc.Compose != nil {
				lookup = func(k string) (string, bool) {
					v, ok := sc.Compose.Environment[k]
					return v, ok
				}
			}
			r, err := e.runner(c)
			if err != nil {
				return err
			}
			tty := !c.Bool("no-tty") && c.Bool("tty") && isTerminal(e.stdout)
			o := runner.ExecOptions{
				Service:    svc,
				Index:      c.Int("index"),
				Command:    c.Args().Tail(),
				Env:        resolveEnv(multiOf(c, "env"), lookup),
				User:       c.String("user"),
				WorkingDir: c.String("workdir"),
				Privileged: c.Bool("privileged"),
				Tty:        tty,
				Detach:     c.Bool("detach"),
			}
			if c.Bool("interactive") && !o.Detach {
				o.Stdin = e.stdin
			}
			if tty && o.Stdin != nil && isTerminal(e.stdin) {
				defer rawTerminal(e.stdin)()
			}
			code, err := r.Exec(c.Context, sc.Project, o)
			if err != nil {
				return err
			}
			if code != 0 {
				return &runner.ExitError{Code: code}
			}
			return nil
		},
	}
}
