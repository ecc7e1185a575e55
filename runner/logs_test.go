package runner

import (
	"context"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// logs --index N shows the service's container number N only, and needs
// exactly one service.
func TestLogsIndex(t *testing.T) {
	ctx := context.Background()
	r, eng, out := specRunner(t)
	hello := types.ServiceConfig{Name: "hello"}
	hello.Image = "img"
	hello.Command = types.ShellCommand{"sleep", "300"}
	hello.Scale = intPtr(2)
	hello.Networks = map[string]*types.ServiceNetworkConfig{"default": nil}
	p := &types.Project{Name: "p", WorkingDir: "/tmp", Services: types.Services{"hello": hello},
		Networks: types.Networks{"default": {Name: "p_default"}}}
	if err := r.Up(ctx, p, UpOptions{Detach: true}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"p-hello-1", "p-hello-2"} {
		if err := eng.AppendLog(n, false, "from "+n+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	out.Reset()
	if err := r.Logs(ctx, "p", LogsOptions{Services: []string{"hello"}, Index: 2}); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != "hello-2  | from p-hello-2\n" {
		t.Errorf("logs --index 2 hello:\n%s", got)
	}
	for _, o := range []LogsOptions{{Index: 1}, {Services: []string{"hello", "other"}, Index: 1}} {
		if err := r.Logs(ctx, "p", o); err == nil || !strings.Contains(err.Error(), "exactly one service") {
			t.Errorf("logs %+v: %v, want an error", o, err)
		}
	}
	if err := r.Logs(ctx, "p", LogsOptions{Services: []string{"hello"}, Index: 3}); err == nil || !strings.Contains(err.Error(), `"hello" has no container #3`) {
		t.Errorf("logs --index 3: %v", err)
	}
}

func intPtr(n int) *int { return &n }
