package main

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes --max_memory takes, in bytes. K, M and G are binary (as free and
// top count), with or without "iB" or "B".
var sizeUnits = []struct {
	suffix string
	bytes  int64
}{
	{"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10},
	{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10},
	{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10},
	{"b", 1}, {"", 1},
}

// parseSize reads a size such as "800M", "4G", "1.5GiB" or "536870912".
func parseSize(s string) (int64, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	for _, u := range sizeUnits {
		number, ok := strings.CutSuffix(text, u.suffix)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(number), 64)
		if err != nil || !(v > 0 && v*float64(u.bytes) <= 1<<50) { // also refuses NaN
			break
		}
		return int64(v * float64(u.bytes)), nil
	}
	return 0, fmt.Errorf("%q is not a size: use a number with K, M or G, such as 800M or 4G", s)
}
