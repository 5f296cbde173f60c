package main

import "testing"

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64 // 0: an error
	}{
		{"800M", 800 << 20},
		{"4G", 4 << 30},
		{"4g", 4 << 30},
		{"1.5GiB", 3 << 29},
		{"512MB", 512 << 20},
		{"64k", 64 << 10},
		{"536870912", 536870912},
		{"100B", 100},
		{" 2G ", 2 << 30},
		{"", 0},
		{"G", 0},
		{"-1G", 0},
		{"0", 0},
		{"4T", 0},
		{"lots", 0},
		{"1e20", 0},
		{"NaN", 0},
	}
	for _, c := range cases {
		got, err := parseSize(c.in)
		switch {
		case c.want == 0 && err == nil:
			t.Errorf("parseSize(%q) = %d, want an error", c.in, got)
		case c.want != 0 && (err != nil || got != c.want):
			t.Errorf("parseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}
