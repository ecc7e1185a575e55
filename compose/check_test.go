package compose

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestSupportedKeysAccepted(t *testing.T) {
	p, warn := mustLoad(t, Options{Files: []string{testdata(t, "supported", "compose.yaml")}})
	if got, want := ServiceNames(p), []string{"app", "db", "migrate", "shared", "side", "worker"}; !slices.Equal(got, want) {
		t.Errorf("services = %v, want %v", got, want)
	}
	if warn != "" {
		t.Errorf("warnings: %q", warn)
	}
	if p.Services["app"].Extensions["x-cirun-note"] != "kept" {
		t.Errorf("x-cirun-note not kept: %v", p.Services["app"].Extensions)
	}
	if p.Extensions["x-top"] == nil {
		t.Errorf("x-top not kept: %v", p.Extensions)
	}
	if p.Services["worker"].Image != "localhost/app" {
		t.Errorf("extends not resolved: %+v", p.Services["worker"])
	}
	if got := p.Networks["back"].Name; got != "everything-back-net" {
		t.Errorf("network name = %q", got)
	}
}

// TestCompileGoDefaultsAccepted loads the smallest files in every syntax
// compose-go expands with defaults of its own (default network, build
// dockerfile, depends_on condition, port mode, bind options...): Check must
// not mistake those for keys the user wrote.
func TestComposeGoDefaultsAccepted(t *testing.T) {
	for _, yaml := range []string{
		"services: {app: {image: a}}",
		"services: {app: {build: .}}",
		"services: {app: {image: a, depends_on: [db], links: []}, db: {image: b}}",
		"services: {app: {image: a, links: [db, \"db:alias\"]}, db: {image: b}}",
		"services: {app: {image: a, ports: ['80', '127.0.0.1:8080-8081:80-81/udp']}}",
		"services: {app: {image: a, volumes: ['./x:/x', '/anon', 'named:/n:ro', './y:/y:rw'], tmpfs: /t}}\nvolumes: {named: {}}",
		"services: {app: {image: a, env_file: [absent.env], environment: [A]}}",
		"services: {app: {image: a, pull_policy: if_not_present}}",
		"services: {app: {image: a, networks: {default: {}}}}",
		"services: {app: {image: a, network_mode: host}}",
		"services: {app: {image: a, healthcheck: {test: 'true'}}}",
		"services: {app: {image: a, ulimits: {nofile: 5}}}",
	} {
		dir := t.TempDir()
		file := filepath.Join(dir, "compose.yaml")
		writeFile(t, file, yaml)
		writeFile(t, filepath.Join(dir, "absent.env"), "A=1\n")
		if _, _, err := loadT(t, Options{Files: []string{file}}); err != nil {
			t.Errorf("%s: %v", yaml, err)
		}
	}
}

func TestUnsupportedKeys(t *testing.T) {
	tests := []struct {
		yaml string
		path string // the path in the error; "" when the message is only MsgUnsupported
		msg  string // the message, when not MsgUnsupported
	}{
		{"services: {app: {image: a, secrets: [s]}}\nsecrets: {s: {external: true}}", "secrets.s.external", ""},
		{"services: {app: {image: a, configs: [c]}}\nconfigs: {c: {file: ./c, template_driver: golang}}", "configs.c.template_driver", ""},
		{"services: {app: {image: a, external_links: [other]}}", "services.app.external_links", ""},
		{"services: {app: {image: a, ipc: 'weird'}}", "services.app.ipc",
			`"weird" not supported by cirun yet (supported: host, private, shareable, service:*, container:*)`},
		{"services: {app: {image: a, uts: host}}", "services.app.uts", ""},
		{"services: {app: {image: a, domainname: example.com}}", "services.app.domainname", ""},
		{"services: {app: {image: a, network_mode: 'service:db', hostname: h}, db: {image: b}}", "services.app.hostname",
			`cannot be set with network_mode "service:db": the network namespace is the other container's`},
		{"services: {app: {image: a, init: true, pid: host}}", "services.app.init",
			`cannot be set with pid "host": Podman runs its init only as PID 1 of a private PID namespace`},
		{"services: {app: {image: a, network_mode: 'container:x', ports: ['80']}}", "services.app.ports",
			`cannot be set with network_mode "container:x": the network namespace is the other container's`},
		{"services: {app: {image: a, userns_mode: host}}", "services.app.userns_mode", ""},
		{"services: {app: {image: a, cgroup: host}}", "services.app.cgroup", ""},
		{"services: {app: {image: a, cgroup_parent: x}}", "services.app.cgroup_parent", ""},
		{"services: {app: {image: a, network_mode: 'ns:/proc/1/ns/net'}}", "services.app.network_mode",
			`"ns:/proc/1/ns/net" not supported by cirun yet (supported: bridge, none, host, service:*, container:*)`},
		{"services: {app: {build: {context: ., entitlements: [network.host]}}}", "services.app.build.entitlements", ""},
		{"services: {app: {build: {context: ., privileged: true}}}", "services.app.build.privileged", ""},
		{"services: {app: {build: {context: ., no_cache_filter: [x]}}}", "services.app.build.no_cache_filter", ""},
		{"services: {app: {image: a, develop: {watch: [{path: ., action: rebuild}]}}}", "services.app.develop", ""},
		{"services: {app: {image: a, pre_start: [{command: x}]}}", "services.app.pre_start", ""},
		{"services: {app: {image: a, logging: {driver: json-file}}}", "services.app.logging", ""},
		{"services: {app: {image: a, oom_score_adj: 100}}", "services.app.oom_score_adj", ""},
		{"services: {app: {image: a, deploy: {mode: global}}}", "services.app.deploy.mode", ""},
		{"services: {app: {image: a, deploy: {resources: {reservations: {cpus: '1'}}}}}", "services.app.deploy.resources.reservations.cpus", ""},
		{"services: {app: {image: a, healthcheck: {test: 'true', x-extra: 1}}}", "", ""}, // extensions are fine
		{"services: {app: {image: a, networks: {n: {link_local_ips: [fe80::1]}}}}\nnetworks: {n: {}}", "services.app.networks.n.link_local_ips", ""},
		{"services: {app: {image: a, networks: {n: {gw_priority: 1}}}}\nnetworks: {n: {}}", "services.app.networks.n.gw_priority", ""},
		{"services: {app: {image: a, volumes: [{type: volume, source: v, target: /x, volume: {subpath: s}}]}}\nvolumes: {v: {}}", "services.app.volumes[0].volume.subpath", ""},
		{"services: {app: {image: a, volumes: [{type: npipe, source: x, target: /x}]}}", "services.app.volumes[0].type",
			`"npipe" not supported by cirun yet (supported: bind, volume, tmpfs)`},
		{"services: {app: {image: a, networks: [n]}}\nnetworks: {n: {enable_ipv4: false}}", "networks.n.enable_ipv4", ""},
		{"services: {app: {image: a, networks: [n]}}\nnetworks: {n: {driver: overlay}}", "networks.n.driver",
			`"overlay" not supported by cirun yet (supported: bridge)`},
		{"services: {app: {image: a, networks: [n]}}\nnetworks: {n: {attachable: true}}", "networks.n.attachable", ""},
		{"services: {app: {image: a, networks: [n]}}\nnetworks: {n: {ipam: {driver: x}}}", "networks.n.ipam.driver",
			`"x" not supported by cirun yet (supported: default)`},
		{"services: {app: {image: a, networks: [n]}}\nnetworks: {n: {ipam: {config: [{subnet: 10.5.0.0/16, aux_addresses: {a: 10.5.0.9}}]}}}", "networks.n.ipam.config[0].aux_addresses", ""},
		{"services: {app: {image: a, volumes: ['vol:/v']}}\nvolumes: {vol: {driver: nfs}}", "volumes.vol.driver",
			`"nfs" not supported by cirun yet (supported: local)`},
		{"services: {app: {image: a, gpus: all}}", "services.app.gpus", ""},
		{"services: {app: {image: a, runtime: runc}}", "services.app.runtime", ""},
		{"services: {app: {image: a, annotations: {a: b}}}", "services.app.annotations", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "compose.yaml")
			writeFile(t, file, tt.yaml)
			_, _, err := loadT(t, Options{Files: []string{file}})
			if tt.path == "" {
				if err != nil {
					t.Fatalf("%s: %v", tt.yaml, err)
				}
				return
			}
			msg := tt.msg
			if msg == "" {
				msg = MsgUnsupported
			}
			want := file + ": " + tt.path + ": " + msg
			if err == nil || err.Error() != want {
				t.Fatalf("%s\nerr = %v\nwant  %s", tt.yaml, err, want)
			}
		})
	}
}

// TestCheckTopLevel calls Check on projects Load would not produce (Load
// drops top-level elements no service uses before checking).
func TestCheckTopLevel(t *testing.T) {
	file := testdata(t, "err_unsupported", "compose.yaml")
	base := func() *types.Project {
		return &types.Project{
			Name:         "p",
			ComposeFiles: []string{file},
			Services:     types.Services{"app": {Name: "app", ContainerSpec: types.ContainerSpec{Image: "a"}}},
		}
	}
	tests := []struct {
		name   string
		modify func(p *types.Project)
		want   string
	}{
		{"secrets", func(p *types.Project) { p.Secrets = types.Secrets{"s": {File: "x", Driver: "d"}} }, "secrets.s.driver"},
		{"configs", func(p *types.Project) { p.Configs = types.Configs{"c": {External: true}} }, "configs.c.external"},
		{"models", func(p *types.Project) { p.Models = types.Models{"m": {Model: "x"}} }, "models"},
		{"jobs", func(p *types.Project) {
			p.Jobs = types.Jobs{"j": {Name: "j", ContainerSpec: types.ContainerSpec{Image: "a"}}}
		}, "jobs"},
		{"extensions are kept", func(p *types.Project) { p.Extensions = types.Extensions{"x-a": 1} }, ""},
		{"disabled services are not checked", func(p *types.Project) {
			p.DisabledServices = types.Services{"d": {Name: "d", ContainerSpec: types.ContainerSpec{Ipc: "host"}}}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base()
			tt.modify(p)
			err := Check(p)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			want := file + ": " + tt.want + ": " + MsgUnsupported
			if err.Error() != want {
				t.Errorf("err = %v\nwant  %s", err, want)
			}
		})
	}
}

func TestCheckNamesStdin(t *testing.T) {
	_, _, err := loadT(t, Options{Files: []string{"-"}, Stdin: strings.NewReader("services: {app: {image: a, uts: host}}")})
	want := StdinName + ": services.app.uts: " + MsgUnsupported
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}
