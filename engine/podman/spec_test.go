package podman

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/containers/podman/v4/pkg/errorhandling"
	"github.com/containers/podman/v4/pkg/specgen"
)

func TestToSpecgenFields(t *testing.T) {
	stop := 1500 * time.Millisecond
	cs := &engine.ContainerSpec{
		Name:       "p-web-1",
		Image:      "localhost/web:1",
		Labels:     map[string]string{"a": "b"},
		Entrypoint: []string{},
		Command:    []string{"serve"},
		Env:        []string{"A=1", "B=x=y"},
		User:       "1000",
		Networks:   []engine.NetworkAttachment{{Name: "p_default", Aliases: []string{"web"}, IPv4: "10.1.0.5"}},
		MacAddress: "02:42:ac:11:00:02",
		Ports:      []engine.PortMapping{{HostPort: 8080, ContainerPort: 80}},
		Expose:     []string{"81", "90-91/udp"},
		DNS:        []string{"1.1.1.1"},
		Mounts: []engine.Mount{
			{Type: engine.MountBind, Source: "/src", Target: "/dst", ReadOnly: true, Options: []string{"z"}},
			{Type: engine.MountVolume, Target: "/anon"},
		},
		Health:      &engine.Healthcheck{Test: []string{"CMD", "true"}, Interval: 2 * time.Second},
		StopSignal:  "SIGINT",
		StopTimeout: &stop,
		Restart:     "on-failure:3",
		CPUs:        1.5,
		Ulimits:     []engine.Ulimit{{Name: "RLIMIT_NOFILE", Soft: 10}},
		LogOptions:  map[string]string{"max-size": "10m", "tag": "x"},
	}
	s, err := toSpecgen(cs)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Entrypoint, []string{""}) {
		t.Errorf("empty Entrypoint -> %q, want [\"\"] (Podman's reset)", s.Entrypoint)
	}
	if s.Env["B"] != "x=y" || s.Env["A"] != "1" {
		t.Errorf("env %v", s.Env)
	}
	if s.NetNS.NSMode != specgen.Bridge || !reflect.DeepEqual(s.Networks["p_default"].Aliases, []string{"web"}) {
		t.Errorf("network %v %v", s.NetNS, s.Networks)
	}
	if o := s.Networks["p_default"]; len(o.StaticIPs) != 1 || o.StaticMAC.String() != cs.MacAddress {
		t.Errorf("static ip/mac %+v", o)
	}
	if len(s.PortMappings) != 1 || s.PortMappings[0].Protocol != "tcp" || s.PortMappings[0].HostPort != 8080 {
		t.Errorf("ports %+v", s.PortMappings)
	}
	if s.Expose[81] != "tcp" || s.Expose[90] != "udp" || s.Expose[91] != "udp" {
		t.Errorf("expose %v", s.Expose)
	}
	if len(s.Mounts) != 1 || !reflect.DeepEqual(s.Mounts[0].Options, []string{"z", "ro", "rbind"}) {
		t.Errorf("bind mount %+v", s.Mounts)
	}
	if len(s.Volumes) != 1 || s.Volumes[0].Name != "" || s.Volumes[0].Dest != "/anon" {
		t.Errorf("anonymous volume %+v", s.Volumes)
	}
	hc := s.HealthConfig
	if hc == nil || hc.Interval != 0 || hc.Timeout != engine.DefaultHealthTimeout || hc.Retries != 3 || hc.Test[0] != "CMD" {
		t.Errorf("health %+v: want interval 0 (no podman schedule), default timeout and retries", hc)
	}
	if s.Labels[labelHealthInterval] != "2s" {
		t.Errorf("health interval label %q", s.Labels[labelHealthInterval])
	}
	if h := fromHealthConfig(hc, s.Labels); h == nil || h.Interval != 2*time.Second {
		t.Errorf("fromHealthConfig restored %+v, want interval 2s", h)
	}
	if *s.StopSignal != 2 || *s.StopTimeout != 2 {
		t.Errorf("stop signal %v timeout %v", *s.StopSignal, *s.StopTimeout)
	}
	if s.RestartPolicy != "on-failure" || *s.RestartRetries != 3 {
		t.Errorf("restart %s %v", s.RestartPolicy, s.RestartRetries)
	}
	if *s.ResourceLimits.CPU.Quota != 150000 {
		t.Errorf("cpu quota %d", *s.ResourceLimits.CPU.Quota)
	}
	if len(s.Rlimits) != 1 || s.Rlimits[0].Type != "nofile" || s.Rlimits[0].Hard != 10 {
		t.Errorf("rlimits %+v", s.Rlimits)
	}
	if s.LogConfiguration.Driver != DefaultLogDriver || s.LogConfiguration.Size != 10<<20 || s.LogConfiguration.Options["tag"] != "x" {
		t.Errorf("log config %+v", s.LogConfiguration)
	}
}

func TestToSpecgenHealthDisabled(t *testing.T) {
	for _, h := range []*engine.Healthcheck{nil, {Test: []string{"NONE"}}} {
		s, err := toSpecgen(&engine.ContainerSpec{Image: "x", Health: h})
		if err != nil {
			t.Fatal(err)
		}
		if s.HealthConfig == nil || !reflect.DeepEqual(s.HealthConfig.Test, []string{"NONE"}) {
			t.Errorf("health %v -> %+v, want NONE (overrides an image HEALTHCHECK)", h, s.HealthConfig)
		}
	}
	s, _ := toSpecgen(&engine.ContainerSpec{Image: "x", Health: &engine.Healthcheck{Test: []string{"curl", "-f", "x"}}})
	if !reflect.DeepEqual(s.HealthConfig.Test, []string{"CMD-SHELL", "curl -f x"}) {
		t.Errorf("bare test -> %q, want CMD-SHELL", s.HealthConfig.Test)
	}
}

func TestToSpecgenErrorsNameField(t *testing.T) {
	cases := []struct {
		mod   func(*engine.ContainerSpec)
		field string
	}{
		{func(c *engine.ContainerSpec) { c.Image = "" }, "image"},
		{func(c *engine.ContainerSpec) { c.Domainname = "x" }, "domainname"},
		{func(c *engine.ContainerSpec) { c.NetworkMode = "weird" }, "network_mode"},
		{func(c *engine.ContainerSpec) {
			c.NetworkMode = "host"
			c.Networks = []engine.NetworkAttachment{{Name: "n"}}
		}, "networks"},
		{func(c *engine.ContainerSpec) { c.MacAddress = "02:00:00:00:00:01" }, "mac_address"},
		{func(c *engine.ContainerSpec) { c.Expose = []string{"x"} }, "expose"},
		{func(c *engine.ContainerSpec) { c.DNS = []string{"nope"} }, "dns"},
		{func(c *engine.ContainerSpec) { c.Mounts = []engine.Mount{{Type: "npipe", Target: "/x"}} }, "volumes"},
		{func(c *engine.ContainerSpec) { c.Mounts = []engine.Mount{{Type: "bind", Source: "rel", Target: "/x"}} }, "volumes"},
		{func(c *engine.ContainerSpec) { c.SecurityOpt = []string{"systempaths=unconfined"} }, "security_opt"},
		{func(c *engine.ContainerSpec) { c.StopSignal = "SIGNOPE" }, "stop_signal"},
		{func(c *engine.ContainerSpec) { c.Restart = "sometimes" }, "restart"},
		{func(c *engine.ContainerSpec) { c.Platform = "linux" }, "platform"},
		{func(c *engine.ContainerSpec) { c.LogDriver = "syslog" }, "logging.driver"},
		{func(c *engine.ContainerSpec) { c.Ulimits = []engine.Ulimit{{Name: "", Soft: 1}} }, "ulimits"},
	}
	for _, c := range cases {
		cs := &engine.ContainerSpec{Image: "x"}
		c.mod(cs)
		_, err := toSpecgen(cs)
		if err == nil || !strings.HasPrefix(err.Error(), c.field) {
			t.Errorf("%s: error %v, want one naming the field", c.field, err)
		}
	}
}

func TestMapErr(t *testing.T) {
	model := func(code int, cause string) error {
		return &errorhandling.ErrorModel{ResponseCode: code, Because: cause, Message: "msg: " + cause}
	}
	cases := []struct {
		err        error
		notRunning error
		want       error
	}{
		{model(500, "image not known"), nil, engine.ErrNotFound},
		{model(404, "no such container"), nil, engine.ErrNotFound},
		{model(500, "network not found"), nil, engine.ErrNotFound},
		{model(500, "that name is already in use"), nil, engine.ErrConflict},
		{model(409, "network already exists"), nil, engine.ErrConflict},
		{model(500, "volume already exists"), nil, engine.ErrConflict},
		{model(500, "container state improper"), nil, engine.ErrConflict},
		{model(500, "container state improper"), engine.ErrNotRunning, engine.ErrNotRunning},
		{model(409, "container x is not running"), engine.ErrNotRunning, engine.ErrNotRunning},
		{fmt.Errorf("wrapped: %w", model(404, "no such volume")), nil, engine.ErrNotFound},
	}
	for _, c := range cases {
		if got := mapErr(c.err, c.notRunning); !errors.Is(got, c.want) {
			t.Errorf("mapErr(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if err := mapErr(errors.New("boom"), nil); errors.Is(err, engine.ErrNotFound) || errors.Is(err, engine.ErrConflict) {
		t.Errorf("plain error mapped to a sentinel: %v", err)
	}
}

func frame(stream byte, s string) []byte {
	h := make([]byte, 8)
	h[0] = stream
	binary.BigEndian.PutUint32(h[4:], uint32(len(s)))
	return append(h, s...)
}

func TestDemuxAndLineWriter(t *testing.T) {
	var in bytes.Buffer
	in.Write(frame(1, "par"))
	in.Write(frame(2, "err\n"))
	in.Write(frame(1, "tial\nnext"))
	var out, errOut bytes.Buffer
	lw := newLineWriter(&out)
	if err := demux(&in, lw, &errOut); err != nil {
		t.Fatal(err)
	}
	if out.String() != "partial\n" {
		t.Errorf("before flush: %q, want only the whole line", out.String())
	}
	lw.Flush()
	if out.String() != "partial\nnext" || errOut.String() != "err\n" {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	if err := demux(bytes.NewReader(frame(3, "bad thing")), nil, nil); err == nil || !strings.Contains(err.Error(), "bad thing") {
		t.Errorf("stream 3 error: %v", err)
	}
}

func TestContainersConf(t *testing.T) {
	conf := ContainersConf()
	for _, want := range []string{"default_ulimits = []", `log_driver = "k8s-file"`} {
		if !strings.Contains(conf, want) {
			t.Errorf("containers.conf lacks %q:\n%s", want, conf)
		}
	}
	if (runcPath() != "") != strings.Contains(conf, `runtime = "runc"`) {
		t.Errorf("containers.conf runtime line does not follow runc's presence:\n%s", conf)
	}
}

func TestToSpecgenNamespacesVolumesFromResources(t *testing.T) {
	cs := &engine.ContainerSpec{
		Image:       "x",
		NetworkMode: "container:abc",
		IPCMode:     "shareable",
		PIDMode:     "container:def",
		VolumesFrom: []string{"abc:ro", "ghi"},
		Memory:      64 << 20,
		MemorySwap:  128 << 20,
		CPUShares:   512,
		CPUSet:      "0-1",
	}
	s, err := toSpecgen(cs)
	if err != nil {
		t.Fatal(err)
	}
	if s.NetNS != (specgen.Namespace{NSMode: specgen.FromContainer, Value: "abc"}) {
		t.Errorf("netns %+v", s.NetNS)
	}
	if s.IpcNS.NSMode != specgen.Shareable || s.PidNS != (specgen.Namespace{NSMode: specgen.FromContainer, Value: "def"}) {
		t.Errorf("ipc %+v pid %+v", s.IpcNS, s.PidNS)
	}
	if !reflect.DeepEqual(s.VolumesFrom, []string{"abc:ro", "ghi"}) {
		t.Errorf("volumes from %q", s.VolumesFrom)
	}
	r := s.ResourceLimits
	if *r.Memory.Swap != 128<<20 || *r.CPU.Shares != 512 || r.CPU.Cpus != "0-1" || r.CPU.Quota != nil {
		t.Errorf("resources %+v %+v", r.Memory, r.CPU)
	}

	nets, err := toSpecgen(&engine.ContainerSpec{Image: "x", Networks: []engine.NetworkAttachment{
		{Name: "a"}, {Name: "b", MAC: "02:00:00:00:00:0b", Interface: "back0"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if o := nets.Networks["b"]; o.StaticMAC.String() != "02:00:00:00:00:0b" || o.InterfaceName != "back0" {
		t.Errorf("per-network options %+v", o)
	}

	for _, bad := range []*engine.ContainerSpec{
		{Image: "x", IPCMode: "weird"},
		{Image: "x", PIDMode: "shareable"},
		{Image: "x", VolumesFrom: []string{":ro"}},
		{Image: "x", MemorySwap: 1 << 20},
		{Image: "x", Networks: []engine.NetworkAttachment{{Name: "a", MAC: "nope"}}},
	} {
		if _, err := toSpecgen(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// A bare compose `- KEY` arrives as UnsetEnv: Podman's unsetenv removes the
// image's value, unless Env sets the key (a `run -e KEY=V` override).
func TestToSpecgenUnsetEnv(t *testing.T) {
	s, err := toSpecgen(&engine.ContainerSpec{Image: "img", Env: []string{"SET=1"}, UnsetEnv: []string{"EMPTY", "SET"}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.UnsetEnv, []string{"EMPTY"}) || s.Env["SET"] != "1" {
		t.Errorf("unsetenv %q env %v, want [EMPTY] and SET=1", s.UnsetEnv, s.Env)
	}
	for _, bad := range []string{"", "A=B"} {
		if _, err := toSpecgen(&engine.ContainerSpec{Image: "img", UnsetEnv: []string{bad}}); err == nil || !strings.Contains(err.Error(), "environment") {
			t.Errorf("UnsetEnv %q: %v, want an environment error", bad, err)
		}
	}
}
