package runner

import (
	"fmt"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
)

// closure returns names plus every service they depend on (transitively),
// sorted. Optional dependencies (required: false) on services that are not
// in the project are skipped, as docker compose does.
func closure(p *types.Project, names []string) ([]string, error) {
	seen := map[string]bool{}
	var visit func(string, string) error
	visit = func(name, from string) error {
		if seen[name] {
			return nil
		}
		s, ok := p.Services[name]
		if !ok {
			if from != "" {
				return fmt.Errorf("service %q depends on undefined service %q", from, name)
			}
			return fmt.Errorf("no such service: %s", name)
		}
		seen[name] = true
		for dep, d := range s.DependsOn {
			if _, ok := p.Services[dep]; !ok && !d.Required {
				continue
			}
			if err := visit(dep, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := visit(n, ""); err != nil {
			return nil, err
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// order returns the services in a dependency-respecting order (dependencies
// first, ties by name) or an error naming a cycle.
func order(p *types.Project, names []string) ([]string, error) {
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	var out []string
	var visit func(string, []string) error
	visit = func(n string, path []string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("dependency cycle: %v", append(path, n))
		case 2:
			return nil
		}
		state[n] = 1
		deps := make([]string, 0)
		for d := range p.Services[n].DependsOn {
			if in[d] {
				deps = append(deps, d)
			}
		}
		sort.Strings(deps)
		for _, d := range deps {
			if err := visit(d, append(path, n)); err != nil {
				return err
			}
		}
		state[n] = 2
		out = append(out, n)
		return nil
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	for _, n := range sorted {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dependents returns the services among names that depend on svc.
func dependents(p *types.Project, names []string, svc string) []string {
	var out []string
	for _, n := range names {
		if _, ok := p.Services[n].DependsOn[svc]; ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
