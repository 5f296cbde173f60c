package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// cpuShare is what this process may use of the machine, as read at start.
type cpuShare struct {
	slurmCPUs string  // SLURM_CPUS_PER_TASK, "" when unset
	affinity  int     // CPUs in the affinity mask (taskset, cpusets); 0 when unknown
	quota     float64 // the cgroup v2 cpu.max quota, in CPUs; 0 when there is none
	cores     int     // CPUs online
}

// defaultThreads is the number of intra-op threads when --threads is not given: what Slurm
// gave the task (SLURM_CPUS_PER_TASK), else the CPUs the affinity mask allows, else the
// cgroup's CPU quota rounded up, else every core. Shards sharing a node would otherwise each
// start a thread per core and slow one another down. why names the rule that applied when it
// is not every core, for the line dream prints on start; it is "" otherwise.
func defaultThreads(c cpuShare) (threads int, why string) {
	if n, err := strconv.Atoi(strings.TrimSpace(c.slurmCPUs)); err == nil && n > 0 {
		if n == c.cores {
			return n, ""
		}
		return n, fmt.Sprintf("SLURM_CPUS_PER_TASK=%d; the machine has %d cores", n, c.cores)
	}
	if c.affinity > 0 && c.affinity < c.cores {
		return c.affinity, fmt.Sprintf("the CPU affinity mask: %d of %d cores", c.affinity, c.cores)
	}
	if c.quota > 0 && c.quota < float64(c.cores) {
		return int(math.Ceil(c.quota)), fmt.Sprintf("the cgroup's cpu.max: %s of %d cores", strconv.FormatFloat(c.quota, 'f', -1, 64), c.cores)
	}
	return c.cores, ""
}

// countCPUList counts the CPUs of a Linux CPU list such as "0-3,8,10-11" (as in
// /sys/devices/system/cpu/online); 0 when it cannot be read.
func countCPUList(list string) int {
	n := 0
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		first, last, isRange := strings.Cut(part, "-")
		lo, err1 := strconv.Atoi(first)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(last)
		}
		if err1 != nil || err2 != nil || hi < lo {
			return 0
		}
		n += hi - lo + 1
	}
	return n
}

// parseCPUMax reads a cgroup v2 cpu.max, "QUOTA PERIOD" in microseconds or "max PERIOD", as
// CPUs; 0 for no limit or text it cannot read.
func parseCPUMax(text string) float64 {
	fields := strings.Fields(text)
	if len(fields) != 2 || fields[0] == "max" {
		return 0
	}
	quota, err1 := strconv.ParseFloat(fields[0], 64)
	period, err2 := strconv.ParseFloat(fields[1], 64)
	if err1 != nil || err2 != nil || quota <= 0 || period <= 0 {
		return 0
	}
	return quota / period
}
