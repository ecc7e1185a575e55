package dryrun

import (
	"context"
	"errors"
	"testing"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
)

// Writes through the dry-run engine leave the real one untouched, and what
// the run reads back looks as if they had happened.
func TestWritesArePretended(t *testing.T) {
	ctx := context.Background()
	real := fake.New()
	real.AddImage("img", engine.Image{ID: "sha256:img"})
	if err := real.CreateNetwork(ctx, engine.NetworkSpec{Name: "p_old", Labels: map[string]string{"p": "x"}}); err != nil {
		t.Fatal(err)
	}
	old, err := real.CreateContainer(ctx, &engine.ContainerSpec{Name: "p-old-1", Image: "img", Labels: map[string]string{"p": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	d := New(real)
	if err := d.CreateNetwork(ctx, engine.NetworkSpec{Name: "p_default", Labels: map[string]string{"p": "x"}}); err != nil {
		t.Fatal(err)
	}
	id, err := d.CreateContainer(ctx, &engine.ContainerSpec{Name: "p-web-1", Image: "img", Labels: map[string]string{"p": "x"},
		Health: &engine.Healthcheck{Test: []string{"CMD", "true"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveContainer(ctx, old, engine.RemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveNetwork(ctx, "p_old"); err != nil {
		t.Fatal(err)
	}

	// The real engine: as before.
	if cs, _ := real.ListContainers(ctx, engine.Filter{All: true}); len(cs) != 1 || cs[0].ID != old {
		t.Errorf("real containers %+v, want only the old one", cs)
	}
	if ns, _ := real.ListNetworks(ctx, engine.Filter{}); len(ns) != 1 || ns[0].Name != "p_old" {
		t.Errorf("real networks %+v, want only p_old", ns)
	}
	// What the run sees: its container running and healthy, the removed
	// ones gone.
	cs, err := d.ListContainers(ctx, engine.Filter{Labels: map[string]string{"p": "x"}})
	if err != nil || len(cs) != 1 || cs[0].Name != "p-web-1" || cs[0].State != engine.StateRunning || cs[0].Health != engine.HealthHealthy {
		t.Errorf("dry-run containers %+v (%v), want p-web-1 running and healthy", cs, err)
	}
	if ns, _ := d.ListNetworks(ctx, engine.Filter{}); len(ns) != 1 || ns[0].Name != "p_default" {
		t.Errorf("dry-run networks %+v, want only p_default", ns)
	}
	if _, err := d.InspectNetwork(ctx, "p_old"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("inspect of a removed network: %v, want ErrNotFound", err)
	}
	if code, err := d.WaitContainer(ctx, id); code != 0 || err != nil {
		t.Errorf("wait: %d %v, want 0", code, err)
	}
	// Pulls and builds only make the image exist for the run.
	if ok, _ := d.ImageExists(ctx, "new:1"); ok {
		t.Fatal("new:1 exists before the pull")
	}
	if err := d.PullImage(ctx, "new:1", engine.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := d.ImageExists(ctx, "new:1"); !ok {
		t.Error("new:1 missing after the pretended pull")
	}
	if ok, _ := real.ImageExists(ctx, "new:1"); ok {
		t.Error("the pull reached the real engine")
	}
}
