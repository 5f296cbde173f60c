//go:build !unix

package main

import (
	"os"
	"time"
)

// peakRSS is not available without getrusage.
func peakRSS(*os.ProcessState) (int64, bool) { return 0, false }

// selfPeakRSS is not available without getrusage.
func selfPeakRSS() (int64, bool) { return 0, false }

// cpuTime is not available without getrusage.
func cpuTime() (time.Duration, bool) { return 0, false }
