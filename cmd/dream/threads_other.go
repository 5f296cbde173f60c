//go:build !linux

package main

import "runtime"

// readCPUShare reads what the scheduler gives this process; elsewhere than Linux, Go's CPU
// count stands for the rest.
func readCPUShare(getenv func(string) string) cpuShare {
	return cpuShare{slurmCPUs: getenv("SLURM_CPUS_PER_TASK"), cores: runtime.NumCPU()}
}
