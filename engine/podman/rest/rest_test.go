package rest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/engine"
)

// The client asks Podman's libpod API what the bindings ask (path, all,
// label filters) and maps its answers and errors as engine/podman did with
// the bindings. Podman itself answers in engine/podman's
// TestFrontClientMatchesEngine and the conformance suite.
func TestClientRequestsAndAnswers(t *testing.T) {
	var gotQuery url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/prefix/v4.0.0/libpod/containers/json":
			gotQuery = r.URL.Query()
			_, _ = w.Write([]byte(`[
			 {"Id":"b","Names":["p-web-1"],"State":"running","Status":"Up 3 seconds (healthy)","Labels":{"p":"x","s":"web"},
			  "Ports":[{"host_ip":"","container_port":80,"host_port":8080,"range":2,"protocol":"tcp"}],"Networks":["z","a"],"StartedAt":1700000000},
			 {"Id":"a","Names":["p-db-1"],"State":"configured","Labels":{"p":"x"}},
			 {"Id":"c","Names":["other"],"State":"running","Labels":{"q":"y"}}]`))
		case "/prefix/v4.0.0/libpod/containers/a/json":
			_, _ = w.Write([]byte(`{"Id":"a","Name":"p-db-1","ImageName":"img","Path":"/run/podman-init","Args":["--","mysqld"],
			 "Config":{"Labels":{"p":"x","dev.cirun.health.interval":"1.5s"},"Healthcheck":{"Test":["CMD","true"],"Interval":1000000000,"Retries":3}},
			 "State":{"Status":"exited","ExitCode":3,"Health":{"Status":""}},
			 "NetworkSettings":{"Networks":{"p_default":{}},"Ports":{"3306/tcp":[],"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"8081"}]}}}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"cause":"no such container","message":"no container with name or ID \"zz\" found: no such container","response":404}`))
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	u.Scheme, u.Path = "tcp", "/prefix"
	c := New(srv.Client(), u)
	ctx := context.Background()

	list, err := c.ListContainers(ctx, engine.Filter{Labels: map[string]string{"p": "x", "s": ""}, All: true})
	if err != nil {
		t.Fatal(err)
	}
	var filters map[string][]string
	if err := json.Unmarshal([]byte(gotQuery.Get("filters")), &filters); err != nil || gotQuery.Get("all") != "true" ||
		!reflect.DeepEqual(filters["label"], []string{"p=x", "s"}) {
		t.Errorf("query %v: want all=true and label filters [p=x s]", gotQuery)
	}
	// "c" lacks the labels (Podman filters server-side; the client checks
	// the AND again); "a" lacks label s.
	if len(list) != 1 || list[0].Name != "p-web-1" {
		t.Fatalf("list = %+v, want p-web-1 only", list)
	}
	web := list[0]
	wantPorts := []engine.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}, {HostPort: 8081, ContainerPort: 81, Protocol: "tcp"}}
	if web.Health != engine.HealthHealthy || !reflect.DeepEqual(web.Ports, wantPorts) || !reflect.DeepEqual(web.Networks, []string{"a", "z"}) ||
		!web.StartedAt.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("listed %+v", web)
	}

	db, err := c.InspectContainer(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(db.Command, []string{"mysqld"}) || db.State != engine.StateExited || db.ExitCode != 3 ||
		db.Health != engine.HealthStarting || db.Healthcheck == nil || db.Healthcheck.Interval != 1500*time.Millisecond ||
		!reflect.DeepEqual(db.Networks, []string{"p_default"}) || len(db.Ports) != 2 || db.Ports[0].ContainerPort != 80 || db.Ports[1].HostPort != 0 {
		t.Errorf("inspected %+v (check %+v)", db, db.Healthcheck)
	}
	if _, err := c.InspectContainer(ctx, "zz"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("missing container: %v, want ErrNotFound", err)
	}
}

func TestDialAndProbe(t *testing.T) {
	if _, err := Dial("ssh://core@host/run/podman.sock"); err == nil {
		t.Error("Dial(ssh://...) succeeded; the front binary cannot do ssh")
	}
	if err := Probe(context.Background(), filepath.Join(t.TempDir(), "none.sock")); err == nil {
		t.Error("Probe of a missing socket succeeded")
	}
	if State("configured") != engine.StateCreated || State("stopping") != engine.StateRunning || State("paused") != "paused" {
		t.Error("State mapping")
	}
}
