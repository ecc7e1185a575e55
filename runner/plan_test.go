package runner

import (
	"testing"

	"github.com/cirun-dev/cirun/engine"
)

func ctr(name, num, hash, image, state string) engine.Container {
	return engine.Container{Name: name, State: state, Labels: map[string]string{
		engine.LabelContainerNumber: num, engine.LabelConfigHash: hash, engine.LabelImage: image}}
}

func withLabel(c engine.Container, k, v string) engine.Container {
	c.Labels[k] = v
	return c
}

func TestDecide(t *testing.T) {
	want := desired{Service: "db", Replicas: 2, Hash: "h1", ImageID: "img1", Volumes: "v1"}
	for _, c := range []struct {
		name     string
		existing []engine.Container
		policy   recreatePolicy
		want     string
	}{
		{"nothing yet", nil, recreateDiverged, "db-1: create\ndb-2: create"},
		{"running and unchanged", []engine.Container{
			ctr("p-db-1", "1", "h1", "img1", engine.StateRunning),
			ctr("p-db-2", "2", "h1", "img1", engine.StateRunning)}, recreateDiverged, "db-1: keep\ndb-2: keep"},
		{"stopped", []engine.Container{
			ctr("p-db-1", "1", "h1", "img1", engine.StateExited)}, recreateDiverged, "db-1: start\ndb-2: create"},
		{"config changed", []engine.Container{
			ctr("p-db-1", "1", "h0", "img1", engine.StateRunning)}, recreateDiverged, "db-1: recreate (config changed)\ndb-2: create"},
		{"image changed", []engine.Container{
			ctr("p-db-1", "1", "h1", "img0", engine.StateRunning)}, recreateDiverged, "db-1: recreate (image changed)\ndb-2: create"},
		{"volumes changed", []engine.Container{
			withLabel(ctr("p-db-1", "1", "h1", "img1", engine.StateRunning), engine.LabelVolumes, "v0")}, recreateDiverged, "db-1: recreate (volumes changed)\ndb-2: create"},
		{"no volumes label (older cirun)", []engine.Container{
			ctr("p-db-1", "1", "h1", "img1", engine.StateRunning)}, recreateDiverged, "db-1: keep\ndb-2: create"},
		{"no-recreate keeps a changed one", []engine.Container{
			ctr("p-db-1", "1", "h0", "img0", engine.StateRunning)}, recreateNever, "db-1: keep\ndb-2: create"},
		{"force-recreate", []engine.Container{
			ctr("p-db-1", "1", "h1", "img1", engine.StateRunning)}, recreateForce, "db-1: recreate (forced)\ndb-2: create"},
		{"scaled down", []engine.Container{
			ctr("p-db-1", "1", "h1", "img1", engine.StateRunning),
			ctr("p-db-2", "2", "h1", "img1", engine.StateRunning),
			ctr("p-db-3", "3", "h1", "img1", engine.StateRunning)}, recreateDiverged, "db-1: keep\ndb-2: keep\ndb-3: remove (scaled down)"},
		// docker compose's TestScaleDownNoRecreate: the out-of-date
		// replicas go first, the up-to-date ones keep their numbers
		{"scaled down, out of date first", []engine.Container{
			ctr("p-db-1", "1", "h1", "img0", engine.StateRunning),
			ctr("p-db-2", "2", "h1", "img0", engine.StateRunning),
			ctr("p-db-3", "3", "h1", "img1", engine.StateRunning),
			ctr("p-db-4", "4", "h1", "img1", engine.StateRunning)}, recreateDiverged, "db-3: keep\ndb-4: keep\ndb-1: remove (scaled down)\ndb-2: remove (scaled down)"},
		{"scaled down, one out of date", []engine.Container{
			ctr("p-db-1", "1", "h0", "img1", engine.StateRunning),
			ctr("p-db-2", "2", "h1", "img1", engine.StateRunning),
			ctr("p-db-3", "3", "h1", "img1", engine.StateRunning)}, recreateDiverged, "db-2: keep\ndb-3: keep\ndb-1: remove (scaled down)"},
		{"a gap is filled first", []engine.Container{
			ctr("p-db-2", "2", "h1", "img1", engine.StateRunning)}, recreateDiverged, "db-1: create\ndb-2: keep"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := decide(want, c.existing, c.policy).String(); got != c.want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}
