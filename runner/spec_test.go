package runner

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/compose"
	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
)

// specOf translates one service of p.
func specOf(t *testing.T, p *types.Project, name string, shared map[string]string) *engine.ContainerSpec {
	t.Helper()
	spec, err := containerSpec(specInput{Project: p, Service: p.Services[name], Number: 1, Name: p.Name + "-" + name + "-1",
		Image: "img", FilesDir: filepath.Join(t.TempDir(), "files"), Shared: shared})
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func project1(s types.ServiceConfig) *types.Project {
	if s.Name == "" {
		s.Name = "app"
	}
	s.Image = "img"
	return &types.Project{Name: "p", WorkingDir: "/tmp", Services: types.Services{s.Name: s},
		Environment: types.Mapping{}, Secrets: types.Secrets{}, Configs: types.Configs{}}
}

func mode(m types.FileMode) *types.FileMode { return &m }

func TestFileMountsSourcesTargetsAndOwnership(t *testing.T) {
	dir := t.TempDir()
	hostFile := filepath.Join(dir, "host.txt")
	if err := os.WriteFile(hostFile, []byte("from-file"), 0o640); err != nil {
		t.Fatal(err)
	}
	var svc types.ServiceConfig
	svc.Secrets = []types.ServiceSecretConfig{
		{Source: "env"},
		{Source: "env", Target: "renamed", UID: "1005", GID: "1006", Mode: mode(0o440)},
		{Source: "file"},
		{Source: "file", Target: "/etc/abs", Mode: mode(0o400)},
	}
	svc.Configs = []types.ServiceConfigObjConfig{
		{Source: "inline"},
		{Source: "inline", Target: "etc/app.conf"},
	}
	p := project1(svc)
	p.Environment["SECRET"] = "BAR"
	p.Secrets["env"] = types.SecretConfig{Name: "p_env", Environment: "SECRET"}
	p.Secrets["file"] = types.SecretConfig{Name: "p_file", File: hostFile}
	p.Configs["inline"] = types.ConfigObjConfig{Name: "p_inline", Content: "key=value\n"}

	filesDir := filepath.Join(dir, "files")
	mounts, err := fileMounts(p, p.Services["app"], filesDir)
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		target, content string
		mode            os.FileMode
		live            bool // the host file itself
	}
	wants := []want{
		{"/run/secrets/env", "BAR", 0o444, false},
		{"/run/secrets/renamed", "BAR", 0o440, false},
		{"/run/secrets/file", "from-file", 0o640, true},
		{"/etc/abs", "from-file", 0o400, false},
		{"/inline", "key=value\n", 0o444, false},
		{"/etc/app.conf", "key=value\n", 0o444, false},
	}
	if len(mounts) != len(wants) {
		t.Fatalf("mounts %+v, want %d", mounts, len(wants))
	}
	for i, w := range wants {
		m := mounts[i]
		if m.Type != engine.MountBind || !m.ReadOnly || m.Target != w.target {
			t.Errorf("mount %d = %+v, want a read-only bind at %s", i, m, w.target)
		}
		if w.live != (m.Source == hostFile) {
			t.Errorf("mount %d source %s (live %v)", i, m.Source, w.live)
		}
		if !w.live && !strings.HasPrefix(m.Source, filepath.Join(filesDir, "app")+"/") {
			t.Errorf("mount %d source %s, want under %s/app", i, m.Source, filesDir)
		}
		b, err := os.ReadFile(m.Source)
		if err != nil || string(b) != w.content {
			t.Errorf("mount %d content %q, %v; want %q", i, b, err, w.content)
		}
		st, err := os.Stat(m.Source)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != w.mode {
			t.Errorf("mount %d mode %o, want %o", i, st.Mode().Perm(), w.mode)
		}
	}
	st, _ := os.Stat(mounts[1].Source)
	sys := st.Sys().(*syscall.Stat_t)
	if os.Geteuid() == 0 && (sys.Uid != 1005 || sys.Gid != 1006) {
		t.Errorf("owner %d:%d, want 1005:1006", sys.Uid, sys.Gid)
	}
	st, _ = os.Stat(mounts[0].Source)
	if sys := st.Sys().(*syscall.Stat_t); int(sys.Uid) != os.Geteuid() {
		t.Errorf("owner of a secret without uid: %d, want cirun's own %d", sys.Uid, os.Geteuid())
	}

	// The whole project's files go with removeProjectFiles.
	r := New(fake.New(), Options{RuntimeDir: dir})
	if err := os.MkdirAll(projectFilesDir(dir, "p"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := r.removeProjectFiles("p"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(projectFilesDir(dir, "p")); !os.IsNotExist(err) {
		t.Errorf("project files left: %v", err)
	}
}

func TestFileMountsErrors(t *testing.T) {
	cases := []struct {
		name string
		mod  func(p *types.Project, s *types.ServiceConfig)
		want string
	}{
		{"unset variable", func(p *types.Project, s *types.ServiceConfig) {
			p.Secrets["s"] = types.SecretConfig{Environment: "NOPE"}
			s.Secrets = []types.ServiceSecretConfig{{Source: "s"}}
		}, `service app: secrets.s: environment variable "NOPE" required by secret "s" is not set`},
		{"undefined", func(p *types.Project, s *types.ServiceConfig) {
			s.Configs = []types.ServiceConfigObjConfig{{Source: "c"}}
		}, "service app refers to undefined config c"},
		{"external", func(p *types.Project, s *types.ServiceConfig) {
			p.Secrets["s"] = types.SecretConfig{External: true}
			s.Secrets = []types.ServiceSecretConfig{{Source: "s"}}
		}, "service app: secrets.s: external secrets are swarm objects"},
		{"missing file", func(p *types.Project, s *types.ServiceConfig) {
			p.Secrets["s"] = types.SecretConfig{File: "/nonexistent/x"}
			s.Secrets = []types.ServiceSecretConfig{{Source: "s"}}
		}, "service app: secrets.s: file /nonexistent/x:"},
		{"bad uid", func(p *types.Project, s *types.ServiceConfig) {
			p.Configs["c"] = types.ConfigObjConfig{Content: "x"}
			s.Configs = []types.ServiceConfigObjConfig{{Source: "c", UID: "www"}}
		}, `service app: configs.c: uid: "www" is not a numeric id`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := types.ServiceConfig{Name: "app"}
			p := project1(s)
			c.mod(p, &s)
			p.Services["app"] = s
			_, err := fileMounts(p, s, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestProjectFilesDirRefusesEscapes(t *testing.T) {
	for _, p := range []string{"", ".", "..", "a/b", `a\b`} {
		if d := projectFilesDir("/run/cirun", p); d != "" {
			t.Errorf("project %q -> %q, want none", p, d)
		}
	}
	if d := projectFilesDir("/run/cirun", "demo"); d != "/run/cirun/projects/demo" {
		t.Errorf("demo -> %q", d)
	}
}

func TestSpecSharedNamespacesAndVolumesFrom(t *testing.T) {
	s := types.ServiceConfig{Name: "app"}
	s.NetworkMode = "service:db"
	s.Ipc = "service:db"
	s.Pid = "host"
	s.VolumesFrom = []string{"db:ro", "container:other:rw", "db"}
	p := project1(s)
	spec := specOf(t, p, "app", map[string]string{"db": "ID1"})
	if spec.NetworkMode != "container:ID1" || spec.IPCMode != "container:ID1" || spec.PIDMode != "host" {
		t.Errorf("modes net %q ipc %q pid %q", spec.NetworkMode, spec.IPCMode, spec.PIDMode)
	}
	if want := []string{"ID1:ro", "other:rw", "ID1"}; !reflect.DeepEqual(spec.VolumesFrom, want) {
		t.Errorf("volumes_from %q, want %q", spec.VolumesFrom, want)
	}
	_, err := containerSpec(specInput{Project: p, Service: s, Name: "x", Image: "img"})
	if err == nil || !strings.Contains(err.Error(), "cannot share network namespace with service db: container missing") {
		t.Errorf("without db's container: %v", err)
	}
	for _, key := range []string{"hostname", "ports", "dns", "extra_hosts"} {
		c := s
		switch key {
		case "hostname":
			c.Hostname = "h"
		case "ports":
			c.Ports = []types.ServicePortConfig{{Target: 80}}
		case "dns":
			c.DNS = []string{"10.0.0.1"}
		case "extra_hosts":
			c.ExtraHosts = types.HostsList{"a": {"10.0.0.2"}}
		}
		_, err := containerSpec(specInput{Project: p, Service: c, Name: "x", Image: "img", Shared: map[string]string{"db": "ID1"}})
		if want := "service app: " + key + ` cannot be set with network_mode "service:db"`; err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s with a joined network: %v, want %q", key, err, want)
		}
	}
	refs := sharedServices(s)
	if len(refs) != 4 || refs[0] != (sharedRef{"db", "volume"}) || refs[2] != (sharedRef{"db", "network namespace"}) {
		t.Errorf("sharedServices = %+v", refs)
	}
}

func TestSpecResourcesRestartNetworksTmpfs(t *testing.T) {
	attempts := uint64(4)
	s := types.ServiceConfig{Name: "app"}
	s.CPUS, s.CPUShares, s.CPUSet, s.MemLimit, s.MemSwapLimit = 1.5, 512, "0", 1<<30, 2<<30
	s.Deploy = &types.DeployConfig{RestartPolicy: &types.RestartPolicy{Condition: "on-failure", MaxAttempts: &attempts}}
	s.Networks = map[string]*types.ServiceNetworkConfig{"front": {MacAddress: "02:00:00:00:00:09", InterfaceName: "front0", Aliases: []string{"web"}}}
	s.Volumes = []types.ServiceVolumeConfig{{Type: types.VolumeTypeTmpfs, Target: "/t", Tmpfs: &types.ServiceVolumeTmpfs{Size: 1 << 20, Mode: 0o1777}}}
	p := project1(s)
	p.Networks = types.Networks{"front": {Name: "p_front"}}
	spec := specOf(t, p, "app", nil)
	if spec.CPUs != 1.5 || spec.CPUShares != 512 || spec.CPUSet != "0" || spec.Memory != 1<<30 || spec.MemorySwap != 2<<30 {
		t.Errorf("resources %+v", spec)
	}
	if spec.Restart != "on-failure:4" {
		t.Errorf("restart %q from deploy.restart_policy", spec.Restart)
	}
	want := engine.NetworkAttachment{Name: "p_front", Aliases: []string{"app", "web"}, MAC: "02:00:00:00:00:09", Interface: "front0"}
	if len(spec.Networks) != 1 || !reflect.DeepEqual(spec.Networks[0], want) {
		t.Errorf("networks %+v, want %+v", spec.Networks, want)
	}
	if len(spec.Mounts) != 1 || !reflect.DeepEqual(spec.Mounts[0].Options, []string{"size=1048576", "mode=1777"}) {
		t.Errorf("tmpfs mount %+v", spec.Mounts)
	}
	s.Restart = "always"
	p.Services["app"] = s
	if spec := specOf(t, p, "app", nil); spec.Restart != "always" {
		t.Errorf("restart %q: `restart` wins over deploy.restart_policy", spec.Restart)
	}
	for cond, want := range map[string]string{"none": "no", "any": "always", "on-failure": "on-failure"} {
		if got, err := deployRestart(types.RestartPolicy{Condition: cond}); err != nil || got != want {
			t.Errorf("condition %s -> %q, %v; want %q", cond, got, err, want)
		}
	}
}

func TestPublishedRangeTakesAFreePort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	if busy > 65530 {
		t.Skip("listener port at the top of the range")
	}
	rng := strconv.Itoa(busy) + "-" + strconv.Itoa(busy+3)
	pc := types.ServicePortConfig{HostIP: "127.0.0.1", Target: 80, Published: rng, Protocol: "tcp"}
	first, err := portMappings(pc)
	if err != nil {
		t.Fatal(err)
	}
	second, err := portMappings(pc)
	if err != nil {
		t.Fatal(err)
	}
	a, b := int(first[0].HostPort), int(second[0].HostPort)
	if a == busy || b == busy || a == b || a < busy || b > busy+3 {
		t.Errorf("picked %d and %d from %s with %d busy: want two different free ports of the range", a, b, rng, busy)
	}
	if _, err := portMappings(types.ServicePortConfig{Target: 80, Published: "9-3"}); err == nil {
		t.Errorf("reversed range accepted")
	}
}

// specRecorder records the specs the runner creates containers with.
type specRecorder struct {
	*fake.Engine
	mu    sync.Mutex
	specs map[string]*engine.ContainerSpec
}

func (r *specRecorder) CreateContainer(ctx context.Context, spec *engine.ContainerSpec) (string, error) {
	r.mu.Lock()
	r.specs[spec.Name] = spec
	r.mu.Unlock()
	return r.Engine.CreateContainer(ctx, spec)
}

func (r *specRecorder) spec(name string) *engine.ContainerSpec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.specs[name]
}

// network_mode: service:db joins db's first container, created after db
// has started; without db's container (--no-deps after db was removed),
// up fails with docker compose's message even though app is unchanged.
func TestUpNetworkModeServiceJoinsItsContainer(t *testing.T) {
	eng := &specRecorder{Engine: fake.New(), specs: map[string]*engine.ContainerSpec{}}
	eng.AddImage("img", engine.Image{ID: "sha256:img"})
	r := New(eng, Options{RuntimeDir: t.TempDir(), Clock: newAutoClock()})
	db := types.ServiceConfig{Name: "db"}
	db.Command = types.ShellCommand{"sleep", "300"}
	db.Image = "img"
	db.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
	app := types.ServiceConfig{Name: "app"}
	app.NetworkMode = "service:db"
	app.Command = types.ShellCommand{"sleep", "300"}
	app.Image = "img"
	app.VolumesFrom = []string{"db"}
	app.DependsOn = types.DependsOnConfig{"db": {Condition: types.ServiceConditionStarted, Required: true}}
	p := &types.Project{Name: "p", WorkingDir: "/tmp", Services: types.Services{"db": db, "app": app},
		Networks: types.Networks{"default": {Name: "p_default"}}}
	ctx := context.Background()
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	dbc, err := eng.InspectContainer(ctx, "p-db-1")
	if err != nil {
		t.Fatal(err)
	}
	spec := eng.spec("p-app-1")
	if spec == nil || spec.NetworkMode != "container:"+dbc.ID || !reflect.DeepEqual(spec.VolumesFrom, []string{dbc.ID}) || len(spec.Networks) != 0 {
		t.Fatalf("app spec %+v, want db's container %s as network and volumes", spec, dbc.ID)
	}
	calls := eng.Calls()
	if startDB, createApp := indexOf(calls, "start p-db-1"), indexOf(calls, "create p-app-1"); startDB < 0 || createApp < startDB {
		t.Errorf("app created before db started:\n%s", strings.Join(calls, "\n"))
	}
	if err := eng.RemoveContainer(ctx, dbc.ID, engine.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	err = r.Up(ctx, p, UpOptions{Detach: true, NoDeps: true, Services: []string{"app"}})
	if err == nil || !strings.Contains(err.Error(), "cannot share volume with service db: container missing") {
		t.Errorf("up --no-deps app without db's container: %v", err)
	}
}

// Networks and volumes that exist already: docker compose's warnings and
// label check; external ones that do not: its errors.
func TestEnsureNetworksAndVolumesExisting(t *testing.T) {
	eng := fake.New()
	eng.AddImage("img", engine.Image{ID: "sha256:img"})
	var mu sync.Mutex
	var warnings []string
	r := New(eng, Options{RuntimeDir: t.TempDir(), Clock: newAutoClock(), Events: func(e Event) {
		if e.Status == "Warning" {
			mu.Lock()
			warnings = append(warnings, e.Kind+" "+e.Detail)
			mu.Unlock()
		}
	}})
	ctx := context.Background()
	app := types.ServiceConfig{Name: "app"}
	app.Image = "img"
	app.Command = types.ShellCommand{"sleep", "300"}
	app.Networks = map[string]*types.ServiceNetworkConfig{"n": nil}
	app.Volumes = []types.ServiceVolumeConfig{{Type: types.VolumeTypeVolume, Source: "v", Target: "/v"}}
	p := &types.Project{Name: "p", WorkingDir: "/tmp", Services: types.Services{"app": app},
		Networks: types.Networks{"n": {Name: "shared-net"}}, Volumes: types.Volumes{"v": {Name: "shared-vol"}}}

	// made by someone else, without compose's labels
	if err := eng.CreateNetwork(ctx, engine.NetworkSpec{Name: "shared-net"}); err != nil {
		t.Fatal(err)
	}
	err := r.Up(ctx, p, UpOptions{Detach: true})
	if err == nil || !strings.Contains(err.Error(), `network shared-net was found but has incorrect label com.docker.compose.network set to "" (expected: "n")`) {
		t.Fatalf("up over an unlabelled network: %v", err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "a network with name shared-net exists but was not created by compose") {
		t.Errorf("warnings %q", warnings)
	}

	// external: used as it is, no warning
	warnings = nil
	n := p.Networks["n"]
	n.External = true
	p.Networks["n"] = n
	if err := eng.CreateVolume(ctx, engine.VolumeSpec{Name: "shared-vol", Labels: map[string]string{engine.LabelProject: "other"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], `Volume volume "shared-vol" already exists but was created for project "other" (expected "p")`) {
		t.Errorf("warnings %q", warnings)
	}

	// external and missing: errors
	if err := r.Down(ctx, "p", DownOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := eng.RemoveNetwork(ctx, "shared-net"); err != nil {
		t.Fatal(err)
	}
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err == nil || err.Error() != "network shared-net declared as external, but could not be found" {
		t.Errorf("missing external network: %v", err)
	}
	v := p.Volumes["v"]
	v.External, v.Name = true, "nope"
	p.Volumes["v"] = v
	p.Networks["n"] = types.NetworkConfig{Name: "p_n"}
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err == nil || err.Error() != `external volume "nope" not found` {
		t.Errorf("missing external volume: %v", err)
	}
}

func TestBridgeOptions(t *testing.T) {
	got := bridgeOptions(types.Options{"com.docker.network.driver.mtu": "1400", "vlan": "5"})
	if want := map[string]string{"mtu": "1400", "vlan": "5"}; !reflect.DeepEqual(got, want) {
		t.Errorf("bridgeOptions = %v, want %v", got, want)
	}
	if bridgeOptions(nil) != nil {
		t.Errorf("no options: want nil")
	}
}

// TestConfigHashLabelIsServiceHash: the config-hash label is
// compose.ServiceHash of the loaded service, which `cirun config --hash`
// prints; the two must never be computed apart.
func TestConfigHashLabelIsServiceHash(t *testing.T) {
	s := types.ServiceConfig{}
	s.Environment = types.NewMappingWithEquals([]string{"A=1"})
	p := project1(s)
	spec := specOf(t, p, "app", nil)
	if got, want := spec.Labels[engine.LabelConfigHash], compose.ServiceHash(p.Services["app"]); got != want || got == "" {
		t.Errorf("config-hash label = %q, want compose.ServiceHash %q", got, want)
	}
}

// environment: `- EMPTY` that the project environment leaves unset unsets
// the image's EMPTY (docker passes a bare "EMPTY"); a value is passed.
func TestSpecEnvironmentWithoutValueUnsets(t *testing.T) {
	var svc types.ServiceConfig
	v := "1"
	svc.Environment = types.MappingWithEquals{"EMPTY": nil, "SET": &v}
	spec := specOf(t, project1(svc), "app", nil)
	if !reflect.DeepEqual(spec.UnsetEnv, []string{"EMPTY"}) || !reflect.DeepEqual(spec.Env, []string{"SET=1"}) {
		t.Errorf("env %q unset %q, want [SET=1] and [EMPTY]", spec.Env, spec.UnsetEnv)
	}
}
