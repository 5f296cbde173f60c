package upscale

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"dream/internal/imageio"
	"dream/internal/onnxpb"
)

// The count of a run in flight moves with the time the run is expected to take, stops short
// of the run's end, and never goes back; the run's real end moves it exactly. Each case is a
// run of 1000 counts expected to take 10 s, the meter asked at set times on a fake clock.
func TestMeterEstimates(t *testing.T) {
	start := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	cases := []struct {
		name   string
		expect time.Duration
		asks   []time.Duration // when the estimate is asked for
		end    bool            // the run then ends
		want   []int
	}{
		{"a tenth of the time", 10 * time.Second, []time.Duration{time.Second}, false, []int{0, 100}},
		{"steadily", 10 * time.Second, []time.Duration{time.Second, 5 * time.Second, 9 * time.Second}, true,
			[]int{0, 100, 500, 900, 1000}},
		// A run slower than the last one waits at 95% for its real end.
		{"slower than expected", 10 * time.Second, []time.Duration{9 * time.Second, 20 * time.Second, time.Minute}, true,
			[]int{0, 900, 950, 1000}},
		// A tick delivered late (its time before the last one's) cannot move the count back.
		{"a late tick", 10 * time.Second, []time.Duration{5 * time.Second, 3 * time.Second}, false, []int{0, 500}},
		// Without a pace, nothing is guessed.
		{"no pace", 0, []time.Duration{5 * time.Second}, true, []int{0, 1000}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []int
			m := &meter{total: 2000, report: func(done, total int) {
				if total != 2000 {
					t.Errorf("total %d, want 2000", total)
				}
				got = append(got, done)
			}}
			m.report(0, m.total) // as newMeter does
			m.begin(0, 1000, c.expect, start)
			for _, d := range c.asks {
				m.estimate(at(d))
			}
			if c.end {
				m.reach(1000)
				m.estimate(at(time.Hour)) // the run is over: no estimate past its end
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("reported %v, want %v", got, c.want)
			}
		})
	}
}

// A photo that runs as one tile (a 640×480 ×4) moves its count while the tile's one ORT run
// is in flight: 0, several counts between, then exactly the total. The model is a stack of
// 3×3 convolutions that compute the identity, slow enough that its run spans many of the
// meter's moves (shortened for the test), then a nearest ×4; its result must still be exact.
func TestSingleTileMovesWhileItRuns(t *testing.T) {
	defer func(every time.Duration) { estimateEvery = every }(estimateEvery)
	estimateEvery = 2 * time.Millisecond
	m, err := Load(context.Background(), testRuntime, writeSlowIdentity(t, 8, 32))
	if err != nil {
		t.Fatal(err)
	}
	src := noiseImage(256, 192, 3, 8, 71)
	got := recordProgress(t, m, src, Options{Factor: 4, Strength: 1})
	if got.total != ProgressPerTile {
		t.Fatalf("total %d: the image ran as %d tiles, want one", got.total, got.total/ProgressPerTile)
	}
	between := 0
	for _, done := range got.counts {
		if done > 0 && done < got.total {
			between++
		}
	}
	t.Logf("one tile in %v: %d counts between 0 and the end, the first at %v: %v",
		got.took.Round(time.Millisecond), between, got.firstMove.Round(time.Millisecond), got.counts)
	if between < 3 {
		t.Errorf("the count moved %d times while the tile ran (%v), want several", between, got.counts)
	}
	compareToReference(t, got.out, referenceUpscale(src, nearest4, 4), 8, exact)
}

// Whatever the mix of estimates and exact ends (tiles, alpha runs, the body and each piece of
// a split network's tail), the count starts at 0, only goes up, and ends exactly at the
// total; every piece of the tail moves it.
func TestProgressNeverGoesBack(t *testing.T) {
	defer func(every time.Duration) { estimateEvery = every }(estimateEvery)
	estimateEvery = time.Millisecond
	m, err := Load(context.Background(), testRuntime, writeUnshuffleResize(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Tail == nil {
		t.Fatal("the ×2 network did not split")
	}
	src := noiseImage(700, 420, 4, 8, 72) // random alpha: each tile runs twice
	opts := Options{Factor: 2, Strength: 1, Tile: 360}
	window, tiles := planGrid(src.W, src.H, m.Grid(src.W, src.H, opts), m.Pad)
	_, pieces := plan(window.X/2, window.Y/2, tailCore, tailPad) // the body works at half size
	got := recordProgress(t, m, src, opts)
	if want := len(tiles) * ProgressPerTile; got.total != want {
		t.Fatalf("total %d, want %d for %d tiles", got.total, want, len(tiles))
	}
	if len(got.counts) == 0 || got.counts[0] != 0 || got.counts[len(got.counts)-1] != got.total {
		t.Errorf("counts %v: want 0 first and %d last", got.counts, got.total)
	}
	for i := 1; i < len(got.counts); i++ {
		if got.counts[i] <= got.counts[i-1] {
			t.Fatalf("the count went from %d to %d: %v", got.counts[i-1], got.counts[i], got.counts)
		}
	}
	// Each run of a window moves the count when its body ends and after each tail piece.
	runs := 2 * len(tiles)
	if want := runs * (1 + len(pieces)); len(got.counts)-1 < want {
		t.Errorf("%d moves for %d runs of %d tail pieces, want at least %d", len(got.counts)-1, runs, len(pieces), want)
	}
	t.Logf("%d tiles of a %v window, %d tail pieces each: %d counts", len(tiles), window, len(pieces), len(got.counts))
}

// progressRecord is what one Upscale told its progress callback.
type progressRecord struct {
	counts    []int
	total     int
	took      time.Duration
	firstMove time.Duration // from the start to the first count above 0
	out       *imageio.Image
}

func recordProgress(t *testing.T, m *Model, src *imageio.Image, opts Options) progressRecord {
	t.Helper()
	var (
		mu  sync.Mutex
		rec progressRecord
	)
	start := time.Now()
	opts.Progress = func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if done > 0 && rec.firstMove == 0 {
			rec.firstMove = time.Since(start)
		}
		rec.counts = append(rec.counts, done)
		rec.total = total
	}
	out, err := m.Upscale(context.Background(), src, opts)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	rec.took, rec.out = time.Since(start), out
	return rec
}

// writeSlowIdentity writes a ×4 network whose output is nearest4's, the identity enlarged,
// computed the long way: a 3×3 convolution into channels features (the colours in the first
// three, zeros after), layers more 3×3 convolutions of channels to channels that keep each
// channel, and nearest4's 1×1 convolution and DepthToSpace. Weights of 1 and 0 keep every value
// exact; the zeros cost as much as any weight.
func writeSlowIdentity(t *testing.T, layers, channels int) string {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("input", onnxpb.Float,
		onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("height"), onnxpb.Sym("width"))}
	g.Outputs = []onnxpb.ValueInfo{onnxpb.NewValueInfo("output", onnxpb.Float,
		onnxpb.Fixed(1), onnxpb.Fixed(3), onnxpb.Sym("out_height"), onnxpb.Sym("out_width"))}
	conv3 := []onnxpb.Attr{onnxpb.AttrInts("kernel_shape", 3, 3), onnxpb.AttrInts("pads", 1, 1, 1, 1)}
	// keep is a 3×3 kernel from in to out channels whose centre passes channel c to channel c.
	keep := func(name string, out, in int) string {
		w := make([]float32, out*in*9)
		for c := range min(out, in) {
			w[(c*in+c)*9+4] = 1
		}
		return g.AddInitializer(onnxpb.Float32Tensor(name, []int64{int64(out), int64(in), 3, 3}, w))
	}
	g.Add("Conv", []string{"input", keep("widen", channels, 3)}, []string{"x0"}, conv3...)
	x := "x0"
	for i := range layers {
		next := fmt.Sprintf("x%d", i+1)
		g.Add("Conv", []string{x, keep("keep"+next, channels, channels)}, []string{next}, conv3...)
		x = next
	}
	// nearest4's enlargement: channel c·16 + i·4 + j of the DepthToSpace input copies colour c.
	enlarge := make([]float32, 48*channels)
	for c := range 3 {
		for k := range 16 {
			enlarge[(c*16+k)*channels+c] = 1
		}
	}
	w := g.AddInitializer(onnxpb.Float32Tensor("enlarge", []int64{48, int64(channels), 1, 1}, enlarge))
	g.Add("Conv", []string{x, w}, []string{"shuffled"}, onnxpb.AttrInts("kernel_shape", 1, 1))
	g.Add("DepthToSpace", []string{"shuffled"}, []string{"output"},
		onnxpb.AttrInt("blocksize", 4), onnxpb.AttrString("mode", "CRD"))
	path := filepath.Join(t.TempDir(), "slow.onnx")
	if err := (&onnxpb.Model{Graph: g}).WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}
