package runner

import (
	"reflect"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func depProject(deps map[string][]string) *types.Project {
	p := &types.Project{Name: "p", Services: types.Services{}}
	for name, ds := range deps {
		s := types.ServiceConfig{Name: name}
		s.DependsOn = types.DependsOnConfig{}
		for _, d := range ds {
			s.DependsOn[d] = types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: true}
		}
		p.Services[name] = s
	}
	return p
}

func TestClosureAndOrder(t *testing.T) {
	p := depProject(map[string][]string{"tests": {"app"}, "app": {"db", "cache"}, "db": nil, "cache": nil, "other": nil})
	got, err := closure(p, []string{"tests"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"app", "cache", "db", "tests"}; !reflect.DeepEqual(got, want) {
		t.Errorf("closure = %v, want %v", got, want)
	}
	ord, err := order(p, got)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cache", "db", "app", "tests"}; !reflect.DeepEqual(ord, want) {
		t.Errorf("order = %v, want %v", ord, want)
	}
}

func TestOrderRejectsCycles(t *testing.T) {
	p := depProject(map[string][]string{"a": {"b"}, "b": {"a"}})
	if _, err := order(p, []string{"a", "b"}); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("order of a cycle = %v, want a cycle error", err)
	}
}

func TestClosureUnknownDependency(t *testing.T) {
	p := depProject(map[string][]string{"app": {"dbx"}})
	_, err := closure(p, []string{"app"})
	if err == nil || !strings.Contains(err.Error(), `undefined service "dbx"`) {
		t.Errorf("closure = %v, want undefined service error", err)
	}
}
