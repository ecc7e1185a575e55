package runner

import (
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestVolumeHash(t *testing.T) {
	bar := types.VolumeConfig{Name: "p_v", Labels: types.Labels{"foo": "bar"}}
	if volumeHash(bar) != volumeHash(types.VolumeConfig{Name: "p_v", Driver: "local", Labels: types.Labels{"foo": "bar"}}) {
		t.Error("the default driver and local hash differently")
	}
	for name, changed := range map[string]types.VolumeConfig{
		"label":       {Name: "p_v", Labels: types.Labels{"foo": "zot"}},
		"driver_opts": {Name: "p_v", Labels: types.Labels{"foo": "bar"}, DriverOpts: types.Options{"type": "tmpfs"}},
	} {
		if volumeHash(changed) == volumeHash(bar) {
			t.Errorf("a changed %s keeps the hash", name)
		}
	}
}
