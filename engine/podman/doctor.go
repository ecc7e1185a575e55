package podman

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/containers/podman/v4/pkg/bindings/images"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/podman/rest"
)

// Check is one finding of Doctor.
type Check struct {
	Name   string
	OK     bool
	Detail string // what was found
	Fix    string // when not OK: the command or file line that fixes it
}

// DoctorImages are the local images Doctor tries, in order, for its test
// containers; when none exists it uses any local image.
var DoctorImages = []string{
	"localhost/cirun/busybox:latest",
	"docker.io/library/busybox:latest",
	"docker.io/library/alpine:latest",
	"localhost/debian:bookworm",
}

// labelDoctor marks what Doctor creates, so a crashed run's leftovers can
// be found.
const labelDoctor = "dev.cirun.doctor"

// Doctor checks the host's Podman setup: the podman binary, the service,
// the OCI runtime, networking with DNS between containers, rootless
// prerequisites and the storage driver. Every failing check says how to
// fix it. Everything Doctor creates is removed.
func Doctor(ctx context.Context, opts Options) []Check {
	var checks []Check
	add := func(c Check) { checks = append(checks, c) }

	add(checkBinary(ctx))

	start := time.Now()
	e, err := New(ctx, opts)
	if err != nil {
		add(Check{Name: "service", Detail: err.Error(), Fix: serviceFix(opts)})
		for _, n := range []string{"OCI runtime", "network and DNS", "storage driver"} {
			add(Check{Name: n, Detail: "not checked: no podman service", Fix: "fix the service check first"})
		}
		add(checkRootless())
		return checks
	}
	defer e.Close()
	info, err := e.Info(ctx)
	if err != nil {
		add(Check{Name: "service", Detail: fmt.Sprintf("%s (%s) connected but info failed: %v", e.Endpoint(), e.Source(), err), Fix: serviceFix(opts)})
	} else {
		detail := fmt.Sprintf("%s (%s), podman %s, API %s, connected in %v", e.Endpoint(), describeSource(e.Source()), info.Version, info.APIVersion, time.Since(start).Round(time.Millisecond))
		if e.svc != nil {
			detail += fmt.Sprintf("; containers.conf %s, log %s", e.svc.conf, e.svc.log)
		}
		add(Check{Name: "service", OK: true, Detail: detail})
	}

	img, imgErr := doctorImage(ctx, e)
	add(checkRuntime(ctx, e, info, img, imgErr))
	add(checkNetwork(ctx, e, img, imgErr))
	add(checkRootless())
	add(checkStorage(info, err))
	return checks
}

func describeSource(s string) string {
	switch s {
	case SourceOwn:
		return "cirun's own service"
	case SourceSystem:
		return "found running"
	case SourceEnv:
		return "from CONTAINER_HOST"
	case SourceOption:
		return "from --host"
	}
	return s
}

func checkBinary(ctx context.Context) Check {
	c := Check{Name: "podman binary"}
	path, err := exec.LookPath("podman")
	if err != nil {
		c.Detail = "podman is not in PATH"
		c.Fix = "apt-get install podman runc uidmap slirp4netns netavark aardvark-dns (Debian/Ubuntu); dnf install podman (Fedora)"
		return c
	}
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		c.Detail = fmt.Sprintf("%s --version failed: %v", path, err)
		c.Fix = "reinstall podman (apt-get install --reinstall podman)"
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%s: %s", path, strings.TrimSpace(string(out)))
	return c
}

func serviceFix(opts Options) string {
	if opts.Host != "" || os.Getenv("CONTAINER_HOST") != "" {
		return "start the service behind CONTAINER_HOST/--host, or unset it to let cirun start its own"
	}
	dir := opts.ServiceDir
	if dir == "" {
		dir = rest.ServiceDir()
	}
	return fmt.Sprintf("read %s; by hand: mkdir -p %s && CONTAINERS_CONF=%s podman system service --time=0 unix://%s",
		filepath.Join(dir, "podman.log"), dir, filepath.Join(dir, "containers.conf"), filepath.Join(dir, "podman.sock"))
}

// doctorImage picks a local image for test containers.
func doctorImage(ctx context.Context, e *Engine) (string, error) {
	for _, ref := range DoctorImages {
		if ok, err := e.ImageExists(ctx, ref); err == nil && ok {
			return ref, nil
		}
	}
	list, err := images.List(e.ctx(ctx), nil)
	if err != nil {
		return "", fmt.Errorf("listing images: %w", err)
	}
	for _, img := range list {
		for _, tag := range img.RepoTags {
			if tag != "" && !strings.Contains(tag, "<none>") {
				return tag, nil
			}
		}
	}
	return "", errors.New("no local image to test with")
}

const imageFix = "create a small local image: scripts/setup.sh images (builds localhost/cirun/busybox from busybox-static), or podman pull busybox where a registry is reachable"

func randName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// cleanupCtx gives removals time even when ctx has ended.
func cleanupCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

func checkRuntime(ctx context.Context, e *Engine, info engine.Info, img string, imgErr error) Check {
	c := Check{Name: "OCI runtime"}
	if imgErr != nil {
		c.Detail = imgErr.Error()
		c.Fix = imageFix
		return c
	}
	name := randName("cirun-doctor-rt-")
	spec := &engine.ContainerSpec{Name: name, Image: img, Command: []string{"sh", "-c", "exit 0"},
		Labels: map[string]string{labelDoctor: "1"}}
	start := time.Now()
	id, err := e.CreateContainer(ctx, spec)
	if err == nil {
		defer func() {
			cctx, cancel := cleanupCtx()
			defer cancel()
			_ = e.RemoveContainer(cctx, id, engine.RemoveOptions{Force: true, Volumes: true})
		}()
		err = e.StartContainer(ctx, id)
	}
	var code int
	if err == nil {
		code, err = e.WaitContainer(ctx, id)
	}
	if err == nil && code != 0 {
		err = fmt.Errorf("test container exited %d", code)
	}
	if err != nil {
		c.Detail = fmt.Sprintf("runtime %s could not run a container from %s: %v", info.Runtime, img, err)
		c.Fix = runtimeFix(err.Error(), e)
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%s ran a container from %s in %v", info.Runtime, img, time.Since(start).Round(time.Millisecond))
	return c
}

func runtimeFix(msg string, e *Engine) string {
	where := "the [engine]/[containers] sections of /etc/containers/containers.conf (or ~/.config/containers/containers.conf)"
	if e.svc != nil {
		where = e.svc.conf + " (cirun rewrites it at each service start: report this)"
	}
	switch {
	case strings.Contains(msg, "hybrid mode") || strings.Contains(msg, "crun"):
		return fmt.Sprintf("apt-get install runc, then runtime = \"runc\" under [engine] in %s", where)
	case strings.Contains(msg, "setrlimit") || strings.Contains(msg, "RLIMIT"):
		return fmt.Sprintf("default_ulimits = [] under [containers] in %s", where)
	case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file"):
		return imageFix
	}
	return "run the same container by hand to see the runtime's error: podman run --rm " + DoctorImages[0] + " true"
}

func checkNetwork(ctx context.Context, e *Engine, img string, imgErr error) Check {
	c := Check{Name: "network and DNS"}
	if imgErr != nil {
		c.Detail = imgErr.Error()
		c.Fix = imageFix
		return c
	}
	labels := map[string]string{labelDoctor: "1"}
	net := randName("cirun-doctor-net-")
	start := time.Now()
	if err := e.CreateNetwork(ctx, engine.NetworkSpec{Name: net, Labels: labels}); err != nil {
		c.Detail = err.Error()
		c.Fix = "apt-get install netavark aardvark-dns iptables; a cni-podman0 bridge on 10.88.0.0/16 left by CNI tools conflicts: ip link delete cni-podman0"
		return c
	}
	var ids []string
	defer func() {
		cctx, cancel := cleanupCtx()
		defer cancel()
		for _, id := range ids {
			_ = e.RemoveContainer(cctx, id, engine.RemoveOptions{Force: true, Volumes: true})
		}
		_ = e.RemoveNetwork(cctx, net)
	}()
	server := &engine.ContainerSpec{
		Name: net + "-a", Image: img, Labels: labels, Command: []string{"sleep", "60"},
		Networks: []engine.NetworkAttachment{{Name: net, Aliases: []string{"doctor-a"}}},
	}
	id, err := e.CreateContainer(ctx, server)
	if err == nil {
		ids = append(ids, id)
		err = e.StartContainer(ctx, id)
	}
	if err != nil {
		c.Detail = fmt.Sprintf("starting a container on network %s: %v", net, err)
		c.Fix = "apt-get install netavark aardvark-dns iptables; check the service log for netavark errors"
		return c
	}
	// glibc images have getent, busybox ones nslookup; ping as a last resort.
	probe := "getent hosts doctor-a 2>/dev/null || nslookup doctor-a 2>/dev/null || ping -c1 -W2 doctor-a"
	client := &engine.ContainerSpec{
		Name: net + "-b", Image: img, Labels: labels, Command: []string{"sh", "-c", probe},
		Networks: []engine.NetworkAttachment{{Name: net}},
	}
	id, err = e.CreateContainer(ctx, client)
	var out bytes.Buffer
	if err == nil {
		ids = append(ids, id)
		err = e.StartAttached(ctx, id, engine.Streams{Stdout: &out, Stderr: &out})
	}
	code := -1
	if err == nil {
		code, err = e.WaitContainer(ctx, id)
	}
	if err != nil || code != 0 {
		c.Detail = fmt.Sprintf("a container on a fresh network could not resolve another by name (exit %d, err %v): %s", code, err, strings.TrimSpace(out.String()))
		c.Fix = "apt-get install aardvark-dns (name resolution on podman networks needs netavark's aardvark-dns)"
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("two containers on a fresh network, one resolved the other by name (%v)", time.Since(start).Round(time.Millisecond))
	return c
}

func checkRootless() Check {
	c := Check{Name: "rootless prerequisites"}
	if os.Geteuid() == 0 {
		c.OK = true
		c.Detail = "not needed: running as root"
		return c
	}
	u, err := user.Current()
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	var problems, fixes []string
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if n := subIDCount(f, u.Username, u.Uid); n < 65536 {
			problems = append(problems, fmt.Sprintf("%s has %d ids for %s (want 65536)", f, n, u.Username))
			fixes = append(fixes, fmt.Sprintf("add the line %q to %s", u.Username+":100000:65536", f))
		}
	}
	if f, err := os.OpenFile("/dev/net/tun", os.O_RDWR, 0); err != nil {
		problems = append(problems, fmt.Sprintf("/dev/net/tun is not usable: %v", err))
		fixes = append(fixes, "as root: chmod 0666 /dev/net/tun (slirp4netns needs it)")
	} else {
		f.Close()
	}
	if _, err := exec.LookPath("newuidmap"); err != nil {
		problems = append(problems, "newuidmap is missing")
		fixes = append(fixes, "apt-get install uidmap")
	}
	if len(problems) > 0 {
		c.Detail = strings.Join(problems, "; ")
		c.Fix = strings.Join(fixes, "; ")
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("subuid/subgid ranges for %s, /dev/net/tun usable, newuidmap present", u.Username)
	return c
}

// subIDCount sums the ranges for user (by name or uid) in an /etc/subuid
// style file.
func subIDCount(path, name, uid string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	total := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(parts) != 3 || (parts[0] != name && parts[0] != uid) {
			continue
		}
		if n, err := strconv.Atoi(parts[2]); err == nil {
			total += n
		}
	}
	return total
}

func checkStorage(info engine.Info, infoErr error) Check {
	c := Check{Name: "storage driver"}
	if infoErr != nil {
		c.Detail = infoErr.Error()
		c.Fix = "podman info must work first"
		return c
	}
	c.OK = true
	switch info.Storage {
	case "overlay":
		c.Detail = "overlay"
	case "vfs":
		c.Detail = "vfs: works, but copies every layer (slow, large); apt-get install fuse-overlayfs and set driver = \"overlay\" in storage.conf for speed"
	default:
		c.Detail = info.Storage
	}
	return c
}
