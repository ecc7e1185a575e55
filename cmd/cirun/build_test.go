package main

import (
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// build --ssh is 'default' or ID=PATH.
func TestSSHFlag(t *testing.T) {
	for in, want := range map[string][]types.SSHKey{
		"":                  nil,
		"default":           {{ID: "default"}},
		"deploy=/keys/id_1": {{ID: "deploy", Path: "/keys/id_1"}},
	} {
		got, err := sshFlag(in)
		if err != nil || len(got) != len(want) || (len(want) == 1 && got[0] != want[0]) {
			t.Errorf("sshFlag(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := sshFlag("=/path"); err == nil {
		t.Error(`--ssh "=/path" accepted`)
	}
}
