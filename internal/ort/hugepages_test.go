package ort

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestWithHugePages(t *testing.T) {
	tests := []struct {
		env     []string
		want    []string
		changed bool
	}{
		{[]string{"HOME=/root"}, []string{"HOME=/root", "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, true},
		{[]string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2", "HOME=/root"},
			[]string{"GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1", "HOME=/root"}, true},
		// The user's own choice stands, and so does the restart's.
		{[]string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, false},
		{[]string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, []string{"GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, false},
	}
	for _, tt := range tests {
		before := slices.Clone(tt.env)
		got, changed := withHugePages(tt.env)
		if !slices.Equal(got, tt.want) || changed != tt.changed {
			t.Errorf("withHugePages(%q) = %q, %v; want %q, %v", before, got, changed, tt.want, tt.changed)
		}
		if !slices.Equal(tt.env, before) {
			t.Errorf("withHugePages changed its argument to %q", tt.env)
		}
	}
}

const hugePagesChildEnv = "DREAM_HUGEPAGES_CHILD"

// A program that calls UseHugePages runs on, as the same process, with the tunable set when
// the kernel gives huge pages on request, and with its environment and arguments otherwise
// as they were.
func TestUseHugePagesRestartsOnce(t *testing.T) {
	if os.Getenv(hugePagesChildEnv) != "" {
		UseHugePages()
		os.Stdout.WriteString(os.Getenv("GLIBC_TUNABLES") + "\n" + os.Getenv(hugePagesChildEnv) + "\n")
		os.Exit(0)
	}
	setting, err := os.ReadFile(thpSetting)
	if err != nil {
		t.Fatalf("cannot read the kernel's huge pages setting: %v", err)
	}
	want := "glibc.malloc.arena_max=8"
	if strings.Contains(string(setting), "[madvise]") {
		want += ":" + hugePagesTunable
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUseHugePagesRestartsOnce$")
	cmd.Env = append(os.Environ(), hugePagesChildEnv+"=kept", "GLIBC_TUNABLES=glibc.malloc.arena_max=8")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if got := strings.Fields(string(out)); !slices.Equal(got, []string{want, "kept"}) {
		t.Errorf("child saw GLIBC_TUNABLES and its own variable as %q, want %q", got, []string{want, "kept"})
	}
}
