package runner

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cirun-dev/cirun/engine"
)

// Links (`links: [SERVICE[:ALIAS]]`) as docker's legacy links: the linking
// container's /etc/hosts maps ALIAS and SERVICE to the address of
// SERVICE's first container on a network both are on. The loader makes
// each link a depends_on (service_started); the linked service's
// container is awaited before the linking one is created, since its
// address is only known once it runs. Unlike docker, the address is not
// updated if the linked container is recreated later.

// link is one entry of links.
type link struct{ service, alias string }

func links(svc types.ServiceConfig) []link {
	var out []link
	for _, l := range svc.Links {
		name, alias, ok := strings.Cut(l, ":")
		if !ok {
			alias = name
		}
		out = append(out, link{name, alias})
	}
	return out
}

// awaitLinks waits until the services svc links to are up, when this
// command brings them up (runs).
func (s *session) awaitLinks(ctx context.Context, svc types.ServiceConfig, runs map[string]*svcRun) error {
	var services []string
	for _, l := range links(svc) {
		services = append(services, l.service)
	}
	return awaitRuns(ctx, services, runs)
}

// linkHosts returns the extra /etc/hosts entries (NAME:IP) of svc's links
// for a container created from spec. A linked service without a running
// container gives none.
func (s *session) linkHosts(ctx context.Context, svc types.ServiceConfig, spec *engine.ContainerSpec) ([]string, error) {
	ls := links(svc)
	if len(ls) == 0 || (spec.NetworkMode != "" && spec.NetworkMode != "bridge") {
		return nil, nil // no network of its own: no hosts file of its own either
	}
	mine := map[string]bool{}
	for _, n := range spec.Networks {
		mine[n.Name] = true
	}
	var hosts []string
	for _, l := range ls {
		f := engine.ProjectFilter(s.project.Name)
		f.All = false
		f.Labels[engine.LabelService] = l.service
		f.Labels[engine.LabelOneoff] = "False"
		cs, err := s.r.eng.ListContainers(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("listing containers of service %s: %w", l.service, err)
		}
		if len(cs) == 0 {
			continue
		}
		sort.Slice(cs, func(i, j int) bool {
			ni, _ := strconv.Atoi(cs[i].Labels[engine.LabelContainerNumber])
			nj, _ := strconv.Atoi(cs[j].Labels[engine.LabelContainerNumber])
			return ni < nj
		})
		c, err := s.r.eng.InspectContainer(ctx, cs[0].ID)
		if err != nil {
			return nil, fmt.Errorf("inspecting container %s: %w", cs[0].Name, err)
		}
		ip := linkAddress(c.IPs, mine)
		if ip == "" {
			continue
		}
		hosts = append(hosts, l.alias+":"+ip)
		if l.alias != l.service {
			hosts = append(hosts, l.service+":"+ip)
		}
	}
	return hosts, nil
}

// linkAddress picks the address on a network in mine (any network when
// mine is empty: the container joins the engine's default one), the
// lowest network name first.
func linkAddress(ips map[string]string, mine map[string]bool) string {
	names := make([]string, 0, len(ips))
	for n := range ips {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if len(mine) == 0 || mine[n] {
			return ips[n]
		}
	}
	return ""
}

// awaitRuns waits until the services this command brings up (runs) among
// services are done; errDepFailed if one failed.
func awaitRuns(ctx context.Context, services []string, runs map[string]*svcRun) error {
	for _, name := range services {
		run := runs[name]
		if run == nil {
			continue
		}
		select {
		case <-run.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if run.err != nil {
			return errDepFailed
		}
	}
	return nil
}
