package pipeline

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// An upscale whose result cannot be held is refused before any work, in one line that says
// the sizes and what to do (issue 25: a 20000² photo ×2 is a 40000² result of 4.8 GB).
func TestUpscaleThatCannotFitIsRefused(t *testing.T) {
	const gb = 1_000_000_000
	cases := []struct {
		name                  string
		w, h, channels, depth int
		outW, outH            int
		available             uint64
		budget                int64
		refusal               string // "" when it may run
	}{
		{"20000² ×2 with 9 GB free", 20000, 20000, 3, 8, 40000, 40000, 9 * gb, 4 * gb, ""},
		{"20000² ×2 with 8 GB free", 20000, 20000, 3, 8, 40000, 40000, 8 * gb, 4 * gb,
			"upscaling 20000×20000 to 40000×40000 needs 4.8 GB for its images, and with the model's 4.0 GB (--max_memory) that is more than the 8.0 GB of memory available: " +
				"use a smaller factor, or give !fix a target width of at most 36500"},
		{"20000² ×2 with 64 GB free", 20000, 20000, 3, 8, 40000, 40000, 64 * gb, 16 * gb, ""},
		{"16 bits take twice the bytes", 10000, 10000, 3, 16, 20000, 20000, 3 * gb, 1 * gb,
			"upscaling 10000×10000 to 20000×20000 needs 2.4 GB for its images, and with the model's 1.0 GB (--max_memory) that is more than the 3.0 GB of memory available: " +
				"use a smaller factor, or give !fix a target width of at most 18200"},
		{"×8 holds the ×4 image between its passes too", 4000, 4000, 3, 8, 32000, 32000, 4 * gb, 1 * gb,
			"upscaling 4000×4000 to 32000×32000 needs 3.8 GB for its images, and with the model's 1.0 GB (--max_memory) that is more than the 4.0 GB of memory available: " +
				"use a smaller factor, or give !fix a target width of at most 27200"},
		{"×8 whose ×4 image alone does not fit can still run ×3.8 in one pass", 4000, 4000, 3, 8, 32000, 32000, 1_700_000_000, 1 * gb,
			"upscaling 4000×4000 to 32000×32000 needs 3.8 GB for its images, and with the model's 1.0 GB (--max_memory) that is more than the 1.7 GB of memory available: " +
				"use a smaller factor, or give !fix a target width of at most 15200"},
		{"nothing left beside the model", 2000, 2000, 4, 8, 8000, 8000, 1 * gb, 2 * gb,
			"upscaling 2000×2000 to 8000×8000 needs 0.3 GB for its images, and with the model's 2.0 GB (--max_memory) that is more than the 1.0 GB of memory available: " +
				"use a smaller factor, or give !fix a target width of at most 0 (lower --max_memory first)"},
		{"400 megapixels, dream's limit, beside a large model", 20000, 20000, 3, 8, 20000, 20000, 8 * gb, 7 * gb,
			"upscaling 20000×20000 to 20000×20000 needs 1.2 GB for its images, and with the model's 7.0 GB (--max_memory) that is more than the 8.0 GB of memory available: " +
				"use a smaller factor, or give !fix a target width of at most 18200"},
		{"memory unknown", 20000, 20000, 3, 8, 40000, 40000, 0, 4 * gb, ""},
	}
	for _, c := range cases {
		err := checkUpscaleMemory(c.w, c.h, c.channels, c.depth, c.outW, c.outH, c.available, c.budget)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.refusal {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.refusal)
		}
		// The width a refusal suggests must itself be accepted.
		if width := suggestedWidth(got); width > 0 {
			height := int(math.Round(float64(width) * float64(c.outH) / float64(c.outW)))
			if err := checkUpscaleMemory(c.w, c.h, c.channels, c.depth, width, height, c.available, c.budget); err != nil {
				t.Errorf("%s: the suggested width %d is refused too: %v", c.name, width, err)
			}
		}
	}
}

// suggestedWidth is the target width a refusal suggests, 0 when it suggests none.
func suggestedWidth(refusal string) int {
	_, after, found := strings.Cut(refusal, "a target width of at most ")
	if !found {
		return 0
	}
	digits, _, _ := strings.Cut(after, " ")
	width, _ := strconv.Atoi(digits)
	return width
}
