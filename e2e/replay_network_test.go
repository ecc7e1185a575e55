//go:build e2e

package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// docker compose's networks_test.go replayed (see replay_env_test.go).

// Project networks and a network with its own name are created by up and
// removed by down; `port` answers for a port published without a host
// port (docker compose's TestNetworks).
func TestReplayNetworks(t *testing.T) {
	p := project(t)
	named := p + "-micro"
	c := specIn(t, filepath.Join(replayDir("networks"), "compose.yaml"), p, "REPLAY_NET="+named)
	t.Cleanup(func() { _ = exec.Command("podman", "network", "rm", "-f", named, named+"-2").Run() })
	c(0, "up", "-d", "db", "words", "web")
	mustContain(t, "ps", c(0, "ps").stdout, p+"-web-1")
	nets := podman(t, "network", "ls", "--format", "{{.Name}}")
	for _, want := range []string{p + "_dbnet", named, named + "-2"} {
		if !slices.Contains(strings.Fields(nets), want) {
			t.Errorf("network ls lacks %s:\n%s", want, nets)
		}
	}
	if got := podman(t, "inspect", "--format", `{{index .Config.Labels "my-label"}}`, p+"-web-1"); got != "test" {
		t.Errorf("web's my-label = %q", got)
	}
	port := strings.TrimSpace(c(0, "port", "words", "8080").stdout)
	if !regexp.MustCompile(`^0\.0\.0\.0:[0-9]+$`).MatchString(port) {
		t.Errorf("port words 8080 = %q, want 0.0.0.0:N", port)
	}
	// db and words share dbnet: db resolves words by service name
	eventually(t, "db resolves words", 20*time.Second, func() bool {
		return exec.Command("podman", "exec", p+"-db-1", "sh", "-c", nslookup("words")).Run() == nil
	})
	c(0, "down", "-t", "0")
	nets = podman(t, "network", "ls", "--format", "{{.Name}}")
	for _, gone := range []string{p + "_dbnet", named, named + "-2"} {
		if slices.Contains(strings.Fields(nets), gone) {
			t.Errorf("network %s left after down", gone)
		}
	}
}

// `run` of a service in network_mode service:db starts db first (docker
// compose's TestNetworkModes).
func TestReplayNetworkModeRun(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("networks"), "compose.yaml"), p, "REPLAY_NET="+p+"-micro")
	t.Cleanup(func() { _ = exec.Command("podman", "network", "rm", "-f", p+"-micro", p+"-micro-2").Run() })
	defer c(0, "down", "-t", "0")
	res := c(0, "run", "-T", "mydb", "echo", "success")
	mustContain(t, "stdout", res.stdout, "success")
	if st := status(t, p+"-db-1"); st != "running" {
		t.Errorf("db is %s after run mydb, want running", st)
	}
}

// A service reaches another by a network alias and by service name
// (docker compose's TestNetworkAliases; its links half is not supported).
func TestReplayNetworkAliases(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("network-aliases"), "compose.yaml"), p)
	defer c(0, "down", "-t", "0")
	c(0, "up", "-d")
	for _, host := range []string{"alias-of-container2", "container2"} {
		eventually(t, "container1 reaches "+host, 20*time.Second, func() bool {
			// busybox-static's wget crashes here (static glibc): nslookup and nc
			script := `ip=$(` + nslookup(host) + ` | awk '/^Address/ {a=$NF} END {print a}'); printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 $ip 8080`
			out := cirun(t, nil, "-p", p, "exec", "-T", "container1", "sh", "-c", script).stdout
			return strings.Contains(out, "hello from container2")
		})
	}
}

// The default network with its own subnet, and a fixed address in it
// (docker compose's TestIPAMConfig).
func TestReplayIPAM(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("ipam"), "compose.yaml"), p)
	defer c(0, "down", "-t", "0")
	c(0, "up", "-d")
	if got := podman(t, "inspect", p+"-foo-1", "-f", "{{ .NetworkSettings.Networks."+p+"_default.IPAddress }}"); got != "10.213.0.100" {
		t.Errorf("foo's address %q, want 10.213.0.100", got)
	}
}

// Links reach the linked container by its service name and by the link's
// alias, on Podman's default network (network_mode: bridge, no DNS there)
// and on the project network (docker compose's TestNetworkLinks and the
// links half of TestNetworkAliases). busybox resolves through DNS only, so
// the name is looked up in /etc/hosts, where links put it.
func TestReplayNetworkLinks(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("network-links"), "compose.yaml"), p)
	defer c(0, "down", "-t", "0")
	c(0, "up", "-d")
	for _, x := range []struct{ from, host, want string }{
		{"client", "server", "hello from server"},
		{"front", "container", "hello from web"},
		{"front", "web", "hello from web"},
	} {
		eventually(t, x.from+" reaches "+x.host, 20*time.Second, func() bool {
			script := `ip=$(awk '$2 == "` + x.host + `" {print $1}' /etc/hosts); printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 2 $ip 8080`
			out := cirun(t, nil, "-p", p, "exec", "-T", x.from, "sh", "-c", script).stdout
			return strings.Contains(out, x.want)
		})
	}
}

// nslookup is a shell command resolving name with busybox's nslookup
// against the first nameserver of /etc/resolv.conf (Podman's aardvark-dns).
// Without a server busybox asks every nameserver at once and takes the
// first answer, which may be the host's resolver's NXDOMAIN.
func nslookup(name string) string {
	return `nslookup ` + name + ` $(awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf)`
}
