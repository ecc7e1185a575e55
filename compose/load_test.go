package compose

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// testdataDir is the absolute path of testdata, computed before any test
// changes the current directory.
var testdataDir = func() string {
	p, err := filepath.Abs("testdata")
	if err != nil {
		panic(err)
	}
	return p
}()

// testdata returns the absolute path of a fixture.
func testdata(t *testing.T, elem ...string) string {
	t.Helper()
	return filepath.Join(append([]string{testdataDir}, elem...)...)
}

// loadT loads with a hermetic environment (o.Environ as given, PWD pinned)
// and returns the project, the warnings and the error.
func loadT(t *testing.T, o Options) (*types.Project, string, error) {
	t.Helper()
	var warn bytes.Buffer
	o.Warn = &warn
	o.Environ = append([]string{"PWD=/nonexistent-pwd"}, o.Environ...)
	p, err := Load(context.Background(), o)
	// the counter is seconds since the process started: pin it
	warnings := warnClock.ReplaceAllString(warn.String(), "[0000]")
	if err != nil {
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("Load error is %T, not *compose.Error: %v", err, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("Load error is not one line: %q", err)
		}
	}
	return p, warnings, err
}

var warnClock = regexp.MustCompile(`\[\d{4}\]`)

func mustLoad(t *testing.T, o Options) (*types.Project, string) {
	t.Helper()
	p, warn, err := loadT(t, o)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p, warn
}

func env(t *testing.T, p *types.Project, service, key string) string {
	t.Helper()
	s, ok := p.Services[service]
	if !ok {
		t.Fatalf("no service %q in %v", service, ServiceNames(p))
	}
	v, ok := s.Environment[key]
	if !ok || v == nil {
		return "<unset>"
	}
	return *v
}

func TestDiscovery(t *testing.T) {
	tests := []struct {
		name     string
		chdir    string // current directory, under testdata
		workDir  string // --project-directory, under testdata
		files    []string
		environ  []string
		wantFile []string // expected ComposeFiles, under testdata
		wantSvcs []string
		wantName string
	}{{
		name:     "compose.yaml and its override in the current directory",
		chdir:    "discovery",
		wantFile: []string{"discovery/compose.yaml", "discovery/compose.override.yaml"},
		wantSvcs: []string{"app", "extra"},
		wantName: "discovery",
	}, {
		name:     "parent directories are searched",
		chdir:    "discovery/sub/deeper",
		wantFile: []string{"discovery/compose.yaml", "discovery/compose.override.yaml"},
		wantSvcs: []string{"app", "extra"},
		wantName: "discovery",
	}, {
		name:     "project directory is searched instead of the current one",
		chdir:    "multi",
		workDir:  "discovery",
		wantFile: []string{"discovery/compose.yaml", "discovery/compose.override.yaml"},
		wantSvcs: []string{"app", "extra"},
		wantName: "discovery",
	}, {
		name:     "compose.yaml wins over docker-compose.yml",
		chdir:    "candidates",
		wantFile: []string{"candidates/compose.yaml"},
		wantSvcs: []string{"winner"},
		wantName: "candidates",
	}, {
		name:     "docker-compose.yml with docker-compose.override.yml",
		chdir:    "legacy",
		wantFile: []string{"legacy/docker-compose.yml", "legacy/docker-compose.override.yml"},
		wantSvcs: []string{"old"},
		wantName: "legacy",
	}, {
		name:     "-f disables discovery and the override file",
		chdir:    "discovery",
		files:    []string{"compose.yaml"},
		wantFile: []string{"discovery/compose.yaml"},
		wantSvcs: []string{"app"},
		wantName: "discovery",
	}, {
		name:     "COMPOSE_FILE lists files with the path separator",
		chdir:    "multi",
		environ:  []string{"COMPOSE_FILE=base.yaml:ci.yaml"},
		wantFile: []string{"multi/base.yaml", "multi/ci.yaml"},
		wantSvcs: []string{"app", "tests"},
		wantName: "multi",
	}, {
		name:     "COMPOSE_PATH_SEPARATOR changes the separator",
		chdir:    "multi",
		environ:  []string{"COMPOSE_FILE=base.yaml;ci.yaml", "COMPOSE_PATH_SEPARATOR=;"},
		wantFile: []string{"multi/base.yaml", "multi/ci.yaml"},
		wantSvcs: []string{"app", "tests"},
		wantName: "multi",
	}, {
		name:     "-f wins over COMPOSE_FILE",
		chdir:    "multi",
		files:    []string{"base.yaml"},
		environ:  []string{"COMPOSE_FILE=ci.yaml"},
		wantFile: []string{"multi/base.yaml"},
		wantSvcs: []string{"app"},
		wantName: "multi",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Options{Files: tt.files, Environ: tt.environ}
			if tt.workDir != "" {
				o.WorkingDir = testdata(t, tt.workDir)
			}
			t.Chdir(testdata(t, tt.chdir))
			p, _ := mustLoad(t, o)
			var want []string
			for _, f := range tt.wantFile {
				want = append(want, testdata(t, f))
			}
			if !slices.Equal(p.ComposeFiles, want) {
				t.Errorf("ComposeFiles = %v, want %v", p.ComposeFiles, want)
			}
			if got := ServiceNames(p); !slices.Equal(got, tt.wantSvcs) {
				t.Errorf("services = %v, want %v", got, tt.wantSvcs)
			}
			if p.Name != tt.wantName {
				t.Errorf("name = %q, want %q", p.Name, tt.wantName)
			}
		})
	}
}

func TestDiscoveryOverrideMerged(t *testing.T) {
	t.Chdir(testdata(t, "discovery", "sub"))
	p, _ := mustLoad(t, Options{})
	if got := env(t, p, "app", "FROM"); got != "override" {
		t.Errorf("FROM = %q, want the override's value", got)
	}
	if p.WorkingDir != testdata(t, "discovery") {
		t.Errorf("WorkingDir = %q, want the directory of the file found", p.WorkingDir)
	}
}

func TestNoComposeFile(t *testing.T) {
	dir := t.TempDir()
	for d := dir; ; d = filepath.Dir(d) {
		for _, n := range []string{"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"} {
			if _, err := os.Stat(filepath.Join(d, n)); err == nil {
				t.Skipf("%s exists above the temporary directory", filepath.Join(d, n))
			}
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	t.Chdir(dir)
	_, _, err := loadT(t, Options{})
	if err == nil || err.Error() != "no configuration file provided: not found" {
		t.Fatalf("err = %v, want docker compose's message", err)
	}
}

func TestMultipleFiles(t *testing.T) {
	p, _ := mustLoad(t, Options{Files: []string{testdata(t, "multi", "base.yaml"), testdata(t, "multi", "ci.yaml")}})
	app := p.Services["app"]
	if app.Image != "localhost/app:ci" {
		t.Errorf("image = %q, want the later file's", app.Image)
	}
	if got := env(t, p, "app", "A"); got != "base" {
		t.Errorf("A = %q, want base (kept from the first file)", got)
	}
	if got := env(t, p, "app", "B"); got != "ci" {
		t.Errorf("B = %q, want ci (overridden)", got)
	}
	if !slices.Equal(app.Command, types.ShellCommand{"serve"}) {
		t.Errorf("command = %v, want [serve]", app.Command)
	}
	if len(app.Ports) != 2 {
		t.Errorf("ports = %v, want both files' ports (lists are appended)", app.Ports)
	}
	if _, ok := p.Services["tests"].DependsOn["app"]; !ok {
		t.Errorf("tests.depends_on = %v, want app", p.Services["tests"].DependsOn)
	}
	if p.WorkingDir != testdata(t, "multi") {
		t.Errorf("WorkingDir = %q, want the first file's directory", p.WorkingDir)
	}
}

func TestStdin(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	yaml := "services:\n  app:\n    image: localhost/app:${TAG:-latest}\n    volumes: [./data:/data]\n"
	p, _ := mustLoad(t, Options{Files: []string{"-"}, Stdin: strings.NewReader(yaml), ProjectName: "fromstdin"})
	if got := p.Services["app"].Image; got != "localhost/app:latest" {
		t.Errorf("image = %q", got)
	}
	if !slices.Equal(p.ComposeFiles, []string{"-"}) {
		t.Errorf("ComposeFiles = %v, want [-]", p.ComposeFiles)
	}
	// relative paths of a file from stdin are relative to the current directory
	if got := p.Services["app"].Volumes[0].Source; got != filepath.Join(dir, "data") {
		t.Errorf("volume source = %q, want it under the current directory %s", got, dir)
	}

	t.Run("merged with a file", func(t *testing.T) {
		override := "services:\n  app:\n    image: localhost/app:stdin\n"
		p, _ := mustLoad(t, Options{
			Files: []string{testdata(t, "multi", "base.yaml"), "-"},
			Stdin: strings.NewReader(override),
		})
		if got := p.Services["app"].Image; got != "localhost/app:stdin" {
			t.Errorf("image = %q, want stdin's override", got)
		}
		if p.Name != "multi" {
			t.Errorf("name = %q, want the first file's directory name", p.Name)
		}
	})
	t.Run("no stdin", func(t *testing.T) {
		_, _, err := loadT(t, Options{Files: []string{"-"}})
		if err == nil || !strings.HasPrefix(err.Error(), StdinName+": ") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestProjectName(t *testing.T) {
	dirFile := testdata(t, "names", "My_Project.Dir", "compose.yaml")
	namedFile := testdata(t, "names", "named", "compose.yaml")
	tests := []struct {
		name    string
		file    string
		flag    string
		environ []string
		envFile string // content of a .env in a temporary project directory
		want    string
		wantErr string
	}{
		{name: "directory name, normalized", file: dirFile, want: "my_projectdir"},
		{name: "name: in the file, normalized", file: namedFile, want: "from-yaml"},
		{name: "COMPOSE_PROJECT_NAME wins over name:", file: namedFile, environ: []string{"COMPOSE_PROJECT_NAME=from-env"}, want: "from-env"},
		{name: "-p wins over COMPOSE_PROJECT_NAME", file: namedFile, flag: "from-flag", environ: []string{"COMPOSE_PROJECT_NAME=from-env"}, want: "from-flag"},
		{name: "COMPOSE_PROJECT_NAME from .env", envFile: "COMPOSE_PROJECT_NAME=from-dotenv\n", want: "from-dotenv"},
		{name: "empty COMPOSE_PROJECT_NAME is ignored", file: dirFile, environ: []string{"COMPOSE_PROJECT_NAME="}, want: "my_projectdir"},
		{name: "invalid -p", file: dirFile, flag: "Bad Name", wantErr: `invalid project name "Bad Name"`},
		{name: "invalid COMPOSE_PROJECT_NAME", file: dirFile, environ: []string{"COMPOSE_PROJECT_NAME=UPPER"}, wantErr: `invalid project name "UPPER"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if tt.envFile != "" {
				dir := t.TempDir()
				file = filepath.Join(dir, "compose.yaml")
				writeFile(t, file, "services:\n  app:\n    image: localhost/app\n")
				writeFile(t, filepath.Join(dir, ".env"), tt.envFile)
			}
			p, _, err := loadT(t, Options{Files: []string{file}, ProjectName: tt.flag, Environ: tt.environ})
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tt.want {
				t.Errorf("name = %q, want %q", p.Name, tt.want)
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestProfiles(t *testing.T) {
	file := testdata(t, "profiles", "compose.yaml")
	tests := []struct {
		name     string
		profiles []string
		environ  []string
		extra    []string
		enable   []string
		want     []string
		wantErr  string
	}{
		{name: "no profile", want: []string{"app"}},
		{name: "--profile", profiles: []string{"debug"}, want: []string{"app", "debug"}},
		{name: "several --profile", profiles: []string{"debug", "db"}, want: []string{"app", "db", "debug"}},
		{name: "COMPOSE_PROFILES", environ: []string{"COMPOSE_PROFILES=debug, db"}, want: []string{"app", "db", "debug"}},
		{name: "--profile ignores COMPOSE_PROFILES", profiles: []string{"db"}, environ: []string{"COMPOSE_PROFILES=debug"}, want: []string{"app", "db"}},
		{name: "extra profiles add to COMPOSE_PROFILES", environ: []string{"COMPOSE_PROFILES=db"}, extra: []string{"debug"}, want: []string{"app", "db", "debug"}},
		{name: "extra profiles add to --profile", profiles: []string{"db"}, extra: []string{"debug"}, want: []string{"app", "db", "debug"}},
		{name: "profile *", profiles: []string{"*"}, want: []string{"app", "cache", "db", "debug", "lint", "tests"}},
		{
			name:   "named service enabled with the services it requires",
			enable: []string{"tests"},
			// tests' profile (test) brings lint; db is required; cache is optional
			want: []string{"app", "db", "lint", "tests"},
		},
		{name: "enabled service already active", profiles: []string{"debug"}, enable: []string{"debug"}, want: []string{"app", "debug"}},
		{name: "enabling a service without profile", enable: []string{"app"}, want: []string{"app"}},
		{name: "unknown service", enable: []string{"nope"}, wantErr: file + `: no such service: nope`},
		{
			name:     "active profile requiring an inactive one",
			profiles: []string{"test"},
			wantErr:  file + `: services.tests.depends_on: service "tests" depends on undefined service "db"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, err := loadT(t, Options{Files: []string{file}, Profiles: tt.profiles, ExtraProfiles: tt.extra, Environ: tt.environ, EnableServices: tt.enable})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ServiceNames(p); !slices.Equal(got, tt.want) {
				t.Errorf("services = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnabledServiceDependencies(t *testing.T) {
	p, _ := mustLoad(t, Options{Files: []string{testdata(t, "profiles", "compose.yaml")}, EnableServices: []string{"tests"}})
	deps := p.Services["tests"].DependsOn
	if _, ok := deps["db"]; !ok {
		t.Errorf("depends_on = %v, want db", deps)
	}
	if _, ok := deps["cache"]; ok {
		t.Errorf("depends_on = %v, want the optional dependency on disabled cache dropped", deps)
	}
	if got := deps["db"].Condition; got != types.ServiceConditionHealthy {
		t.Errorf("db condition = %q", got)
	}
}

func TestDotEnvComposeSettings(t *testing.T) {
	// COMPOSE_* variables of the current directory's .env act like the
	// process environment's
	t.Chdir(testdata(t, "dotenv_settings"))
	p, _ := mustLoad(t, Options{})
	if got := ServiceNames(p); !slices.Equal(got, []string{"app", "extra"}) {
		t.Errorf("services = %v, want COMPOSE_FILE and COMPOSE_PROFILES from .env applied", got)
	}
	if p.Name != "from-dotenv" {
		t.Errorf("name = %q", p.Name)
	}
	// the process environment wins over .env
	p, _ = mustLoad(t, Options{Environ: []string{"COMPOSE_PROFILES=", "COMPOSE_PROJECT_NAME=proc"}})
	if got := ServiceNames(p); !slices.Equal(got, []string{"app"}) || p.Name != "proc" {
		t.Errorf("services = %v, name = %q", got, p.Name)
	}
}

func TestTestServices(t *testing.T) {
	p, _ := mustLoad(t, Options{Files: []string{testdata(t, "profiles", "compose.yaml")}})
	if got := TestServices(p); !slices.Equal(got, []string{"lint", "tests"}) {
		t.Errorf("TestServices = %v, want [lint tests] (disabled ones included)", got)
	}
	if got := ServiceNames(p); !slices.Equal(got, []string{"app"}) {
		t.Errorf("ServiceNames = %v, want the enabled ones only", got)
	}
}

func TestEnvFiles(t *testing.T) {
	dir := testdata(t, "envfiles")
	file := filepath.Join(dir, "compose.yaml")
	tests := []struct {
		name     string
		envFiles []string
		environ  []string
		want     [4]string // TAG A B C
	}{
		{name: ".env of the project directory", want: [4]string{"dotenv", "dotenv", "dotenv", ""}},
		{name: "process environment wins over .env", environ: []string{"A=process"}, want: [4]string{"dotenv", "process", "dotenv", ""}},
		{name: "--env-file replaces .env", envFiles: []string{filepath.Join(dir, "other.env")}, want: [4]string{"", "", "other", "other"}},
		{
			name:     "several --env-file, later wins",
			envFiles: []string{filepath.Join(dir, ".env"), filepath.Join(dir, "other.env"), filepath.Join(dir, "third.env")},
			want:     [4]string{"dotenv", "dotenv", "other", "third"},
		},
		{name: "COMPOSE_ENV_FILES", environ: []string{"COMPOSE_ENV_FILES=" + filepath.Join(dir, "other.env") + "," + filepath.Join(dir, "third.env")}, want: [4]string{"", "", "other", "third"}},
		{
			name:     "--env-file wins over COMPOSE_ENV_FILES",
			envFiles: []string{filepath.Join(dir, "third.env")},
			environ:  []string{"COMPOSE_ENV_FILES=" + filepath.Join(dir, "other.env")},
			want:     [4]string{"", "", "", "third"},
		},
		{name: "COMPOSE_DISABLE_ENV_FILE", environ: []string{"COMPOSE_DISABLE_ENV_FILE=1"}, want: [4]string{"", "", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := mustLoad(t, Options{Files: []string{file}, EnvFiles: tt.envFiles, Environ: tt.environ})
			tag := strings.TrimPrefix(p.Services["app"].Image, "localhost/app:")
			got := [4]string{tag, env(t, p, "app", "A"), env(t, p, "app", "B"), env(t, p, "app", "C")}
			if got != tt.want {
				t.Errorf("TAG A B C = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("relative --env-file is relative to the current directory", func(t *testing.T) {
		t.Chdir(dir)
		p, _ := mustLoad(t, Options{Files: []string{file}, EnvFiles: []string{"third.env"}})
		if got := env(t, p, "app", "C"); got != "third" {
			t.Errorf("C = %q", got)
		}
	})
	t.Run(".env of the current directory when no -f", func(t *testing.T) {
		t.Chdir(dir)
		p, _ := mustLoad(t, Options{})
		if got := env(t, p, "app", "A"); got != "dotenv" {
			t.Errorf("A = %q", got)
		}
	})
	t.Run("missing --env-file", func(t *testing.T) {
		missing := filepath.Join(dir, "missing.env")
		_, _, err := loadT(t, Options{Files: []string{file}, EnvFiles: []string{missing}})
		if err == nil || err.Error() != "couldn't find env file: "+missing {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestInterpolation(t *testing.T) {
	p, warn := mustLoad(t, Options{
		Files:   []string{testdata(t, "interpolation", "compose.yaml")},
		Environ: []string{"SET=value", "EMPTY="},
	})
	want := map[string]string{
		"PLAIN":         "value",
		"BRACED":        "value",
		"UNSET":         "",
		"DEFAULT_UNSET": "fallback",
		"DEFAULT_EMPTY": "fallback",
		"DASH_EMPTY":    "",
		"DASH_UNSET":    "fallback",
		"PLUS_SET":      "alternate",
		"PLUS_EMPTY":    "",
		"NESTED":        "value",
		"ESCAPED":       "$SET",
		"REQUIRED":      "value",
	}
	for k, v := range want {
		if got := env(t, p, "app", k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	wantWarn := "WARN[0000] The \"UNSET_VAR\" variable is not set. Defaulting to a blank string.\n"
	if warn != wantWarn {
		t.Errorf("warnings = %q, want exactly %q", warn, wantWarn)
	}

	t.Run("required variable missing", func(t *testing.T) {
		file := testdata(t, "interpolation", "compose.yaml")
		_, _, err := loadT(t, Options{Files: []string{file}, Environ: []string{"EMPTY="}})
		want := file + ": services.app.environment.REQUIRED: required variable SET is missing a value: must be set"
		if err == nil || err.Error() != want {
			t.Fatalf("err = %v\nwant  %s", err, want)
		}
	})
}

func TestWarningsNotOnStdout(t *testing.T) {
	// capture the real stdout: warnings must never go there
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	_, warn, lerr := loadT(t, Options{Files: []string{testdata(t, "interpolation", "compose.yaml")}, Environ: []string{"SET=1"}})
	os.Stdout = stdout
	w.Close()
	out, _ := io.ReadAll(r)
	if lerr != nil {
		t.Fatal(lerr)
	}
	if len(out) != 0 {
		t.Errorf("stdout got %q", out)
	}
	if !strings.Contains(warn, "UNSET_VAR") {
		t.Errorf("warnings = %q", warn)
	}
}

func TestWarningsLeaveLogrusAsFound(t *testing.T) {
	l := logrus.StandardLogger()
	var mine bytes.Buffer
	out, level := l.Out, l.GetLevel()
	l.SetOutput(&mine)
	l.SetLevel(logrus.ErrorLevel)
	defer func() { l.SetOutput(out); l.SetLevel(level) }()

	_, warn, err := loadT(t, Options{Files: []string{testdata(t, "interpolation", "compose.yaml")}, Environ: []string{"SET=1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn, "UNSET_VAR") {
		t.Errorf("warning lost with the global level at error: %q", warn)
	}
	if l.Out != &mine || l.GetLevel() != logrus.ErrorLevel {
		t.Errorf("logrus not restored: out %v level %v", l.Out, l.GetLevel())
	}
	logrus.Error("after")
	if !strings.Contains(mine.String(), "after") || strings.Contains(mine.String(), "UNSET_VAR") {
		t.Errorf("global logger output = %q", mine.String())
	}
	// nil Warn discards
	if _, err := Load(context.Background(), Options{Files: []string{testdata(t, "interpolation", "compose.yaml")}, Environ: []string{"SET=1"}}); err != nil {
		t.Fatal(err)
	}
}

func TestEnvFileRequired(t *testing.T) {
	dir := testdata(t, "envfile_optional")
	p, _ := mustLoad(t, Options{Files: []string{filepath.Join(dir, "compose.yaml")}})
	app := p.Services["app"]
	if got := env(t, p, "app", "PRESENT"); got != "yes" {
		t.Errorf("PRESENT = %q", got)
	}
	if got := env(t, p, "app", "OVERRIDE"); got != "from-environment" {
		t.Errorf("OVERRIDE = %q, want environment to win over env_file", got)
	}
	if app.EnvFiles != nil {
		t.Errorf("env_file = %v, want it folded into environment", app.EnvFiles)
	}

	file := testdata(t, "envfile_required", "compose.yaml")
	_, _, err := loadT(t, Options{Files: []string{file}})
	want := file + ": services.app.env_file: env file " + testdata(t, "envfile_required", "missing.env") + " not found"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  string // %s is the first file
	}{
		{name: "YAML syntax error", files: []string{"err_syntax/compose.yaml"},
			want: "%s: yaml: while parsing a block mapping at line 1, column 3: line 3, column 4: did not find expected key"},
		{name: "unknown service in depends_on", files: []string{"err_depends_on/compose.yaml"},
			want: `%s: services.app.depends_on: service "app" depends on undefined service "nope"`},
		{name: "key cirun does not implement", files: []string{"err_unsupported/compose.yaml"},
			want: "%s: services.app.build.entitlements: not supported by cirun yet"},
		{name: "invalid value type", files: []string{"err_type/compose.yaml"},
			want: "%s: services.app.ports must be a array"},
		{name: "missing file", files: []string{"err_missing/compose.yaml"},
			want: "%s: no such file or directory"},
		{name: "duplicate container_name", files: []string{"err_container_name/compose.yaml"},
			want: `%s: services.b.container_name: container name "same" is already in use by service "a"`},
		{name: "directory instead of a file", files: []string{"err_syntax"},
			want: "%s: is a directory, not a compose file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var files []string
			for _, f := range tt.files {
				files = append(files, testdata(t, f))
			}
			_, _, err := loadT(t, Options{Files: files})
			want := strings.ReplaceAll(tt.want, "%s", files[0])
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v\nwant  %s", err, want)
			}
		})
	}
}

func TestUnsupportedInOverrideNamesOverride(t *testing.T) {
	dir := testdata(t, "err_override_unsupported")
	_, _, err := loadT(t, Options{WorkingDir: dir})
	want := filepath.Join(dir, "compose.override.yaml") + ": services.app.uts: not supported by cirun yet"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	var ce *Error
	if !errors.As(err, &ce) || ce.Service != "app" || ce.Key != "uts" || ce.Msg != MsgUnsupported {
		t.Errorf("fields = %+v", ce)
	}
}

func TestErrorFields(t *testing.T) {
	file := testdata(t, "err_unsupported", "compose.yaml")
	_, _, err := loadT(t, Options{Files: []string{file}})
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	want := &Error{File: file, Service: "app", Key: "build.entitlements", Msg: MsgUnsupported}
	if !reflect.DeepEqual(ce, want) {
		t.Errorf("error = %+v, want %+v", ce, want)
	}
}

// A shared container_name is an error only among the services a command
// creates (those named and their dependencies, or all), and never for a
// command that creates nothing: docker compose's `up test` and `down` work
// where plain `up` fails.
func TestLoadContainerNameScope(t *testing.T) {
	file := testdata(t, "container_name_scope", "compose.yaml")
	want := file + `: services.b.container_name: container name "same" is already in use by service "a"`
	tests := []struct {
		enable   []string
		noCreate bool
		wantErr  bool
	}{
		{nil, false, true},
		{[]string{"a"}, false, false},
		{[]string{"b"}, false, false},
		{[]string{"c"}, false, false},
		{[]string{"a", "c"}, false, true}, // c brings b
		{nil, true, false},
	}
	for _, tt := range tests {
		_, _, err := loadT(t, Options{Files: []string{file}, EnableServices: tt.enable, NoCreate: tt.noCreate})
		switch {
		case tt.wantErr && (err == nil || err.Error() != want):
			t.Errorf("services %q: err = %v, want %s", tt.enable, err, want)
		case !tt.wantErr && err != nil:
			t.Errorf("services %q, NoCreate %v: %v", tt.enable, tt.noCreate, err)
		}
	}
}

// env_file format raw (docker compose's, registered by the CLI): values as
// written, quotes and $ kept; a bare KEY comes from the environment.
func TestLoadEnvFileRaw(t *testing.T) {
	p, _ := mustLoad(t, Options{Files: []string{testdata(t, "env_raw", "compose.yaml")}, Environ: []string{"FROM_ENV=x", "VALUE=nope"}})
	env := p.Services["app"].Environment
	want := map[string]string{"JSON": `'{"key": "$VALUE"}'`, "SPACED": "a b  ", "FROM_ENV": "x"}
	for k, v := range want {
		if got := env[k]; got == nil || *got != v {
			t.Errorf("%s = %v, want %q", k, got, v)
		}
	}
	if _, ok := env["MISSING"]; ok {
		t.Errorf("MISSING (unset, no value) is in the environment: %v", env)
	}
	if len(env) != len(want) {
		t.Errorf("environment %v, want only %v", env, want)
	}

	file := testdata(t, "err_env_raw", "compose.yaml")
	_, _, err := loadT(t, Options{Files: []string{file}})
	if err == nil || !strings.HasPrefix(err.Error(), file+": services.app.env_file: ") || !strings.Contains(err.Error(), "variable 'BAD KEY' contains whitespaces") {
		t.Errorf("bad raw env file: %v", err)
	}
}

// A key cirun cannot run fails the commands that create containers, is a
// warning for `config` (Render), which prints the model as docker compose
// does, and does not concern commands on existing containers (NoCreate).
func TestLoadUnsupportedKeyByCommand(t *testing.T) {
	f := filepath.Join(t.TempDir(), "compose.yaml")
	writeFile(t, f, "services:\n  web:\n    image: busybox\n    deploy:\n      placement:\n        constraints: [node.role == manager]\n")
	if _, _, err := loadT(t, Options{Files: []string{f}}); err == nil || !strings.Contains(err.Error(), "services.web.deploy.placement: not supported") {
		t.Errorf("load for up: %v, want the unsupported-key error", err)
	}
	p, warn, err := loadT(t, Options{Files: []string{f}, Render: true})
	if err != nil || p.Services["web"].Deploy == nil || p.Services["web"].Deploy.Placement.Constraints[0] != "node.role == manager" {
		t.Fatalf("load for config: %v, want the project with its placement", err)
	}
	if !strings.Contains(warn, "WARN[") || !strings.Contains(warn, "services.web.deploy.placement: not supported") {
		t.Errorf("load for config warned %q, want the unsupported key named", warn)
	}
	if _, warn, err := loadT(t, Options{Files: []string{f}, NoCreate: true}); err != nil || warn != "" {
		t.Errorf("load for down: %v, warnings %q; want neither", err, warn)
	}
}

// label_file is folded into labels (labels win) and kept in the model; a
// missing one is docker compose's "label file X not found", naming the
// service, not a bare "no such file or directory".
func TestLabelFile(t *testing.T) {
	p, _ := mustLoad(t, Options{Files: []string{testdata(t, "labelfile", "compose.yaml")}})
	app := p.Services["app"]
	if app.Labels["a"] != "from-file" || app.Labels["b"] != "from-labels" {
		t.Errorf("labels = %v, want a from the file and b from labels", app.Labels)
	}
	if len(app.LabelFiles) != 1 {
		t.Errorf("label_file = %v, want it kept", app.LabelFiles)
	}

	file := testdata(t, "labelfile_missing", "compose.yaml")
	_, _, err := loadT(t, Options{Files: []string{file}})
	want := file + ": services.app.label_file: label file " + testdata(t, "labelfile_missing", "missing.labels") + " not found"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
}

// KeepEnvFiles (config's name listings) reads no env file: a missing one is
// no error and env_file stays in the model.
func TestKeepEnvFiles(t *testing.T) {
	p, _ := mustLoad(t, Options{Files: []string{testdata(t, "envfile_required", "compose.yaml")}, KeepEnvFiles: true})
	if got := p.Services["app"].EnvFiles; len(got) != 1 {
		t.Errorf("env_file = %v, want it kept unread", got)
	}
}
