package main

import (
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// build --ssh adds its key to every service that builds, and only to those.
func TestAddBuildSSH(t *testing.T) {
	app, db, other := types.ServiceConfig{Name: "app"}, types.ServiceConfig{Name: "db"}, types.ServiceConfig{Name: "other"}
	app.Build = &types.BuildConfig{Context: "."}
	db.Image = "db"
	other.Build = &types.BuildConfig{Context: ".", SSH: types.SSHConfig{{ID: "mine", Path: "/k"}}}
	p := &types.Project{Services: types.Services{"app": app, "db": db, "other": other}}
	if err := addBuildSSH(p, "default"); err != nil {
		t.Fatal(err)
	}
	if ssh := p.Services["app"].Build.SSH; len(ssh) != 1 || ssh[0] != (types.SSHKey{ID: "default"}) {
		t.Errorf("app ssh %v, want [default]", ssh)
	}
	if ssh := p.Services["other"].Build.SSH; len(ssh) != 2 || ssh[1] != (types.SSHKey{ID: "default"}) {
		t.Errorf("other ssh %v, want its own key then default", ssh)
	}
	if p.Services["db"].Build != nil {
		t.Error("a service without build got one")
	}
	if err := addBuildSSH(p, "=/path"); err == nil {
		t.Error(`--ssh "=/path" accepted`)
	}
}
