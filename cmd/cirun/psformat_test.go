package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cirun-dev/cirun/engine"
	"github.com/cirun-dev/cirun/runner"
)

func TestDisplayPorts(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []engine.PortMapping
		want string
	}{
		{"exposed only", []engine.PortMapping{{ContainerPort: 8080, Protocol: "tcp"}, {ContainerPort: 80, Protocol: "tcp"}, {ContainerPort: 443}},
			"80/tcp, 443/tcp, 8080/tcp"},
		{"published elsewhere", []engine.PortMapping{{HostIP: "127.0.0.1", HostPort: 8001, ContainerPort: 8000, Protocol: "tcp"}},
			"127.0.0.1:8001->8000/tcp"},
		{"same number range", []engine.PortMapping{{HostPort: 5001, ContainerPort: 5001}, {HostPort: 5000, ContainerPort: 5000}},
			"0.0.0.0:5000-5001->5000-5001/tcp"},
		{"exposed range and udp", []engine.PortMapping{{ContainerPort: 90, Protocol: "udp"}, {ContainerPort: 91, Protocol: "udp"}, {ContainerPort: 81}},
			"81/tcp, 90-91/udp"},
		{"mixed", []engine.PortMapping{{HostPort: 8080, ContainerPort: 80}, {ContainerPort: 443}},
			"443/tcp, 0.0.0.0:8080->80/tcp"},
		{"none", nil, ""},
	} {
		if got := displayPorts(tc.in); got != tc.want {
			t.Errorf("%s: displayPorts = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func psFixture(now time.Time) []engine.Container {
	return []engine.Container{
		{ID: "0123456789abcdef", Name: "p-web-1", Image: "alpine", State: engine.StateRunning, Command: []string{"sleep", "infinity"},
			Labels:  map[string]string{engine.LabelProject: "p", engine.LabelService: "web", "x": "y"},
			Created: now.Add(-time.Minute), StartedAt: now.Add(-2 * time.Second),
			Ports: []engine.PortMapping{{ContainerPort: 80, Protocol: "tcp"}, {HostIP: "127.0.0.1", HostPort: 8001, ContainerPort: 8000, Protocol: "tcp"}}},
		{ID: "fedcba9876543210", Name: "p-db-1", Image: "alpine", State: engine.StateStopped, ExitCode: 137,
			Labels:  map[string]string{engine.LabelProject: "p", engine.LabelService: "db"},
			Created: now.Add(-time.Hour), StartedAt: now.Add(-time.Hour), FinishedAt: now.Add(-30 * time.Second)},
	}
}

func TestWritePs(t *testing.T) {
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	cs := psFixture(now)
	for _, tc := range []struct{ format, want string }{
		{"{{.Name}}", "p-web-1\np-db-1\n"},
		{`{{.Service}} {{.State}} {{.ExitCode}}`, "web running 0\ndb exited 137\n"},
		{`{{.ID}} {{.Label "x"}}`, "0123456789ab y\nfedcba987654 \n"},
		{`{{.Status}}`, "Up 2 seconds\nExited (137) 30 seconds ago\n"},
		{`{{.RunningFor}}`, "About a minute ago\nAbout an hour ago\n"},
		{`table {{.Name}}\t{{.State}}`, "NAME      STATE\np-web-1   running\np-db-1    exited\n"},
		{"{{json .Publishers}}", `[{"URL":"","TargetPort":80,"PublishedPort":0,"Protocol":"tcp"},{"URL":"127.0.0.1","TargetPort":8000,"PublishedPort":8001,"Protocol":"tcp"}]` + "\n[]\n"},
	} {
		var out bytes.Buffer
		if err := writePs(&out, cs, tc.format, true, now); err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if out.String() != tc.want {
			t.Errorf("format %q:\n%s\nwant:\n%s", tc.format, out.String(), tc.want)
		}
	}

	var out bytes.Buffer
	if err := writePs(&out, cs, "table", true, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME ") || !strings.Contains(lines[0], "SERVICE") {
		t.Fatalf("table:\n%s", out.String())
	}
	if !strings.Contains(lines[1], "80/tcp, 127.0.0.1:8001->8000/tcp") || !strings.Contains(lines[1], `"sleep infinity"`) {
		t.Errorf("web row %q: want the exposed and the published port, the command quoted", lines[1])
	}

	out.Reset()
	if err := writePs(&out, cs[:1], "json", true, now); err != nil {
		t.Fatal(err)
	}
	var row struct {
		Name, Project, Service, State string
		Publishers                    []publisher
	}
	if err := json.Unmarshal(out.Bytes(), &row); err != nil {
		t.Fatal(err)
	}
	if row.Name != "p-web-1" || row.Project != "p" || row.State != "running" || len(row.Publishers) != 2 || row.Publishers[1].PublishedPort != 8001 {
		t.Errorf("json row %+v", row)
	}

	if err := writePs(&out, cs, "{{.Nope", true, now); err == nil {
		t.Error("a broken template: want an error")
	}
}

func TestPsStatusFilter(t *testing.T) {
	got, err := psStatusFilter([]string{"running"}, "status=exited")
	if err != nil || strings.Join(got, ",") != "running,exited" {
		t.Errorf("got %v, %v", got, err)
	}
	for _, bad := range [][2]string{{"up", ""}, {"", "state=running"}, {"", "status"}} {
		var st []string
		if bad[0] != "" {
			st = []string{bad[0]}
		}
		if _, err := psStatusFilter(st, bad[1]); err == nil {
			t.Errorf("status %q filter %q: want an error", bad[0], bad[1])
		}
	}
}

func TestWriteTemplateLs(t *testing.T) {
	stacks := []runner.Stack{{Name: "a", Status: "running(2)", ConfigFiles: "/x/compose.yaml"}}
	var out bytes.Buffer
	if err := writeTemplate(&out, "{{.Name}} {{.Status}}", lsHeader, stacks); err != nil || out.String() != "a running(2)\n" {
		t.Errorf("ls template: %q, %v", out.String(), err)
	}
	out.Reset()
	if err := writeTemplate(&out, `table {{.Name}}\t{{.Status}}`, lsHeader, stacks); err != nil || out.String() != "NAME      STATUS\na         running(2)\n" {
		t.Errorf("ls table template: %q, %v", out.String(), err)
	}
}
