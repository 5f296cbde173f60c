package progress

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"dream/internal/pipeline"
)

// The bar shows 0/N before any item is done, then the rate over the items done since the
// task's clock started (its last report of 0, or its first report) and the time the rest will
// take at that rate. Each case is a task's reports at known times, with a fake clock; the
// line is the one drawn at the last report.
func TestProgressLine(t *testing.T) {
	tiles := pipeline.Task{Name: "upscaling ×4", Unit: "tiles"}
	steps := pipeline.Task{Name: "generating", Unit: "steps"}
	fine := pipeline.Task{Name: "upscaling ×2", Unit: "tiles", PerUnit: 1000}
	cases := []struct {
		name    string
		task    pipeline.Task
		total   int
		reports []report
		want    string
	}{
		{"at once", tiles, 12, []report{{0, 0}},
			"upscaling ×4 [                        ] 0/12 tiles"},
		{"a minute in, nothing done", tiles, 12, []report{{0, 0}, {0, time.Minute}},
			"upscaling ×4 [                        ] 0/12 tiles"},
		{"one tile", tiles, 12, []report{{0, 0}, {1, 16 * time.Second}},
			"upscaling ×4 [##                      ] 1/12 tiles, 16.0 s/it, ETA 2m56s"},
		// The case: steps of 52 s showed as 25.8 and 34.4 s/it, k steps over the
		// time of k−1.
		{"three 52 s steps", steps, 30, []report{{0, 0}, {1, 52 * time.Second}, {2, 104 * time.Second}, {3, 156 * time.Second}},
			"generating [##                      ] 3/30 steps, 52.0 s/it, ETA 23m24s"},
		{"one 52 s step", steps, 30, []report{{0, 0}, {1, 52 * time.Second}},
			"generating [                        ] 1/30 steps, 52.0 s/it, ETA 25m08s"},
		{"half-second steps", steps, 30, []report{{0, 0}, {1, 500 * time.Millisecond}, {2, time.Second}, {3, 1500 * time.Millisecond}},
			"generating [##                      ] 3/30 steps, 2.00 it/s, ETA 14s"},
		// A slow first step (the session warming up) counts: it is part of the time taken.
		{"slow first step", steps, 30, []report{{0, 0}, {1, 3 * time.Second}, {2, 4 * time.Second}, {3, 5 * time.Second}},
			"generating [##                      ] 3/30 steps, 1.7 s/it, ETA 45s"},
		// The pipeline reports 0 before the upscaler's model loads, the upscaler again before
		// the first tile: the 10 s of loading are no tile's time.
		{"model loading", tiles, 12, []report{{0, 0}, {0, 10 * time.Second}, {1, 14 * time.Second}},
			"upscaling ×4 [##                      ] 1/12 tiles, 4.0 s/it, ETA 44s"},
		{"fast", tiles, 40, []report{{0, 0}, {30, 10 * time.Second}},
			"upscaling ×4 [##################      ] 30/40 tiles, 3.00 it/s, ETA 3s"},
		{"done", tiles, 12, []report{{0, 0}, {12, 120 * time.Second}},
			"upscaling ×4 [########################] 12/12 tiles, 10.0 s/it"},
		// A task that first reports 1 is credited only with what it did after that.
		{"first report at 1", tiles, 50, []report{{1, 0}, {3, 100 * time.Second}},
			"upscaling ×4 [#                       ] 3/50 tiles, 50.0 s/it, ETA 39m10s"},
		{"hours", tiles, 200, []report{{0, 0}, {1, time.Minute}},
			"upscaling ×4 [                        ] 1/200 tiles, 60.0 s/it, ETA 3h19m"},
		// The upscaler counts thousandths of a tile, and the bar shows tiles in tenths,
		// rounded down: 0.5 tile in 41 s is 82 s a tile.
		{"part of a tile", fine, 2000, []report{{0, 0}, {500, 41 * time.Second}},
			"upscaling ×2 [######                  ] 0.5/2 tiles, 82.0 s/it, ETA 2m03s"},
		{"just short of a tile", fine, 2000, []report{{0, 0}, {999, 80 * time.Second}},
			"upscaling ×2 [###########             ] 0.9/2 tiles, 80.1 s/it, ETA 1m20s"},
		{"a whole tile", fine, 2000, []report{{0, 0}, {1000, 80 * time.Second}},
			"upscaling ×2 [############            ] 1/2 tiles, 80.0 s/it, ETA 1m20s"},
		{"all tiles", fine, 2000, []report{{0, 0}, {2000, 160 * time.Second}},
			"upscaling ×2 [########################] 2/2 tiles, 80.0 s/it"},
		// Counting down (a new run of the same task, say with smaller tiles) starts afresh.
		{"started again", tiles, 20, []report{{0, 0}, {5, 100 * time.Second}, {0, 110 * time.Second}, {2, 116 * time.Second}},
			"upscaling ×4 [##                      ] 2/20 tiles, 3.0 s/it, ETA 54s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bar Bar
			for _, r := range c.reports {
				bar.Report(c.task, r.done, c.total, clock(r.at))
			}
			last := c.reports[len(c.reports)-1]
			if got := bar.Line(clock(last.at)); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
		})
	}
}

// The images of a -n 3 line of 30 steps each: every image's bar shows its own rate and time
// left, and the line's: the image's time left, the later images' steps at the rate of all the
// line's steps so far, and for each image still to be decoded the time the last one took to
// decode and save.
func TestProgressLineOfImages(t *testing.T) {
	image := func(i int) pipeline.Task {
		return pipeline.Task{Name: fmt.Sprintf("generating %d/3", i+1), Unit: "steps", Part: i, Parts: 3}
	}
	// Image 1 takes 60 s, 2 s a step, and 5 s to decode and save.
	first := []partReport{{image(0), 0, 0}, {image(0), 10, 20 * time.Second}, {image(0), 30, 60 * time.Second}}
	cases := []struct {
		name    string
		reports []partReport
		want    string
	}{
		{"image 1 at 0", first[:1],
			"generating 1/3 [            ] 0/30 steps"},
		// Decoding is left out until an image has been decoded.
		{"image 1 at 10", first[:2],
			"generating 1/3 [####        ] 10/30 steps, 2.0 s/it, ETA 40s (line 2m40s)"},
		{"image 1 done", first,
			"generating 1/3 [############] 30/30 steps, 2.0 s/it, line ETA 2m00s"},
		// No rate of its own before its first step, but the line has one: 60 steps at 2 s,
		// and two images to decode at 5 s.
		{"image 2 at 0", append(first[:3:3], partReport{image(1), 0, 65 * time.Second}),
			"generating 2/3 [            ] 0/30 steps, line ETA 2m10s"},
		{"image 2 at 10", append(first[:3:3], partReport{image(1), 0, 65 * time.Second}, partReport{image(1), 10, 85 * time.Second}),
			"generating 2/3 [####        ] 10/30 steps, 2.0 s/it, ETA 40s (line 1m50s)"},
		// Image 2 runs at 4 s a step: its ETA says so, and the line's takes it in; the
		// line's rate, 100 s over 40 steps, is for image 3's 30 steps: 80 + 75 + 10 s.
		{"image 2 slower", append(first[:3:3], partReport{image(1), 0, 65 * time.Second}, partReport{image(1), 10, 105 * time.Second}),
			"generating 2/3 [####        ] 10/30 steps, 4.0 s/it, ETA 1m20s (line 2m45s)"},
		// The last image, slower than the line so far: the line still has its decoding left
		// after the image's steps.
		{"image 3 slower", append(first[:3:3], partReport{image(1), 0, 65 * time.Second}, partReport{image(1), 30, 125 * time.Second},
			partReport{image(2), 0, 135 * time.Second}, partReport{image(2), 10, 175 * time.Second}),
			"generating 3/3 [####        ] 10/30 steps, 4.0 s/it, ETA 1m20s (line 1m30s)"},
		{"image 3 at 29", append(first[:3:3], partReport{image(1), 0, 65 * time.Second}, partReport{image(1), 30, 125 * time.Second},
			partReport{image(2), 0, 135 * time.Second}, partReport{image(2), 29, 193 * time.Second}),
			"generating 3/3 [########### ] 29/30 steps, 2.0 s/it, ETA 2s (line 12s)"},
		{"image 3 done", append(first[:3:3], partReport{image(1), 0, 65 * time.Second}, partReport{image(1), 30, 125 * time.Second},
			partReport{image(2), 0, 135 * time.Second}, partReport{image(2), 30, 195 * time.Second}),
			"generating 3/3 [############] 30/30 steps, 2.0 s/it"},
		// A bar that first sees a line's second image tells the line's time left from that
		// image's steps alone.
		{"image 2 alone", []partReport{{image(1), 0, 0}, {image(1), 10, 20 * time.Second}},
			"generating 2/3 [####        ] 10/30 steps, 2.0 s/it, ETA 40s (line 1m40s)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bar Bar
			for _, r := range c.reports {
				bar.Report(r.task, r.done, 30, clock(r.at))
			}
			last := c.reports[len(c.reports)-1]
			if got := bar.Line(clock(last.at)); got != c.want {
				t.Errorf("got  %q\nwant %q", got, c.want)
			}
			if len(c.want) > 80 {
				t.Errorf("%q is wider than 80 columns", c.want)
			}
		})
	}
}

// Between reports, which can be minutes apart, the bar is drawn again with the time left
// counted down from the last report's estimate; its rate stays the report's. The bar is
// driven with a fake clock: each case is the reports, then the times it is drawn at.
func TestProgressCountsDown(t *testing.T) {
	tiles := pipeline.Task{Name: "upscaling ×2", Unit: "tiles", PerUnit: 1000}
	image := func(i int) pipeline.Task {
		return pipeline.Task{Name: fmt.Sprintf("generating %d/2", i+1), Unit: "steps", Part: i, Parts: 2}
	}
	cases := []struct {
		name    string
		total   int
		reports []partReport
		drawn   []time.Duration
		want    []string // the ETA parts, one per time drawn
	}{
		{"within a tile", 2000, []partReport{{tiles, 0, 0}, {tiles, 250, 20 * time.Second}},
			[]time.Duration{20 * time.Second, 21 * time.Second, 22 * time.Second, 80 * time.Second, 200 * time.Second},
			[]string{"ETA 2m20s", "ETA 2m19s", "ETA 2m18s", "ETA 1m20s", "ETA 0s"}},
		// A later report gives a new estimate, from which the count-down goes on.
		{"a new report", 2000, []partReport{{tiles, 0, 0}, {tiles, 250, 20 * time.Second}, {tiles, 1000, 100 * time.Second}},
			[]time.Duration{100 * time.Second, 103 * time.Second},
			[]string{"ETA 1m40s", "ETA 1m37s"}},
		// Reports that move the count by estimate, many a second, each give a rate a little
		// off: 258 counts at 21 s make 2m22s left, up from 2m19s. Within 5% of the
		// estimate counted down, the count-down goes on.
		{"a report a little off", 2000, []partReport{{tiles, 0, 0}, {tiles, 250, 20 * time.Second}, {tiles, 258, 21 * time.Second}},
			[]time.Duration{21 * time.Second, 22 * time.Second},
			[]string{"ETA 2m19s", "ETA 2m18s"}},
		// Further off, the new estimate is taken: 400 counts at 21 s make 1m24s left.
		{"a report far off", 2000, []partReport{{tiles, 0, 0}, {tiles, 250, 20 * time.Second}, {tiles, 400, 21 * time.Second}},
			[]time.Duration{21 * time.Second},
			[]string{"ETA 1m24s"}},
		{"nothing done yet", 2000, []partReport{{tiles, 0, 0}},
			[]time.Duration{0, 30 * time.Second},
			[]string{"", ""}},
		// Both the image's time left and the line's count down.
		{"a line of images", 30, []partReport{{image(0), 0, 0}, {image(0), 10, 20 * time.Second}},
			[]time.Duration{20 * time.Second, 25 * time.Second},
			[]string{"ETA 40s (line 1m40s)", "ETA 35s (line 1m35s)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bar Bar
			for _, r := range c.reports {
				bar.Report(r.task, r.done, c.total, clock(r.at))
			}
			for i, at := range c.drawn {
				line := bar.Line(clock(at))
				eta := ""
				if k := strings.Index(line, "ETA "); k >= 0 {
					eta = line[k:]
				}
				if eta != c.want[i] {
					t.Errorf("drawn at %v: %q, want the ETA as %q", at, line, c.want[i])
				}
			}
		})
	}
}

type report struct {
	done int
	at   time.Duration // since the first report
}

type partReport struct {
	task pipeline.Task
	done int
	at   time.Duration
}

func clock(after time.Duration) time.Time {
	return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).Add(after)
}
