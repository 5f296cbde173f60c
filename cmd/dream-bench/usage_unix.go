//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// peakRSS is a finished child's maximum resident set size in bytes.
func peakRSS(ps *os.ProcessState) (int64, bool) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, false
	}
	return maxrssBytes(ru.Maxrss), true
}

// selfPeakRSS is this process's own maximum resident set size in bytes.
func selfPeakRSS() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return maxrssBytes(ru.Maxrss), true
}

// maxrssBytes converts ru_maxrss to bytes: Linux and the BSDs report kilobytes, macOS bytes.
func maxrssBytes(v int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return v
	}
	return v << 10
}

// cpuTime is the processor time this process has used so far, user and system, on all threads.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
