package runner

import (
	"reflect"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func TestLinks(t *testing.T) {
	got := links(types.ServiceConfig{Links: []string{"db", "web:container"}})
	want := []link{{"db", "db"}, {"web", "container"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("links %v, want %v", got, want)
	}
	ips := map[string]string{"p_back": "10.0.1.2", "p_front": "10.0.2.2"}
	for _, c := range []struct {
		mine map[string]bool
		want string
	}{
		{map[string]bool{"p_front": true}, "10.0.2.2"},
		{nil, "10.0.1.2"},
		{map[string]bool{"other": true}, ""},
	} {
		if got := linkAddress(ips, c.mine); got != c.want {
			t.Errorf("linkAddress(%v) = %q, want %q", c.mine, got, c.want)
		}
	}
}
