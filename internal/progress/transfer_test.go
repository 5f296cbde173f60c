package progress

import (
	"testing"
	"time"
)

// A download's line: the bar and the MiB at once, then from half a second on the rate over
// the bytes fetched since the first report and the time the rest takes at that rate. Each case
// is a series of reports at known times; the line is the one drawn at the last.
func TestTransferLine(t *testing.T) {
	const mib = 1 << 20
	type at struct {
		done  int64
		after time.Duration
	}
	for _, tc := range []struct {
		name    string
		total   int64
		reports []at
		want    string
	}{
		{"first chunk", 100 * mib, []at{{64 << 10, 0}},
			"x.tgz [                        ] 0.1/100.0 MiB"},
		{"too early for a rate", 100 * mib, []at{{0, 0}, {5 * mib, 400 * time.Millisecond}},
			"x.tgz [#                       ] 5.0/100.0 MiB"},
		{"ten MiB a second", 100 * mib, []at{{0, 0}, {10 * mib, time.Second}, {20 * mib, 2 * time.Second}},
			"x.tgz [####                    ] 20.0/100.0 MiB, 10.0 MiB/s, ETA 8s"},
		// A resumed download starts at 60 MiB: only what came since counts.
		{"resumed", 100 * mib, []at{{60 * mib, 0}, {62 * mib, time.Second}},
			"x.tgz [##############          ] 62.0/100.0 MiB, 2.0 MiB/s, ETA 19s"},
		{"slow", 100 * mib, []at{{0, 0}, {512 << 10, 4 * time.Second}},
			"x.tgz [                        ] 0.5/100.0 MiB, 128 KiB/s, ETA 13m16s"},
		{"done", 100 * mib, []at{{0, 0}, {100 * mib, 10 * time.Second}},
			"x.tgz [########################] 100.0/100.0 MiB, 10.0 MiB/s"},
		{"no total", -1, []at{{0, 0}, {3 * mib, time.Second}},
			"x.tgz 3.0 MiB, 3.0 MiB/s"},
		// A download that started over (a server without ranges) restarts the clock.
		{"started over", 100 * mib, []at{{50 * mib, 0}, {60 * mib, time.Second}, {1 * mib, 2 * time.Second}, {5 * mib, 3 * time.Second}},
			"x.tgz [#                       ] 5.0/100.0 MiB, 4.0 MiB/s, ETA 24s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			tr := Transfer{Name: "x.tgz"}
			var got string
			for _, r := range tc.reports {
				got = tr.Line(r.done, tc.total, start.Add(r.after))
			}
			if got != tc.want {
				t.Errorf("line\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 KiB", 1000: "0 KiB", 300 << 10: "300 KiB", 113507888: "108.2 MiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
