package upscale

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// A cancelled job must stop promptly: between tiles, and also in the middle of a tile, where
// the runtime's own run is terminated. The image is large (1024×1024 in 16 tiles of 256, each
// over a second of work) so an upscaler that ignored the context would be caught taking
// tens of seconds.
func TestUpscaleCancel(t *testing.T) {
	m := sharedModel(t, "realesr-general-x4v3.onnx")
	src := noiseImage(1024, 1024, 3, 8, 61)
	cases := []struct {
		name string
		// cancelAfter is how long after the start the context is cancelled; with afterTile the
		// clock starts when the first tile is done instead.
		cancelAfter time.Duration
		afterTile   bool
		deadline    bool // a deadline runs out instead of a cancel
		want        error
	}{
		{name: "already cancelled", want: context.Canceled},
		{name: "during the first tile", cancelAfter: 300 * time.Millisecond, want: context.Canceled},
		{name: "between tiles", afterTile: true, want: context.Canceled},
		{name: "deadline during the first tile", cancelAfter: 300 * time.Millisecond, deadline: true,
			want: context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.deadline {
				ctx, cancel = context.WithTimeout(ctx, c.cancelAfter)
				defer cancel()
			}
			var mu sync.Mutex
			var cancelledAt time.Time
			tilesDone, tilesAfterCancel := 0, 0
			stop := func() {
				mu.Lock()
				defer mu.Unlock()
				if cancelledAt.IsZero() {
					cancelledAt = time.Now()
					cancel()
				}
			}
			progress := func(done, total int) {
				// A tile ends on a whole count; between, the count moves by estimate.
				tileEnd := done > 0 && done%ProgressPerTile == 0
				mu.Lock()
				tilesDone = done / ProgressPerTile
				// done 0 is the report before the first tile, not a finished tile.
				if tileEnd && !cancelledAt.IsZero() && time.Now().After(cancelledAt) {
					tilesAfterCancel++
				}
				mu.Unlock()
				if c.afterTile && done == ProgressPerTile {
					stop()
				}
			}
			switch {
			case c.deadline:
				// The deadline's own timer cancels, at a time known in advance: a timer of our
				// own to note it could fire after Upscale has already returned.
				cancelledAt, _ = ctx.Deadline()
			case c.afterTile:
			case c.cancelAfter == 0:
				stop()
			default:
				time.AfterFunc(c.cancelAfter, stop)
			}
			start := time.Now()
			out, err := m.Upscale(ctx, src, Options{Factor: 4, Strength: 1, Tile: 256, Progress: progress})
			returned := time.Now()
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v (image %v), want %v", err, out != nil, c.want)
			}
			mu.Lock()
			defer mu.Unlock()
			latency := returned.Sub(cancelledAt)
			t.Logf("returned %v after the cancel (%v after the start, %d tiles done)",
				latency.Round(time.Millisecond), returned.Sub(start).Round(time.Millisecond), tilesDone)
			if latency > 5*time.Second {
				t.Errorf("Upscale returned %v after the context ended, want well under 5 s", latency)
			}
			if tilesAfterCancel > 0 {
				t.Errorf("%d tiles were finished after the cancel", tilesAfterCancel)
			}
		})
	}
}
