package compose

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/paths"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/compose-spec/compose-go/v2/utils"
	"github.com/sirupsen/logrus"
)

// Options says which compose files to load and how, with the meaning of
// docker compose's global flags.
type Options struct {
	// Files are the compose files (-f, repeatable), merged in order; "-"
	// reads one from Stdin. Empty: COMPOSE_FILE, else discovery of
	// compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml
	// (plus the matching override file) in the project directory or the
	// current directory and its parents.
	Files []string
	// WorkingDir is the project directory (--project-directory): relative
	// paths in the files, .env and the default project name come from it.
	// "" means the directory of the first file, or the current directory.
	WorkingDir string
	// ProjectName is -p; it wins over COMPOSE_PROJECT_NAME, the top-level
	// name: and the project directory's name. It must already be a valid
	// name (lowercase letters, digits, - and _).
	ProjectName string
	// Profiles are the --profile flags; when empty, COMPOSE_PROFILES
	// (comma-separated) is used instead.
	Profiles []string
	// ExtraProfiles are activated on top of Profiles or COMPOSE_PROFILES,
	// whichever applies (`cirun test` adds "test" here: putting it in
	// Profiles would make COMPOSE_PROFILES ignored).
	ExtraProfiles []string
	// EnvFiles are the --env-file flags; when empty, COMPOSE_ENV_FILES
	// (comma-separated), else the project directory's .env if present.
	EnvFiles []string
	// Environ is the process environment (os.Environ() in the CLI), used for
	// interpolation and the COMPOSE_* variables. Nothing else is read from
	// the real environment, except PWD when Environ lacks it.
	Environ []string
	// Stdin is read when Files contains "-".
	Stdin io.Reader
	// EnableServices are the services named on the command line (as in
	// `docker compose run tests`): they are enabled even when their
	// profiles are inactive, together with the services they require
	// (depends_on with required: true, the default), by activating those
	// services' profiles the way docker compose does.
	EnableServices []string
	// NoCreate is set by commands that create no container (down, ps,
	// logs, stop...): two services sharing a container_name are then not
	// an error, as in docker compose, which checks it only where it
	// creates containers and in `config`.
	NoCreate bool
	// Render is set by `config`, which only prints the model: a key cirun
	// cannot run (Check) is then a warning, not an error.
	Render bool
	// KeepEnvFiles leaves env_file entries unread (a missing file is then
	// no error): `config --services`, `--volumes`, `--networks`,
	// `--profiles` and `--images` list names only, and docker compose
	// loads the project for them without resolving env files.
	KeepEnvFiles bool
	// AllResources keeps the networks and volumes no service uses
	// (--all-resources); without it they are dropped, as docker compose.
	AllResources bool
	// Warn receives the loader's warnings, one line each, formatted as
	// docker compose prints them ("WARN[0000] The \"FOO\" variable is not
	// set. Defaulting to a blank string."). nil discards them.
	Warn io.Writer

	// The rest are `docker compose config`'s switches; every other command
	// leaves them false.

	// NoNormalize skips compose-go's normalization (--no-normalize): no
	// default network, no build defaults, the model as written.
	NoNormalize bool
	// NoResolvePaths leaves relative paths relative (--no-path-resolution).
	NoResolvePaths bool
	// NoConsistency skips compose-go's consistency checks and the
	// container_name uniqueness check (--no-consistency).
	NoConsistency bool
	// NoResolveEnv keeps env_file entries instead of reading them into
	// environment (--no-env-resolution).
	NoResolveEnv bool
}

// loaderOptions sets compose-go's options that o's config switches change.
func (o Options) loaderOptions(lo *loader.Options) {
	lo.SkipNormalization = o.NoNormalize
	lo.ResolvePaths = !o.NoResolvePaths
	lo.SkipConsistencyCheck = o.NoConsistency
}

// source is one compose file and its content.
type source struct {
	name    string // absolute path, or "-" for standard input
	content []byte
}

// Load reads the compose files o designates and returns the project as
// docker compose would see it: files merged, variables interpolated, env
// files and labels files resolved (env_file entries are folded into
// environment and dropped, as docker compose up/run do), services of
// inactive profiles disabled, optional dependencies (required: false) on
// disabled services dropped, networks and volumes no enabled service uses
// pruned. It then rejects, with Check, any key cirun does not implement.
// Every error is an *Error.
func Load(ctx context.Context, o Options) (p *types.Project, err error) {
	defer func() {
		// compose-go is not meant to panic, but a bad input must never
		// crash cirun with a stack trace: report it as an error instead.
		if r := recover(); r != nil {
			p, err = nil, &Error{Msg: fmt.Sprintf("internal error in the compose loader: %v", r)}
		}
	}()
	if len(o.EnableServices) == 0 {
		return load(ctx, o, nil, o.Warn)
	}
	// A first pass finds which profiles the named services (and the services
	// they require) need; the second loads with those profiles active, so
	// compose-go checks and resolves those services like any other. Only the
	// second pass's warnings are kept.
	var warnings bytes.Buffer
	first, err := load(ctx, o, nil, &warnings)
	if err != nil {
		flush(o.Warn, &warnings)
		return nil, err
	}
	profiles, err := profilesEnabling(first, o.EnableServices)
	if err != nil {
		flush(o.Warn, &warnings)
		return nil, err
	}
	if slices.Equal(profiles, first.Profiles) {
		flush(o.Warn, &warnings)
		return first, nil
	}
	return load(ctx, o, profiles, o.Warn)
}

func flush(w io.Writer, b *bytes.Buffer) {
	if w != nil {
		_, _ = w.Write(b.Bytes())
	}
}

// load is one pass of Load; profiles, when not nil, replace the ones o and
// COMPOSE_PROFILES select.
func load(ctx context.Context, o Options, profiles []string, warn io.Writer) (*types.Project, error) {
	defer captureWarnings(warn)()

	in, err := prepare(o)
	if err != nil {
		return nil, err
	}
	if profiles == nil {
		profiles = append(defaultProfiles(o.Profiles, in.po.Environment), o.ExtraProfiles...)
	}
	src, details := in.src, in.details
	p, err := loader.LoadWithContext(ctx, details,
		projectName(in.po, details.WorkingDir),
		loader.WithProfiles(profiles),
		func(lo *loader.Options) {
			o.loaderOptions(lo)
			// resolved below, service by service, to name the
			// service in errors
			lo.SkipResolveEnvironment = true
			lo.SkipResolveLabels = true
		})
	if err != nil {
		return nil, loadError(err, src)
	}
	for _, s := range src {
		p.ComposeFiles = append(p.ComposeFiles, s.name)
	}
	// an optional dependency on a disabled service is no dependency: drop it
	// so the runner (and a `config` rendering loaded again) never sees it
	p = p.WithoutUnresolvedOptionalDependencies()
	if !o.AllResources {
		p = p.WithoutUnnecessaryResources()
	}
	// Keys cirun cannot run matter where it creates containers: `config`
	// prints any valid model (as docker compose does) with a warning, and
	// commands on existing containers (down after a key was added) work.
	switch err := check(p, src); {
	case err == nil || o.NoCreate:
	case o.Render:
		logrus.Warnf("%s (up, run and create refuse it)", err)
	default:
		return nil, err
	}
	if !o.NoCreate && !o.NoConsistency {
		if err := uniqueContainerNames(p, src, o.EnableServices); err != nil {
			return nil, err
		}
	}
	if o.NoResolveEnv {
		return p, nil
	}
	return resolveEnvironment(p, src, o.KeepEnvFiles)
}

// input is what loading starts from: the options docker compose's global
// flags give, the compose files read, and compose-go's ConfigDetails.
type input struct {
	po      *cli.ProjectOptions
	src     []source
	details types.ConfigDetails
}

// prepare resolves o (files, project directory, environment and env files)
// and reads the compose files.
func prepare(o Options) (*input, error) {
	po, err := projectOptions(o)
	if err != nil {
		return nil, loadError(err, nil)
	}
	if len(po.ConfigPaths) == 0 {
		return nil, &Error{Msg: "no configuration file provided: not found"}
	}
	src, err := readSources(po.ConfigPaths, o.Stdin)
	if err != nil {
		return nil, err
	}
	wd, err := po.GetWorkingDir()
	if err != nil {
		return nil, loadError(fmt.Errorf("finding the project directory: %w", err), src)
	}
	details := types.ConfigDetails{WorkingDir: wd, Environment: po.Environment}
	for _, s := range src {
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: s.name, Content: s.content})
	}
	return &input{po: po, src: src, details: details}, nil
}

// uniqueContainerNames rejects two services with the same container_name
// among the services a command works on: the ones named on the command line
// and their dependencies, or every service when none is named. docker
// compose checks the same set when it creates containers (`up test` works
// when another service shares test's container_name) and in `config`.
func uniqueContainerNames(p *types.Project, src []source, named []string) *Error {
	scope := withDependencies(p, named)
	used := map[string]string{}
	for _, name := range ServiceNames(p) {
		cn := p.Services[name].ContainerName
		if cn == "" || (scope != nil && !scope[name]) {
			continue
		}
		if other, ok := used[cn]; ok {
			return &Error{File: locate(src, "services."+name+".container_name", true), Service: name, Key: "container_name",
				Msg: fmt.Sprintf("container name %q is already in use by service %q", cn, other)}
		}
		used[cn] = name
	}
	return nil
}

// withDependencies returns names and every service they depend on,
// directly or not; nil when names is empty (meaning every service).
func withDependencies(p *types.Project, names []string) map[string]bool {
	if len(names) == 0 {
		return nil
	}
	out := map[string]bool{}
	queue := append([]string(nil), names...)
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if out[n] {
			continue
		}
		out[n] = true
		for dep := range p.Services[n].DependsOn {
			queue = append(queue, dep)
		}
	}
	return out
}

// projectOptions applies docker compose's option sequence (docker/compose
// pkg/compose/loader.go): environment, .env of the current directory,
// COMPOSE_FILE, file discovery, then the .env of the project directory, and
// the project name. Unlike compose-go's helpers it reads the environment
// from o.Environ only.
func projectOptions(o Options) (*cli.ProjectOptions, error) {
	env := utils.GetAsEqualsMap(o.Environ)
	fns := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(o.WorkingDir),
		cli.WithEnv(o.Environ),
	}
	if _, ok := env["PWD"]; !ok {
		if pwd, err := os.Getwd(); err == nil {
			fns = append(fns, cli.WithEnv([]string{"PWD=" + pwd}))
		}
	}
	envFiles, err := envFiles(o, env)
	if err != nil {
		return nil, err
	}
	fns = append(fns,
		withEnvFiles(env, envFiles),
		cli.WithDotEnv,
		cli.WithConfigFileEnv,
		cli.WithDefaultConfigPath,
		// the project directory may differ from the current one: load its
		// .env too (variables already set keep their value)
		withEnvFiles(env, envFiles),
		cli.WithDotEnv,
		cli.WithName(o.ProjectName),
	)
	return cli.NewProjectOptions(o.Files, fns...)
}

// envFiles returns --env-file, else COMPOSE_ENV_FILES, as absolute paths
// (relative ones are relative to the current directory, as in docker compose).
func envFiles(o Options, env map[string]string) ([]string, error) {
	files := o.EnvFiles
	if len(files) == 0 {
		files = strings.FieldsFunc(env["COMPOSE_ENV_FILES"], func(c rune) bool { return c == ',' })
	}
	abs := make([]string, 0, len(files))
	for _, f := range files {
		f = paths.ExpandUser(f)
		a, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("env file %s: %w", f, err)
		}
		abs = append(abs, a)
	}
	return abs, nil
}

// withEnvFiles is cli.WithEnvFiles reading COMPOSE_DISABLE_ENV_FILE from env
// instead of the process environment: explicit files, else the project
// directory's .env when it exists.
func withEnvFiles(env map[string]string, files []string) cli.ProjectOptionsFn {
	return func(po *cli.ProjectOptions) error {
		if len(files) > 0 {
			po.EnvFiles = files
			return nil
		}
		if v, ok := env[consts.ComposeDisableDefaultEnvFile]; ok {
			disable, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s=%q: %w", consts.ComposeDisableDefaultEnvFile, v, err)
			}
			if disable {
				return nil
			}
		}
		wd, err := po.GetWorkingDir()
		if err != nil {
			return err
		}
		dotEnv := filepath.Join(wd, ".env")
		fi, err := os.Stat(dotEnv)
		switch {
		case os.IsNotExist(err):
			return nil
		case err != nil:
			return err
		case !fi.IsDir():
			po.EnvFiles = []string{dotEnv}
		}
		return nil
	}
}

// defaultProfiles is cli.WithDefaultProfiles: the --profile flags, else
// COMPOSE_PROFILES.
func defaultProfiles(flags []string, env types.Mapping) []string {
	if len(flags) > 0 {
		return flags
	}
	var profiles []string
	for _, s := range strings.Split(env[consts.ComposeProfiles], ",") {
		profiles = append(profiles, strings.TrimSpace(s))
	}
	return profiles
}

// projectName sets the project name with docker compose's precedence: -p,
// COMPOSE_PROJECT_NAME (both must be valid names), then the top-level name:
// of the files (normalized; compose-go reads it itself), then the project
// directory's base name, normalized.
func projectName(po *cli.ProjectOptions, wd string) func(*loader.Options) {
	return func(lo *loader.Options) {
		switch {
		case po.Name != "":
			lo.SetProjectName(po.Name, true)
		case po.Environment[consts.ComposeProjectName] != "":
			lo.SetProjectName(po.Environment[consts.ComposeProjectName], true)
		default:
			lo.SetProjectName(loader.NormalizeProjectName(filepath.Base(wd)), false)
		}
	}
}

// readSources reads the compose files; "-" reads stdin (once, however many
// times it is named).
func readSources(names []string, stdin io.Reader) ([]source, error) {
	var (
		src       []source
		stdinData []byte
		stdinRead bool
	)
	for _, name := range names {
		if name == "-" {
			if !stdinRead {
				if stdin == nil {
					return nil, &Error{File: StdinName, Msg: "no standard input to read the compose file from"}
				}
				b, err := io.ReadAll(stdin)
				if err != nil {
					return nil, &Error{File: StdinName, Msg: err.Error(), Err: err}
				}
				stdinData, stdinRead = b, true
			}
			src = append(src, source{name: "-", content: nonNil(stdinData)})
			continue
		}
		abs, err := filepath.Abs(name)
		if err != nil {
			return nil, &Error{File: name, Msg: err.Error(), Err: err}
		}
		b, err := os.ReadFile(abs)
		if err != nil {
			if fi, serr := os.Stat(abs); serr == nil && fi.IsDir() {
				return nil, &Error{File: abs, Msg: "is a directory, not a compose file", Err: err}
			}
			return nil, loadError(err, nil)
		}
		src = append(src, source{name: abs, content: nonNil(b)})
	}
	return src, nil
}

// nonNil makes sure compose-go sees content (nil would make it read the file
// again by name).
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// profilesEnabling returns the active profiles of p plus those that enable
// the named services and, transitively, the services they require.
func profilesEnabling(p *types.Project, names []string) ([]string, error) {
	all := p.AllServices()
	for _, n := range names {
		if _, ok := all[n]; !ok {
			file := ""
			if len(p.ComposeFiles) > 0 {
				file = displayName(p.ComposeFiles[0])
			}
			return nil, &Error{File: file, Msg: "no such service: " + n} // docker compose's words, unquoted
		}
	}
	queue := names
	for len(queue) > 0 {
		var err error
		p, err = p.WithServicesEnabled(queue...)
		if err != nil {
			return nil, fmt.Errorf("enabling services %s: %w", strings.Join(queue, ", "), err)
		}
		queue = nil
		for _, name := range ServiceNames(p) {
			for dep, d := range p.Services[name].DependsOn {
				if _, disabled := p.DisabledServices[dep]; disabled && d.Required {
					queue = append(queue, dep)
				}
			}
		}
		slices.Sort(queue)
		queue = slices.Compact(queue)
	}
	return p.Profiles, nil
}

// resolveEnvironment folds each service's env_file into its environment and
// drops env_file, as docker compose does before creating containers, and its
// label_file into its labels (label_file stays, as in docker compose). With
// keepEnvFiles, env files are not read and env_file stays.
func resolveEnvironment(p *types.Project, src []source, keepEnvFiles bool) (*types.Project, error) {
	services := types.Services{}
	for _, name := range ServiceNames(p) {
		one := &types.Project{
			Name:        p.Name,
			Services:    types.Services{name: p.Services[name]},
			Environment: p.Environment,
		}
		if !keepEnvFiles {
			var err error
			if one, err = one.WithServicesEnvironmentResolved(true); err != nil {
				path := "services." + name + ".env_file"
				return nil, &Error{File: locate(src, path, true), Service: name, Key: "env_file",
					Msg: envFileMsg(err), Err: err}
			}
		}
		// label_file is kept in the model, as docker compose prints it
		resolved, err := one.WithServicesLabelsResolved(false)
		if err != nil {
			path := "services." + name + ".label_file"
			return nil, &Error{File: locate(src, path, true), Service: name, Key: "label_file",
				Msg: envFileMsg(err), Err: err}
		}
		services[name] = resolved.Services[name]
	}
	out := *p
	out.Services = services
	return &out, nil
}

// envFileMsg shortens compose-go's "env file X not found: stat X: no such
// file or directory" to "env file X not found" (and "label file X ..." alike).
func envFileMsg(err error) string {
	msg := err.Error()
	if before, _, ok := strings.Cut(msg, " not found: "); ok {
		return before + " not found"
	}
	return msg
}
