package main

import (
	"strings"
	"testing"
)

func TestDefaultThreads(t *testing.T) {
	tests := []struct {
		name  string
		share cpuShare
		want  int
		why   string // "" when every core is used
	}{
		{"every core", cpuShare{affinity: 16, cores: 16}, 16, ""},
		{"slurm", cpuShare{slurmCPUs: "4", affinity: 16, quota: 8, cores: 16}, 4, "SLURM_CPUS_PER_TASK=4"},
		{"slurm gives every core", cpuShare{slurmCPUs: "16", affinity: 16, cores: 16}, 16, ""},
		{"slurm's value unreadable", cpuShare{slurmCPUs: "four", affinity: 2, cores: 16}, 2, "affinity mask: 2 of 16"},
		{"taskset", cpuShare{affinity: 1, cores: 2}, 1, "affinity mask: 1 of 2"},
		{"affinity wins over the quota", cpuShare{affinity: 3, quota: 1.5, cores: 8}, 3, "affinity mask"},
		{"cgroup quota rounded up", cpuShare{affinity: 8, quota: 1.5, cores: 8}, 2, "cpu.max: 1.5 of 8"},
		{"cgroup quota above the cores", cpuShare{affinity: 8, quota: 12, cores: 8}, 8, ""},
		{"affinity unknown", cpuShare{quota: 2, cores: 4}, 2, "cpu.max: 2 of 4"},
	}
	for _, tt := range tests {
		got, why := defaultThreads(tt.share)
		if got != tt.want || (tt.why == "") != (why == "") || !strings.Contains(why, tt.why) {
			t.Errorf("%s: %d threads (%q), want %d (%q)", tt.name, got, why, tt.want, tt.why)
		}
	}
}

func TestCPUFiles(t *testing.T) {
	for list, want := range map[string]int{"0-1\n": 2, "0": 1, "0-3,8,10-11": 7, "": 0, "3-1": 0, "a-b": 0} {
		if got := countCPUList(list); got != want {
			t.Errorf("countCPUList(%q) = %d, want %d", list, got, want)
		}
	}
	for text, want := range map[string]float64{"max 100000\n": 0, "150000 100000\n": 1.5, "50000 100000": 0.5, "": 0, "x 1": 0} {
		if got := parseCPUMax(text); got != want {
			t.Errorf("parseCPUMax(%q) = %g, want %g", text, got, want)
		}
	}
}
