//go:build e2e

package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cirun-dev/cirun/runner"
)

// The compose spec keys cirun maps to containers, networks and volumes,
// one fixture each (fixtures/spec-*), checked on real state: inside the
// containers and with podman inspect.

func specFixture(name string) string {
	return filepath.Join(fixtures, "spec-"+name, "compose.yaml")
}

// specIn returns a runner of cirun -f F -p P ARGS... with env that fails
// the test unless the exit code is want.
func specIn(t *testing.T, f, p string, env ...string) func(want int, args ...string) result {
	return func(want int, args ...string) result {
		t.Helper()
		res := cirun(t, env, append([]string{"-f", f, "-p", p}, args...)...)
		if res.code != want {
			t.Fatalf("cirun %s exited %d, want %d", strings.Join(args, " "), res.code, want)
		}
		return res
	}
}

// checkIn runs sh -c script in container c and fails the test unless the
// output contains each of want.
func checkIn(t *testing.T, c, script string, want ...string) {
	t.Helper()
	out, err := exec.Command("podman", "exec", c, "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Errorf("in %s: %q: %v: %s", c, script, err, out)
		return
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("in %s: %q -> %q, want it to contain %q", c, script, out, w)
		}
	}
}

// Secrets and configs: files, environment and content, at docker
// compose's paths, with the owner and mode asked for, read-only; the files
// cirun writes go on down.
func TestSpecSecretsAndConfigs(t *testing.T) {
	p := project(t)
	f := specFixture("secrets")
	env := []string{"SPEC_TOKEN=tok-123", "SPEC_CONFIG=from-env"}
	c := specIn(t, f, p, env...)

	res := c(0, "run", "--rm", "app", "cat", "/run/secrets/plain", "/run/secrets/api-token", "/inline")
	mustContain(t, "run output", res.stdout, "s3cr3t-from-file\ntok-123level=debug\n")

	c(0, "up", "-d")
	app := p + "-app-1"
	checkIn(t, app, "cat /run/secrets/plain", "s3cr3t-from-file")
	checkIn(t, app, "stat -c '%u:%g %a' /run/secrets/api-token; cat /run/secrets/api-token", "1005:1006 440", "tok-123")
	checkIn(t, app, "stat -c '%u:%g %a' /etc/plain-copy; cat /etc/plain-copy", "0:0 400", "s3cr3t-from-file")
	checkIn(t, app, "stat -c '%u:%g %a' /inline; cat /inline", "0:0 444", "level=debug")
	checkIn(t, app, "cat /etc/app/fromenv.conf", "from-env")
	checkIn(t, app, "cat /conf/file.conf", "mode=file")
	checkIn(t, app, "echo x > /run/secrets/api-token 2>&1; echo rc=$?", "Read-only file system", "rc=1")

	dir := filepath.Join(runner.DefaultRuntimeDir(), "projects", p)
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("secret files of %s: %v", p, err)
	}
	c(0, "down", "-t", "0")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("down left %s (%v)", dir, err)
	}

	// An environment source whose variable is unset is an error naming it.
	res = specIn(t, f, p, "SPEC_CONFIG=x")(1, "run", "--rm", "app", "true")
	mustContain(t, "stderr", res.stderr, `environment variable "SPEC_TOKEN" required by secret "token" is not set`)
	c(0, "down", "-t", "0")
}

// Networks: several per service with aliases, a static address in the
// declared ipam, mac and interface name, internal, IPv6, a custom name with
// labels, external (must exist), network_mode service:.
func TestSpecNetworks(t *testing.T) {
	p := project(t)
	f := specFixture("networks")
	ext := p + "-ext"
	if out, err := exec.Command("podman", "network", "create", ext).CombinedOutput(); err != nil {
		t.Fatalf("creating the external network: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("podman", "network", "rm", "-f", ext).Run() })
	back := p + "-back"
	c := specIn(t, f, p, "SPEC_EXTERNAL_NET="+ext, "SPEC_BACK_NET="+back)

	// A missing external network fails up before anything is created.
	res := specIn(t, f, p, "SPEC_EXTERNAL_NET="+p+"-missing", "SPEC_BACK_NET="+back)(1, "up", "-d", "outside")
	mustContain(t, "stderr", res.stderr, "network "+p+"-missing declared as external, but could not be found")

	c(0, "up", "-d")
	web := p + "-web-1"
	checkIn(t, web, "ip -4 addr show eth0", "172.30.77.10/24")
	checkIn(t, web, "ip link show eth0", "02:42:ac:1e:4d:0a")
	checkIn(t, web, "ip -4 addr show back0", "inet ")
	checkIn(t, p+"-client-1", "nslookup www; nslookup web.example; nslookup web", "172.30.77.10")
	checkIn(t, p+"-sidecar-1", "ip -4 addr show eth0", "172.30.77.10/24") // web's namespace
	checkIn(t, p+"-isolated-1", "ip route | grep -c default; true", "0")
	checkIn(t, p+"-six-1", "ip -6 addr show eth0 scope global", "inet6 ")
	checkIn(t, p+"-outside-1", "ip -4 addr show eth0", "inet ")

	if got := podman(t, "network", "inspect", "--format", "{{.Internal}}", p+"_internal"); got != "true" {
		t.Errorf("internal network: internal = %s", got)
	}
	labels := podman(t, "network", "inspect", "--format", "{{json .Labels}}", p+"_front")
	for _, want := range []string{`"dev.cirun.e2e":"front"`, `"com.docker.compose.network":"front"`, `"com.docker.compose.project":"` + p + `"`} {
		mustContain(t, "front's labels", labels, want)
	}
	mustContain(t, "front's subnets", podman(t, "network", "inspect", "--format", "{{json .Subnets}}", p+"_front"), `"gateway":"172.30.77.1"`)
	mustContain(t, "back's labels", podman(t, "network", "inspect", "--format", "{{json .Labels}}", back), `"com.docker.compose.network":"back"`)
	ip := net.ParseIP(podman(t, "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", p+"-client-1")).To4()
	if ip == nil || ip[0] != 172 || ip[1] != 30 || ip[2] != 77 || ip[3] < 128 {
		t.Errorf("client address %v, want one of ip_range 172.30.77.128/25", ip)
	}

	c(0, "down", "-t", "0")
	if out, err := exec.Command("podman", "network", "exists", ext).CombinedOutput(); err != nil {
		t.Errorf("down removed the external network: %v %s", err, out)
	}
}

// Volumes: named (labelled), anonymous, external, local driver_opts,
// nocopy, read_only, bind create_host_path, tmpfs size and mode.
func TestSpecVolumes(t *testing.T) {
	p := project(t)
	f := specFixture("volumes")
	ext := p + "-ext"
	if out, err := exec.Command("podman", "volume", "create", ext).CombinedOutput(); err != nil {
		t.Fatalf("creating the external volume: %v: %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("podman", "volume", "rm", "-f", ext).Run() })
	host := t.TempDir()
	c := specIn(t, f, p, "SPEC_EXTERNAL_VOL="+ext, "SPEC_HOST_DIR="+host)

	// A missing external volume fails up.
	res := specIn(t, f, p, "SPEC_EXTERNAL_VOL="+p+"-missing", "SPEC_HOST_DIR="+host)(1, "up", "-d")
	mustContain(t, "stderr", res.stderr, `external volume "`+p+`-missing" not found`)
	c(0, "down", "-t", "0", "-v")

	c(0, "up", "-d")
	app := p + "-app-1"
	checkIn(t, app, "echo hi > /data/f && cat /data-ro/f", "hi")
	checkIn(t, app, "touch /data-ro/g 2>&1; echo rc=$?", "Read-only file system", "rc=1")
	checkIn(t, app, "touch /anon/x /ext/x && echo ok", "ok")
	checkIn(t, app, "stat -c '%u %a' /mem; grep ' /mem ' /proc/mounts", "1000 ", "tmpfs /mem tmpfs")
	checkIn(t, app, "ls /etc | grep -c passwd; true", "0") // nocopy: the image's /etc was not copied in
	checkIn(t, app, "cat /host.txt; touch /host.txt 2>&1; true", "from the host", "Read-only file system")
	checkIn(t, app, "stat -c '%a' /scratch; df -k /scratch | tail -1", "700", "2048")
	checkIn(t, app, "touch /created/x && echo ok", "ok")
	if _, err := os.Stat(filepath.Join(host, "created", "sub", "x")); err != nil {
		t.Errorf("create_host_path: %v", err)
	}
	mustContain(t, "data's labels", podman(t, "volume", "inspect", "--format", "{{json .Labels}}", p+"_data"), `"dev.cirun.e2e":"data"`)
	mustContain(t, "mem's options", podman(t, "volume", "inspect", "--format", "{{json .Options}}", p+"_mem"), `"type":"tmpfs"`)
	mounts := podman(t, "inspect", "--format", "{{range .Mounts}}{{.Type}}:{{.Name}}:{{.Destination}} {{end}}", app)
	if !strings.Contains(mounts, ":/anon") || !strings.Contains(mounts, "volume:"+ext+":/ext") {
		t.Errorf("mounts %s: want an anonymous volume at /anon and %s at /ext", mounts, ext)
	}

	c(0, "down", "-t", "0", "-v")
	if out, err := exec.Command("podman", "volume", "exists", ext).CombinedOutput(); err != nil {
		t.Errorf("down -v removed the external volume: %v %s", err, out)
	}
}

// The container-level keys.
func TestSpecContainerOptions(t *testing.T) {
	p := project(t)
	f := specFixture("options")
	name := p + "-opts"
	c := specIn(t, f, p, "SPEC_CONTAINER_NAME="+name, "SPEC_PLATFORM=linux/"+runtime.GOARCH)

	res := c(0, "config")
	mustContain(t, "config", res.stdout, "x-note: kept")
	mustContain(t, "config", res.stdout, "x-top: kept")

	c(0, "up", "-d")
	checkIn(t, name, "hostname; echo env=$SPEC_FROM_ENV_FILE", "opts-host", "env=yes")
	checkIn(t, name, "cat /etc/hosts", "10.1.2.3\tdb.example", "10.1.2.4\tcache.example")
	checkIn(t, name, "cat /etc/resolv.conf", "nameserver 10.9.9.9")
	checkIn(t, name, "cat /proc/1/cmdline | tr '\\0' ' '", "init")
	// the main process' limits (podman exec raises its own soft limit)
	checkIn(t, name, "grep -E 'open files|processes' /proc/1/limits", "1024                 2048", "512                  512")
	checkIn(t, name, "df -k /dev/shm | tail -1", "65536")
	checkIn(t, name, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start", "99")
	checkIn(t, name, "touch /rootfs 2>&1; echo rc=$?", "Read-only file system", "rc=1")
	// NET_ADMIN (bit 12) added, CHOWN (bit 0) dropped
	checkIn(t, name, "grep CapEff /proc/self/status", "00000000a80435fa")
	checkIn(t, p+"-plain-1", "grep CapEff /proc/self/status", "00000000a80425fb")
	checkIn(t, p+"-privileged-1", "grep CapEff /proc/self/status", "000001ff")

	ports := podman(t, "port", name)
	for _, want := range []string{"8080/tcp -> 0.0.0.0:18080", "8081/tcp -> 0.0.0.0:18081", "9090/udp -> 127.0.0.1:18090", "80/tcp -> 0.0.0.0:1810"} {
		mustContain(t, "ports", ports, want)
	}
	exposed := podman(t, "inspect", "--format", "{{json .NetworkSettings.Ports}}", name)
	for _, want := range []string{`"7000/tcp"`, `"7100/udp"`, `"7101/udp"`} {
		mustContain(t, "exposed ports", exposed, want)
	}
	got := podman(t, "inspect", "--format",
		`{{.Config.StopSignal}} {{.Config.StopTimeout}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}} {{index .Config.Labels "dev.cirun.e2e.label"}} {{.HostConfig.Memory}} {{.HostConfig.CpuQuota}} {{.HostConfig.PidsLimit}} {{.HostConfig.Privileged}}`, name)
	if want := "10 3 on-failure:3 yes 67108864 50000 100 false"; got != want {
		t.Errorf("inspect %s = %q, want %q", name, got, want)
	}
	if got := podman(t, "inspect", "--format", "{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.Privileged}}", p+"-plain-2"); got != "unless-stopped false" {
		t.Errorf("plain-2: %q", got)
	}
	if got := podman(t, "inspect", "--format", "{{.HostConfig.Privileged}}", p+"-privileged-1"); got != "true" {
		t.Errorf("privileged: %q", got)
	}
	c(0, "down", "-t", "0")
}

// A key cirun does not implement, and what Podman 4.3 cannot do, are
// errors that say so, naming the file, the service and the key.
func TestSpecUnsupportedIsAnError(t *testing.T) {
	p := project(t)
	f := specFixture("unsupported")
	res := specIn(t, f, p)(1, "up", "-d")
	msg := strings.TrimSpace(res.stderr)
	if want := f + ": services.app.uts: not supported by cirun yet"; msg != want {
		t.Errorf("error %q, want %q", msg, want)
	}
	if left := leftovers(p); len(left) > 0 {
		t.Errorf("a rejected file created %v", left)
	}
	// config prints any valid model, as docker compose does, and warns.
	res = specIn(t, f, p)(0, "config")
	mustContain(t, "config stdout", res.stdout, "uts: host")
	mustContain(t, "config stderr", res.stderr, "services.app.uts: not supported by cirun yet")
	// down (without -p: the project comes from the file) concerns existing
	// containers: the key is no error there.
	if res := cirun(t, nil, "-f", f, "down"); res.code != 0 {
		t.Errorf("down on the file with the unsupported key exited %d: %s", res.code, res.stderr)
	}

	res = specIn(t, filepath.Join(fixtures, "spec-unsupported", "tmpfs-size.yaml"), p)(1, "up", "-d")
	mustContain(t, "stderr", res.stderr, "creating volume "+p+"_mem (driver_opts o: size= needs a Podman newer than 4.3")
	if res := cirun(t, nil, "-p", p, "down", "-v", "-t", "0"); res.code != 0 {
		t.Errorf("down exited %d", res.code)
	}
}

// Sharing another service's container: volumes (read-only here), IPC, PID
// and network namespaces, created after it; down removes both.
func TestSpecSharedNamespaces(t *testing.T) {
	p := project(t)
	c := specIn(t, specFixture("shared"), p)
	c(0, "up", "-d")
	db, app := p+"-db-1", p+"-app-1"
	checkIn(t, db, "echo from-db > /var/data/f")
	checkIn(t, app, "cat /var/data/f; touch /var/data/g 2>&1; true", "from-db", "Read-only file system")
	checkIn(t, app, "ps", "sleep 301", "sleep 302")
	for _, ns := range []string{"ipc", "net"} {
		inDB := podman(t, "exec", db, "readlink", "/proc/self/ns/"+ns)
		inApp := podman(t, "exec", app, "readlink", "/proc/self/ns/"+ns)
		if inDB == "" || inDB != inApp {
			t.Errorf("%s namespace: db %q, app %q, want the same", ns, inDB, inApp)
		}
	}
	c(0, "down", "-t", "0")
}
