package version

import (
	"runtime/debug"
	"testing"
)

// The version a build reports, for each kind of build the go command makes.
func TestFromBuild(t *testing.T) {
	vcs := func(revision, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: revision},
			{Key: "vcs.modified", Value: modified}}
	}
	const commit = "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d"
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build information", nil, Base},
		{"go test", &debug.BuildInfo{Main: debug.Module{Path: "dream", Version: "(devel)"}}, Base},
		{"tagged release", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}, Settings: vcs(commit, "false")}, "1.2.0"},
		{"tagged, changed tree", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0+dirty"}, Settings: vcs(commit, "true")}, "1.2.0+dirty"},
		{"untagged commit", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260301120000-1a2b3c4d5e6f"},
			Settings: vcs(commit, "false")}, Base + "-1a2b3c4d5e6f"},
		{"untagged, changed tree", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260301120000-1a2b3c4d5e6f+dirty"},
			Settings: vcs(commit, "true")}, Base + "-1a2b3c4d5e6f-dirty"},
		{"commit without a module version", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(commit, "false")},
			Base + "-1a2b3c4d5e6f"},
		{"pseudo-version without vcs settings", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260301120000-1a2b3c4d5e6f"}},
			"0.0.0-20260301120000-1a2b3c4d5e6f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fromBuild(tc.info, tc.info != nil); got != tc.want {
				t.Errorf("fromBuild = %q, want %q", got, tc.want)
			}
		})
	}
}

// A test binary carries no version of its own, so the variable holds Base.
func TestVersionIsFilledIn(t *testing.T) {
	if Version != Base {
		t.Errorf("Version = %q in a test binary, want %q", Version, Base)
	}
}
