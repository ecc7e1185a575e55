package compose

import (
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// configFixture is fixtures/config, the project `cirun config` tests share.
func configFixture(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "fixtures", "config"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestServiceHash(t *testing.T) {
	dir := configFixture(t)
	p, _ := mustLoad(t, Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Environ: []string{"NAP=1"}})
	app := p.Services["app"]
	base := ServiceHash(app)
	if len(base) != 64 {
		t.Fatalf("hash %q is not a hex SHA-256", base)
	}

	// what does not recreate a container does not change the hash
	same := app
	same.Build = nil
	same.PullPolicy = types.PullPolicyAlways
	same.SetScale(3)
	same.DependsOn = nil
	same.Profiles = []string{"x"}
	if h := ServiceHash(same); h != base {
		t.Errorf("build/pull_policy/scale/depends_on/profiles changed the hash")
	}

	// what defines the container does; the env_file's variables count,
	// since Load folds them into environment
	if app.Environment["GREETING"] == nil || *app.Environment["GREETING"] != "hello" {
		t.Fatalf("env_file not folded: %v", app.Environment)
	}
	changed := app
	changed.Environment = types.MappingWithEquals{}
	for k, v := range app.Environment {
		changed.Environment[k] = v
	}
	hi := "hi"
	changed.Environment["GREETING"] = &hi
	if ServiceHash(changed) == base {
		t.Error("a different environment kept the hash")
	}
	changed = app
	changed.Image = "other"
	if ServiceHash(changed) == base {
		t.Error("a different image kept the hash")
	}
}
