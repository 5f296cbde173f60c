//go:build unix

package batch

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// processRunning tells whether the process pid runs, and was started at start ("" when the
// claim did not say). known is false where that cannot be told.
func processRunning(pid int, start string) (running, known bool) {
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return false, true
	}
	if err != nil && !errors.Is(err, syscall.EPERM) { // EPERM: it runs, as another user
		return false, false
	}
	if now := processStart(pid); start != "" && now != "" && now != start {
		return false, true // the PID was given to a later process
	}
	return true, true
}

// processStart is when the process pid started, in clock ticks since boot (field 22 of
// /proc/PID/stat), or "" without /proc.
func processStart(pid int) string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) is in parentheses and may hold spaces: count after it.
	i := strings.LastIndexByte(string(stat), ')')
	fields := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(fields) < 20 {
		return ""
	}
	return fields[19] // fields[0] is field 3
}

// pidNamespace names this process's PID namespace on Linux, "" elsewhere.
func pidNamespace() string {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return ns
}
