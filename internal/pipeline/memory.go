package pipeline

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// PhysicalMemory is the machine's RAM in bytes, from /proc/meminfo; 0 where that cannot be
// read (other systems), which callers treat as "not plentiful".
func PhysicalMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kib, err := strconv.ParseUint(fields[1], 10, 64)
			if err == nil {
				return kib << 10
			}
		}
	}
	return 0
}
