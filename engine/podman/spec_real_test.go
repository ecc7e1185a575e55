package podman

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/containers/podman/v4/pkg/bindings/containers"
)

// TestSpecFieldsReal creates a container using most ContainerSpec fields
// against the real service and checks each from inside the container or
// through Podman's inspect: the service must accept and apply them.
func TestSpecFieldsReal(t *testing.T) {
	e := realEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := randName("cirun-test-spec-")
	labels := map[string]string{"dev.cirun.test": name}
	t.Cleanup(func() {
		c := context.Background()
		f := engine.Filter{Labels: labels, All: true}
		cs, _ := e.ListContainers(c, f)
		for _, x := range cs {
			_ = e.RemoveContainer(c, x.ID, engine.RemoveOptions{Force: true, Volumes: true})
		}
		_ = e.RemoveNetwork(c, name)
		_ = e.RemoveVolume(c, name, true)
	})
	if err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: name, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	if err := e.CreateVolume(ctx, engine.VolumeSpec{Name: name, Labels: labels}); err != nil {
		t.Fatal(err)
	}
	bindDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(bindDir, "f"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stop := 3 * time.Second
	spec := &engine.ContainerSpec{
		Name:        name,
		Image:       testImage,
		Labels:      labels,
		Entrypoint:  []string{},
		Command:     []string{"sh", "-c", "sleep 300"},
		Env:         []string{"FOO=bar baz", "EMPTY="},
		UnsetEnv:    []string{"container"}, // Podman's default container=podman
		WorkingDir:  "/tmp",
		Hostname:    "myhost",
		Networks:    []engine.NetworkAttachment{{Name: name, Aliases: []string{"svc-alias"}}},
		Ports:       []engine.PortMapping{{ContainerPort: 8080}, {HostIP: "127.0.0.1", HostPort: 0, ContainerPort: 53, Protocol: "udp"}},
		Expose:      []string{"9090", "7000-7001/udp"},
		ExtraHosts:  []string{"extra.example:10.1.2.3"},
		DNS:         []string{"10.9.9.9"},
		DNSSearch:   []string{"example.test"},
		DNSOptions:  []string{"ndots:2"},
		Init:        true,
		ReadOnly:    true,
		CapAdd:      []string{"NET_ADMIN"},
		CapDrop:     []string{"CHOWN"},
		SecurityOpt: []string{"no-new-privileges"},
		GroupAdd:    []string{"1234"},
		ShmSize:     32 << 20,
		Sysctls:     map[string]string{"net.ipv4.ip_unprivileged_port_start": "99"},
		Ulimits:     []engine.Ulimit{{Name: "nofile", Soft: 1000, Hard: 2000}},
		StopSignal:  "SIGINT",
		StopTimeout: &stop,
		Restart:     "on-failure:2",
		Memory:      128 << 20,
		CPUs:        0.5,
		PidsLimit:   100,
		Tmpfs:       map[string]string{"/tmpfs2": "size=1m"},
		Mounts: []engine.Mount{
			{Type: engine.MountBind, Source: bindDir, Target: "/bind", ReadOnly: true},
			{Type: engine.MountVolume, Source: name, Target: "/named"},
			{Type: engine.MountVolume, Target: "/anon"},
			{Type: engine.MountTmpfs, Target: "/tmpfs1"},
		},
	}
	id, err := e.CreateContainer(ctx, spec)
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}

	sh := func(script string) (string, int) {
		t.Helper()
		var out bytes.Buffer
		code, err := e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"sh", "-c", script}, Streams: engine.Streams{Stdout: &out, Stderr: &out}})
		if err != nil {
			t.Fatalf("exec %q: %v", script, err)
		}
		return strings.TrimSpace(out.String()), code
	}
	checks := []struct{ script, want string }{
		{`echo "$FOO|${EMPTY-unset}"`, "bar baz|"},
		{`echo "=${container-unset}="`, "=unset="},
		{"pwd", "/tmp"},
		{"hostname", "myhost"},
		{"cat /bind/f", "from-host"},
		{"grep extra.example /etc/hosts", "10.1.2.3"},
		{"cat /etc/resolv.conf", "example.test"},
		{"cat /etc/resolv.conf", "ndots:2"},
		{"cat /etc/resolv.conf", "nameserver 10.9.9.9"},
		{"grep -c ^nameserver /etc/resolv.conf", "2"}, // aardvark-dns kept first
		{"cat /proc/1/cmdline | tr '\\0' ' '", "init"},
		{"touch /rootfile 2>&1; echo rc=$?", "rc=1"},
		{"touch /named/x /anon/x /tmpfs1/x /tmpfs2/x && echo writable", "writable"},
		{"touch /bind/x 2>&1; echo rc=$?", "rc=1"},
		{"grep 'open files' /proc/1/limits", "1000                 2000"},
		{"cat /proc/sys/net/ipv4/ip_unprivileged_port_start", "99"},
		{"id -G", "1234"},
		{"grep NoNewPrivs /proc/self/status", "1"},
		{"df -k /dev/shm | tail -1", "32768"},
	}
	for _, c := range checks {
		out, code := sh(c.script)
		if !strings.Contains(out, c.want) {
			t.Errorf("in container: %q -> %q (exit %d), want it to contain %q", c.script, out, code, c.want)
		}
	}

	d, err := containers.Inspect(e.ctx(ctx), id, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := d.HostConfig
	if hc.Memory != 128<<20 || hc.PidsLimit != 100 || hc.CpuQuota != 50000 {
		t.Errorf("resources: memory %d pids %d cpu quota %d", hc.Memory, hc.PidsLimit, hc.CpuQuota)
	}
	if hc.RestartPolicy.Name != "on-failure" || hc.RestartPolicy.MaximumRetryCount != 2 {
		t.Errorf("restart policy %+v", hc.RestartPolicy)
	}
	if hc.LogConfig == nil || hc.LogConfig.Type != DefaultLogDriver {
		t.Errorf("log config %+v, want %s", hc.LogConfig, DefaultLogDriver)
	}
	if d.Config.StopSignal != 2 || d.Config.StopTimeout != 3 {
		t.Errorf("stop signal %v timeout %d, want 2 (SIGINT), 3", d.Config.StopSignal, d.Config.StopTimeout)
	}
	if !contains(d.EffectiveCaps, "CAP_NET_ADMIN") || contains(d.EffectiveCaps, "CAP_CHOWN") {
		t.Errorf("effective caps %v: want CAP_NET_ADMIN, no CAP_CHOWN", d.EffectiveCaps)
	}
	for _, p := range []string{"9090/tcp", "7001/udp"} {
		if _, ok := d.NetworkSettings.Ports[p]; !ok {
			t.Errorf("ports %v lack exposed %s", d.NetworkSettings.Ports, p)
		}
	}
	c, err := e.InspectContainer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var tcp bool
	for _, p := range c.Ports {
		if p.ContainerPort == 8080 && p.Protocol == "tcp" && p.HostPort != 0 {
			tcp = true
		}
	}
	if !tcp {
		t.Errorf("ports %+v: want 8080/tcp published on an engine-picked host port", c.Ports)
	}
	var exposed bool
	for _, p := range c.Ports {
		if p.ContainerPort == 9090 && p.Protocol == "tcp" && p.HostPort == 0 {
			exposed = true
		}
	}
	if !exposed {
		t.Errorf("ports %+v: want the exposed 9090/tcp with host port 0 (docker ps shows it)", c.Ports)
	}
	if len(c.Networks) != 1 || c.Networks[0] != name {
		t.Errorf("networks %v, want [%s]", c.Networks, name)
	}
	if c.Command[0] != "/run/podman-init" && !strings.Contains(strings.Join(c.Command, " "), "sleep 300") {
		t.Errorf("command %q", c.Command)
	}

	// Another container resolves this one by its alias.
	probe := &engine.ContainerSpec{
		Name: name + "-dns", Image: testImage, Labels: labels,
		Command:  []string{"nslookup", "svc-alias"},
		Networks: []engine.NetworkAttachment{{Name: name}},
	}
	pid, err := e.CreateContainer(ctx, probe)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.StartAttached(ctx, pid, engine.Streams{Stdout: &out, Stderr: &out}); err != nil {
		t.Fatal(err)
	}
	if code, err := e.WaitContainer(ctx, pid); err != nil || code != 0 {
		t.Errorf("nslookup svc-alias from another container: exit %d, %v: %s", code, err, out.String())
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestAttachTTYAndStdin covers the attach paths the conformance suite does
// not: a TTY container (raw stream) and a container reading stdin.
func TestAttachTTYAndStdin(t *testing.T) {
	e := realEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := randName("cirun-test-tty-")
	labels := map[string]string{"dev.cirun.test": name}
	t.Cleanup(func() {
		cs, _ := e.ListContainers(context.Background(), engine.Filter{Labels: labels, All: true})
		for _, c := range cs {
			_ = e.RemoveContainer(context.Background(), c.ID, engine.RemoveOptions{Force: true})
		}
	})
	id, err := e.CreateContainer(ctx, &engine.ContainerSpec{Name: name, Image: testImage, Labels: labels, Tty: true,
		Command: []string{"sh", "-c", "echo on-tty; [ -t 1 ] && echo is-a-tty"}})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.StartAttached(ctx, id, engine.Streams{Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(out.String(), "\r", ""); got != "on-tty\nis-a-tty\n" {
		t.Errorf("tty output %q", out.String())
	}

	id, err = e.CreateContainer(ctx, &engine.ContainerSpec{Name: name + "-in", Image: testImage, Labels: labels, OpenStdin: true,
		Command: []string{"sh", "-c", "read line; echo got $line"}})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := e.StartAttached(ctx, id, engine.Streams{Stdin: strings.NewReader("hello\n"), Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "got hello\n" {
		t.Errorf("stdin round trip %q", out.String())
	}
	if code, err := e.WaitContainer(ctx, id); err != nil || code != 0 {
		t.Errorf("wait: %d %v", code, err)
	}

	// Exec with a TTY and with stdin.
	id, err = e.CreateContainer(ctx, &engine.ContainerSpec{Name: name + "-ex", Image: testImage, Labels: labels, Command: []string{"sleep", "60"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code, err := e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"sh", "-c", "cat; exit 6"}, Streams: engine.Streams{Stdin: strings.NewReader("piped\n"), Stdout: &out}})
	if err != nil || code != 6 || out.String() != "piped\n" {
		t.Errorf("exec with stdin: %d %v %q", code, err, out.String())
	}
	out.Reset()
	code, err = e.Exec(ctx, id, engine.ExecSpec{Cmd: []string{"sh", "-c", "[ -t 1 ] && echo tty"}, Tty: true, Streams: engine.Streams{Stdout: &out}})
	if err != nil || code != 0 || strings.TrimSpace(out.String()) != "tty" {
		t.Errorf("exec with tty: %d %v %q", code, err, out.String())
	}
}
