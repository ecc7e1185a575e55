package main

import "testing"

func TestParseScaleArgs(t *testing.T) {
	got, err := parseScaleArgs([]string{"front=3", "back=0"})
	if err != nil || len(got) != 2 || got["front"] != 3 || got["back"] != 0 {
		t.Errorf("parseScaleArgs = %v, %v", got, err)
	}
	for _, bad := range [][]string{nil, {"front"}, {"=2"}, {"front="}, {"front=x"}, {"front=-1"}} {
		if _, err := parseScaleArgs(bad); err == nil {
			t.Errorf("parseScaleArgs(%q) accepted", bad)
		}
	}
}
