package ort

import (
	"os"
	"strings"
	"syscall"
)

// ONNX Runtime's arena takes gigabytes for a large window (4.4 GB for an x4plus window of 950k
// pixels) and the first run of a window size writes all of it, one page fault per 4 KiB page.
// Where the kernel hands out transparent huge pages only to memory that asks for them (the
// "madvise" setting of Debian and Ubuntu), glibc's malloc asks when GLIBC_TUNABLES holds
// glibc.malloc.hugetlb=1, which it reads only as the process starts. Measured on a 2-core
// virtual machine, where page faults are dear: the first x4plus run on a 704×1350 window took
// 105 s instead of 179 s, later ones 100 s instead of 112 s, and a warm 512² run 29.0 s
// instead of 31.2 s.

// hugePagesTunable is the glibc tunable that makes malloc advise huge pages.
const hugePagesTunable = "glibc.malloc.hugetlb=1"

// thpSetting is where Linux says which memory gets transparent huge pages.
const thpSetting = "/sys/kernel/mm/transparent_hugepage/enabled"

// UseHugePages starts the program again, as the same process, with glibc's malloc asking for
// transparent huge pages, when the kernel gives them only on request and the environment does
// not ask yet. It returns when there is nothing to do or the restart fails, which costs
// nothing but the speed. Call it first thing in main, before ONNX Runtime is loaded.
func UseHugePages() {
	setting, err := os.ReadFile(thpSetting)
	if err != nil || !strings.Contains(string(setting), "[madvise]") {
		return
	}
	env, changed := withHugePages(os.Environ())
	if !changed {
		return
	}
	self, err := os.Executable()
	if err != nil {
		return
	}
	syscall.Exec(self, os.Args, env)
}

// withHugePages is env with the huge pages tunable added to GLIBC_TUNABLES, keeping the
// tunables already set; changed is false when they name glibc.malloc.hugetlb already (the
// user's choice, or the restart's).
func withHugePages(env []string) (out []string, changed bool) {
	const key = "GLIBC_TUNABLES="
	for i, kv := range env {
		value, ok := strings.CutPrefix(kv, key)
		if !ok {
			continue
		}
		if strings.Contains(value, "glibc.malloc.hugetlb=") {
			return env, false
		}
		out = append(out, env[:i]...)
		out = append(out, key+value+":"+hugePagesTunable)
		return append(out, env[i+1:]...), true
	}
	return append(env[:len(env):len(env)], key+hugePagesTunable), true
}
