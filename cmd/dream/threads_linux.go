package main

import (
	"os"
	"path"
	"runtime"
	"strings"
)

// readCPUShare reads what the scheduler, the affinity mask and the cgroup give this process.
func readCPUShare(getenv func(string) string) cpuShare {
	// On Linux Go's CPU count is the affinity mask's, read at start (sched_getaffinity).
	c := cpuShare{slurmCPUs: getenv("SLURM_CPUS_PER_TASK"), affinity: runtime.NumCPU(), quota: cgroupCPUQuota()}
	if online, err := os.ReadFile("/sys/devices/system/cpu/online"); err == nil {
		c.cores = countCPUList(string(online))
	}
	if c.cores == 0 {
		c.cores = c.affinity // the best left
	}
	return c
}

// cgroupCPUQuota is the tightest cpu.max of this process's cgroup v2 and its parents, in CPUs;
// 0 when none limits it (or the machine has cgroup v1 only).
func cgroupCPUQuota() float64 {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	var group string
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			group = path.Clean("/" + rest)
		}
	}
	if group == "" {
		return 0
	}
	tightest := 0.0
	for {
		max, err := os.ReadFile(path.Join("/sys/fs/cgroup", group, "cpu.max"))
		if q := parseCPUMax(string(max)); err == nil && q > 0 && (tightest == 0 || q < tightest) {
			tightest = q
		}
		if group == "/" {
			return tightest
		}
		group = path.Dir(group)
	}
}
