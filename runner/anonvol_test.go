package runner

import (
	"reflect"
	"testing"

	"github.com/cirun-dev/cirun/engine"
)

func TestInheritVolumes(t *testing.T) {
	anon := map[string]string{"/anon": "v1", "/cache": "v2", "/gone": "v3", "/named": "v4"}
	spec := &engine.ContainerSpec{Mounts: []engine.Mount{
		{Type: engine.MountVolume, Target: "/anon"},
		{Type: engine.MountVolume, Source: "p_data", Target: "/named"},
	}}
	inheritVolumes(anon, engine.Image{Volumes: []string{"/cache", "/named"}})(spec)
	want := []engine.Mount{
		{Type: engine.MountVolume, Source: "v1", Target: "/anon"},
		{Type: engine.MountVolume, Source: "p_data", Target: "/named"},
		{Type: engine.MountVolume, Source: "v2", Target: "/cache"},
	}
	if !reflect.DeepEqual(spec.Mounts, want) {
		t.Errorf("mounts %+v\nwant %+v", spec.Mounts, want)
	}
	if left := map[string]string{"/gone": "v3", "/named": "v4"}; !reflect.DeepEqual(anon, left) {
		t.Errorf("not inherited %v, want %v", anon, left)
	}
	if inheritVolumes(nil, engine.Image{}) != nil {
		t.Error("nothing to inherit gives an override")
	}
}
