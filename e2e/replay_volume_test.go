//go:build e2e

package e2e

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// docker compose's volumes_test.go replayed (see replay_env_test.go).

// Built images without a name, a bind mount, a read-only named volume, a
// volume with its own name, a config and a secret from a file; the
// anonymous volume survives --force-recreate and is renewed by
// --renew-anon-volumes; down -v removes the volumes (docker compose's
// TestLocalComposeVolume).
func TestReplayVolumes(t *testing.T) {
	p := project(t)
	vol := p + "-myvolume"
	c := specIn(t, filepath.Join(replayDir("volumes"), "compose.yaml"), p, "REPLAY_VOL="+vol)
	removeBuilt(t, p+"-web", p+"-web2")
	t.Cleanup(func() { _ = exec.Command("podman", "volume", "rm", "-f", vol).Run() })
	defer c(0, "down", "-t", "0", "-v")
	c(0, "up", "-d")
	web, web2 := p+"-web-1", p+"-web2-1"
	port := strings.TrimPrefix(strings.TrimSpace(c(0, "port", "web", "8080").stdout), "0.0.0.0:")
	var body string
	eventually(t, "web serves the bind-mounted page", 20*time.Second, func() bool {
		resp, err := http.Get("http://127.0.0.1:" + port + "/index.html")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	})
	mustContain(t, "web's page", body, "Hello from the web container")
	mounts := podman(t, "inspect", "--format", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}}\n{{end}}", web2)
	for _, want := range []string{"volume " + p + "_staticVol /srv/html false", "volume " + vol + " /srv/test true", "/usr/src/app/node_modules true", " /myconfig false", " /run/secrets/mysecret false"} {
		mustContain(t, web2+"'s mounts", mounts, want)
	}
	mustContain(t, web+"'s mounts", podman(t, "inspect", "--format", "{{range .Mounts}}{{.Type}} {{.Destination}}\n{{end}}", web), "bind /srv/html")
	checkIn(t, web2, "cat /myconfig /run/secrets/mysecret", "Hello from the web container\nHello from the web container")

	checkIn(t, web2, "touch /usr/src/app/node_modules/test && echo ok", "ok")
	c(0, "up", "--force-recreate", "-d")
	checkIn(t, web2, "ls /usr/src/app/node_modules/test", "/usr/src/app/node_modules/test")
	c(0, "up", "--force-recreate", "--renew-anon-volumes", "-d")
	checkIn(t, web2, "ls /usr/src/app/node_modules/ | grep -c test; true", "0")

	c(0, "down", "-t", "0", "-v")
	vols := podman(t, "volume", "ls", "--format", "{{.Name}}")
	for _, gone := range []string{p + "_staticVol", vol} {
		if slices.Contains(strings.Fields(vols), gone) {
			t.Errorf("volume %s left after down -v", gone)
		}
	}
}

// A second `up` of an unchanged service with a bind mount recreates
// nothing (docker compose's TestUpRecreateVolumes_IgnoreBinds).
func TestReplayBindNotRecreated(t *testing.T) {
	p := project(t)
	c := specIn(t, filepath.Join(replayDir("volume-recreate"), "bind.yaml"), p)
	defer c(0, "down", "-t", "0")
	c(0, "up", "-d")
	res := c(0, "up", "-d")
	if strings.Contains(res.stdout+res.stderr, "Recreate") {
		t.Errorf("second up recreated the container")
	}
}

// The service's external volume changes name: `up` recreates the container
// on the new one (docker compose's TestUpSwitchVolumes).
func TestReplaySwitchVolumes(t *testing.T) {
	p := project(t)
	f := filepath.Join(replayDir("switch-volumes"), "compose.yaml")
	one, two := p+"-ext1", p+"-ext2"
	for _, v := range []string{one, two} {
		if out, err := exec.Command("podman", "volume", "create", v).CombinedOutput(); err != nil {
			t.Fatalf("creating volume %s: %v: %s", v, err, out)
		}
	}
	t.Cleanup(func() { _ = exec.Command("podman", "volume", "rm", "-f", one, two).Run() })
	defer specIn(t, f, p, "REPLAY_EXT="+one)(0, "down", "-t", "0")
	specIn(t, f, p, "REPLAY_EXT="+one)(0, "up", "-d")
	if got := podman(t, "inspect", p+"-app-1", "-f", "{{ (index .Mounts 0).Name }}"); got != one {
		t.Errorf("first up mounts %q, want %s", got, one)
	}
	specIn(t, f, p, "REPLAY_EXT="+two)(0, "up", "-d")
	if got := podman(t, "inspect", p+"-app-1", "-f", "{{ (index .Mounts 0).Name }}"); got != two {
		t.Errorf("second up mounts %q, want %s", got, two)
	}
}

// A named volume whose labels changed is recreated by `up -y`, kept
// without it (docker compose's TestUpRecreateVolumes).
func TestReplayVolumeRecreate(t *testing.T) {
	p := project(t)
	dir := replayDir("volume-recreate")
	defer specIn(t, filepath.Join(dir, "compose.yaml"), p)(0, "down", "-t", "0", "-v")
	specIn(t, filepath.Join(dir, "compose.yaml"), p)(0, "up", "-d")
	if got := podman(t, "volume", "inspect", p+"_my_vol", "-f", `{{ index .Labels "foo" }}`); got != "bar" {
		t.Errorf("first up: label foo = %q, want bar", got)
	}
	// without -y (and no terminal to ask on) the volume is kept, with a warning
	res := specIn(t, filepath.Join(dir, "compose2.yaml"), p)(0, "up", "-d")
	mustContain(t, "stderr", res.stderr, `Volume "`+p+`_my_vol" exists but doesn't match configuration in compose file`)
	if got := podman(t, "volume", "inspect", p+"_my_vol", "-f", `{{ index .Labels "foo" }}`); got != "bar" {
		t.Errorf("up without -y: label foo = %q, want bar (kept)", got)
	}
	specIn(t, filepath.Join(dir, "compose2.yaml"), p)(0, "up", "-d", "-y")
	if got := podman(t, "volume", "inspect", p+"_my_vol", "-f", `{{ index .Labels "foo" }}`); got != "zot" {
		t.Errorf("up -y: label foo = %q, want zot", got)
	}
}

// A local volume binding a host directory through driver_opts shows what
// the host writes there after `up` (docker compose's TestProjectVolumeBind).
func TestReplayVolumeBind(t *testing.T) {
	p := project(t)
	dir := t.TempDir()
	c := specIn(t, filepath.Join(replayDir("volume-bind"), "compose.yaml"), p, "REPLAY_DIR="+dir, "REPLAY_CONTAINER="+p+"-frontend")
	defer c(0, "down", "-t", "0", "-v")
	c(0, "up", "-d")
	if err := os.WriteFile(filepath.Join(dir, "resultfile"), []byte("SUCCESS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkIn(t, p+"-frontend", "cat /data/resultfile", "SUCCESS")
}

// The anonymous volume of an image's VOLUME survives --force-recreate and
// is renewed by --renew-anon-volumes, as in docker compose.
func TestRecreateKeepsImageVolumes(t *testing.T) {
	p := project(t)
	id := e2eID(t)
	removeBuilt(t, "localhost/cirun-e2e-imagevolume:"+id)
	c := specIn(t, filepath.Join(fixtures, "recreate-image-volume", "compose.yaml"), p, "E2E_ID="+id)
	defer c(0, "down", "-t", "0", "-v")
	c(0, "up", "-d", "--build")
	app := p + "-app-1"
	checkIn(t, app, "touch /cache/kept && echo ok", "ok")
	c(0, "up", "-d", "--force-recreate")
	checkIn(t, app, "ls /cache", "kept")
	c(0, "up", "-d", "--force-recreate", "-V")
	checkIn(t, app, "ls /cache | grep -c kept; true", "0")
}
