package main

import (
	"testing"
	"time"
)

func TestLogTime(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"", time.Time{}},
		{"42m", now.Add(-42 * time.Minute)},
		{"2013-01-02T13:23:37Z", time.Date(2013, 1, 2, 13, 23, 37, 0, time.UTC)},
		{"2013-01-02T13:23:37.5+01:00", time.Date(2013, 1, 2, 12, 23, 37, 5e8, time.UTC)},
		{"1360000000.5", time.Unix(1360000000, 5e8)},
	} {
		got, err := logTime("since", c.in, now)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("logTime(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	if _, err := logTime("until", "yesterday", now); err == nil {
		t.Error(`logTime("yesterday") succeeded`)
	}
}
