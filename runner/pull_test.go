package runner

import (
	"bytes"
	"context"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/engine/fake"
)

// registryProject builds a project of services named after what pull and
// push should do with them.
func registryProject(services map[string]func(*types.ServiceConfig)) *types.Project {
	p := &types.Project{Name: "p", WorkingDir: "/tmp", Services: types.Services{}}
	for n, f := range services {
		s := types.ServiceConfig{Name: n}
		f(&s)
		p.Services[n] = s
	}
	return p
}

func image(ref string) func(*types.ServiceConfig) {
	return func(s *types.ServiceConfig) { s.Image = ref }
}

func build(ref string, tags ...string) func(*types.ServiceConfig) {
	return func(s *types.ServiceConfig) {
		s.Image = ref
		s.Build = &types.BuildConfig{Context: ".", Tags: tags}
	}
}

func policy(ref, pol string) func(*types.ServiceConfig) {
	return func(s *types.ServiceConfig) { s.Image, s.PullPolicy = ref, pol }
}

type recorder struct {
	mu  sync.Mutex
	evs []string
}

func (r *recorder) event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, strings.TrimSpace(e.Name+" "+e.Status+" "+e.Detail))
}

func (r *recorder) has(t *testing.T, want ...string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range want {
		found := false
		for _, e := range r.evs {
			if e == w {
				found = true
			}
		}
		if !found {
			t.Errorf("no event %q in %q", w, r.evs)
		}
	}
}

func registryRunner() (*Runner, *fake.Engine, *recorder, *bytes.Buffer) {
	eng := fake.New()
	eng.AddImage("localhost/known", engine.Image{})
	eng.AddImage("localhost/known:v1", engine.Image{})
	rec := &recorder{}
	var errb bytes.Buffer
	r := New(eng, Options{Stderr: &errb, Events: rec.event, Clock: newAutoClock(), FastPoll: time.Millisecond})
	return r, eng, rec, &errb
}

func pulls(eng *fake.Engine) []string {
	var out []string
	for _, c := range eng.Calls() {
		if strings.HasPrefix(c, "pull ") || strings.HasPrefix(c, "push ") {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func TestPullSkipsWhatDockerComposeSkips(t *testing.T) {
	r, eng, rec, errb := registryRunner()
	p := registryProject(map[string]func(*types.ServiceConfig){
		"a-pulled":     image("localhost/known"),
		"b-build-only": build(""),
		"c-never":      policy("localhost/never", types.PullPolicyNever),
		"d-buildable":  build("localhost/missing"),
		"f-same-image": image("localhost/known"),
		"g-present":    policy("localhost/known:v1", types.PullPolicyMissing),
	})
	if err := r.Pull(context.Background(), p, PullOptions{}); err != nil {
		t.Fatalf("pull: %v", err)
	}
	if got, want := pulls(eng), []string{"pull localhost/known", "pull localhost/missing"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pulls %q, want %q", got, want)
	}
	rec.has(t,
		"a-pulled Pulled",
		"b-build-only Skipped No image to be pulled",
		"c-never Skipped",
		"f-same-image Skipped Image is already being pulled by a-pulled",
		"g-present Skipped Image is already present locally",
	)
	if !strings.Contains(errb.String(), "must be built from source") || !strings.Contains(errb.String(), "d-buildable") {
		t.Errorf("stderr %q: want the must-build warning", errb.String())
	}
}

func TestPullFailuresFailUnlessIgnored(t *testing.T) {
	r, _, _, _ := registryRunner()
	p := registryProject(map[string]func(*types.ServiceConfig){"e": image("localhost/missing"), "a": image("localhost/known")})
	if err := r.Pull(context.Background(), p, PullOptions{}); err == nil || !strings.Contains(err.Error(), "service e") {
		t.Errorf("pull of a missing image = %v, want an error naming e", err)
	}
	if err := r.Pull(context.Background(), p, PullOptions{IgnoreFailures: true}); err != nil {
		t.Errorf("pull --ignore-pull-failures = %v", err)
	}
	if err := r.Pull(context.Background(), p, PullOptions{Services: []string{"nope"}}); err == nil || err.Error() != "no such service: nope" {
		t.Errorf("pull nope = %v", err)
	}
}

func TestPushOnlyBuiltImagesWithAName(t *testing.T) {
	r, eng, rec, errb := registryRunner()
	p := registryProject(map[string]func(*types.ServiceConfig){
		"built":      build("localhost/known", "localhost/known:v1"),
		"image-only": image("localhost/known"),
		"build-only": build(""),
	})
	if err := r.Push(context.Background(), p, PushOptions{}); err != nil {
		t.Fatalf("push: %v", err)
	}
	if got, want := pulls(eng), []string{"push localhost/known", "push localhost/known:v1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pushes %q, want %q", got, want)
	}
	rec.has(t, "image-only Skipped", "build-only Skipped", "localhost/known Pushed")
	p.Services["broken"] = registryProject(map[string]func(*types.ServiceConfig){"broken": build("localhost/unknown")}).Services["broken"]
	if err := r.Push(context.Background(), p, PushOptions{}); err == nil || !strings.Contains(err.Error(), "service broken") {
		t.Errorf("push of a missing image = %v", err)
	}
	if err := r.Push(context.Background(), p, PushOptions{IgnoreFailures: true}); err != nil {
		t.Errorf("push --ignore-push-failures = %v", err)
	}
	if !strings.Contains(errb.String(), "Pushing broken: ") {
		t.Errorf("stderr %q", errb.String())
	}
}

func TestInsecureRegistry(t *testing.T) {
	for ref, want := range map[string]bool{
		"localhost:5000/a":     true,
		"127.0.0.1:5000/a/b:1": true,
		"[::1]:5000/a":         true,
		"localhost/a":          true,
		"registry.example/a":   false,
		"busybox":              false,
		"library/busybox":      false,
	} {
		if got := insecureRegistry(ref); got != want {
			t.Errorf("insecureRegistry(%q) = %v, want %v", ref, got, want)
		}
	}
}
