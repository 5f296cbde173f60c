package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"strings"
	"testing"

	"dream/internal/imageio"
)

// The astronaut's eyes in /work/shared/images/astronaut.png (512×512), read off the photo.
var (
	astronautLeftEye  = Point{200, 102}
	astronautRightEye = Point{247, 103}
)

func sharedYuNet(t testing.TB) *YuNet {
	t.Helper()
	y, err := LoadYuNet(testRuntime, sharedModelPath("face_detection_yunet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return y
}

func detectFaces(t testing.TB, y *YuNet, img *imageio.Image) []Face {
	t.Helper()
	faces, err := y.Detect(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range faces {
		if !f.finite() {
			t.Fatalf("face with a NaN or infinite value: %+v", f)
		}
	}
	return faces
}

func logFace(t testing.TB, label string, f Face) {
	t.Helper()
	t.Logf("%s: score %.3f, eyes (%.1f, %.1f) (%.1f, %.1f), nose (%.1f, %.1f), mouth (%.1f, %.1f) (%.1f, %.1f), box (%.1f, %.1f)-(%.1f, %.1f)",
		label, f.Score, f.Landmarks[0].X, f.Landmarks[0].Y, f.Landmarks[1].X, f.Landmarks[1].Y,
		f.Landmarks[2].X, f.Landmarks[2].Y, f.Landmarks[3].X, f.Landmarks[3].Y,
		f.Landmarks[4].X, f.Landmarks[4].Y, f.Box[0].X, f.Box[0].Y, f.Box[1].X, f.Box[1].Y)
}

// checkEyes fails unless f's eyes are within tol pixels of the astronaut's, mapped by
// p ↦ p·scale + offset.
func checkEyes(t testing.TB, f Face, scale float64, offset Point, tol float64) {
	t.Helper()
	at := func(p Point) Point { return Point{p.X*scale + offset.X, p.Y*scale + offset.Y} }
	for i, want := range []Point{at(astronautLeftEye), at(astronautRightEye)} {
		if d := pointDist(f.Landmarks[i], want); d > tol {
			t.Errorf("eye %d at (%.1f, %.1f), want within %.0f px of (%.1f, %.1f), off by %.1f",
				i, f.Landmarks[i].X, f.Landmarks[i].Y, tol, want.X, want.Y, d)
		}
	}
}

// oneFace fails unless exactly one face was found and returns it.
func oneFace(t testing.TB, faces []Face) Face {
	t.Helper()
	if len(faces) != 1 {
		for i, f := range faces {
			logFace(t, fmt.Sprint("face ", i), f)
		}
		t.Fatalf("found %d faces, want 1", len(faces))
	}
	return faces[0]
}

func TestYuNetAstronaut(t *testing.T) {
	f := oneFace(t, detectFaces(t, sharedYuNet(t), sharedImage(t, "images", "astronaut.png")))
	logFace(t, "astronaut", f)
	checkEyes(t, f, 1, Point{}, 5)
	if f.Score < DefaultYuNetThreshold || f.Score > 1 {
		t.Errorf("score %v, want in [%v, 1]", f.Score, DefaultYuNetThreshold)
	}
	for _, p := range f.Landmarks {
		if p.X < f.Box[0].X || p.X > f.Box[1].X || p.Y < f.Box[0].Y || p.Y > f.Box[1].Y {
			t.Errorf("landmark (%.1f, %.1f) outside the box %v", p.X, p.Y, f.Box)
		}
	}
}

func TestYuNetNoFace(t *testing.T) {
	if faces := detectFaces(t, sharedYuNet(t), sharedImage(t, "images", "coffee.png")); len(faces) != 0 {
		t.Errorf("found %d faces in a cup of coffee: %+v", len(faces), faces)
	}
}

// Four astronauts in a 1024×1024 image, seen at full size and in the 640 copy (×1.6): each is
// found once, near its own eyes, and the faces come highest score first.
func TestYuNetManyFaces(t *testing.T) {
	img := tile2x2(sharedImage(t, "images", "astronaut.png"))
	faces := detectFaces(t, sharedYuNet(t), img)
	if len(faces) != 4 {
		t.Fatalf("found %d faces in a 2×2 tiling, want 4", len(faces))
	}
	for i := 1; i < len(faces); i++ {
		if faces[i].Score > faces[i-1].Score {
			t.Errorf("face %d scores %v, more than face %d's %v: not sorted", i, faces[i].Score, i-1, faces[i-1].Score)
		}
	}
	for _, offset := range []Point{{0, 0}, {512, 0}, {0, 512}, {512, 512}} {
		f := faceNearest(faces, Point{astronautLeftEye.X + offset.X, astronautLeftEye.Y + offset.Y})
		logFace(t, fmt.Sprintf("tile at (%.0f, %.0f)", offset.X, offset.Y), f)
		checkEyes(t, f, 1, offset, 5*1.6)
	}
}

func faceNearest(faces []Face, leftEye Point) Face {
	best := faces[0]
	for _, f := range faces[1:] {
		if pointDist(f.Landmarks[0], leftEye) < pointDist(best.Landmarks[0], leftEye) {
			best = f
		}
	}
	return best
}

// A face cut by the image's left edge: boxes and landmarks are reported as the network gives
// them, not clamped, so they may lie outside the image; nothing may be NaN (detect checks).
func TestYuNetFaceAtBorder(t *testing.T) {
	const x0 = 190
	img := cropImage(sharedImage(t, "images", "astronaut.png"), x0, 0, 512-x0, 512)
	faces := detectFaces(t, sharedYuNet(t), img)
	if len(faces) > 1 {
		t.Fatalf("found %d faces in a crop with half a face", len(faces))
	}
	if len(faces) == 0 {
		t.Log("the half face was not found")
		return
	}
	logFace(t, "cut face", faces[0])
}

// The same photo as gray, with an alpha channel, and at 16 bits gives the same face.
func TestYuNetFormats(t *testing.T) {
	y := sharedYuNet(t)
	img := sharedImage(t, "images", "astronaut.png")
	for _, tc := range []struct {
		name string
		img  *imageio.Image
	}{
		{"gray", toGray(img)},
		{"rgba", withAlpha(img)},
		{"16-bit", to16(img)},
		{"16-bit gray", to16(toGray(img))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := oneFace(t, detectFaces(t, y, tc.img))
			logFace(t, tc.name, f)
			checkEyes(t, f, 1, Point{}, 5)
		})
	}
}

// In a 1536×1536 photo the face (box about 300 px) is larger than the full-size pass keeps, so
// it comes from the 640 copy, and its landmarks come back in the photo's coordinates; the
// full-size pass's false face in the enlarged mission patch is dropped. Nearest-neighbour ×3
// puts source pixel x at 3x … 3x+2, centred on 3x+1.
func TestYuNetLargeImage(t *testing.T) {
	img := enlargeNearest(sharedImage(t, "images", "astronaut.png"), 3)
	f := oneFace(t, detectFaces(t, sharedYuNet(t), img))
	logFace(t, "×3", f)
	checkEyes(t, f, 3, Point{1, 1}, 5*3)
}

// Wider than tall, and not a multiple of 32 after shrinking: the aspect ratio is kept.
func TestYuNetWideImage(t *testing.T) {
	src := sharedImage(t, "images", "astronaut.png")
	img := padRight(enlargeNearest(src, 2), 700)
	if img.W != 1724 || img.H != 1024 {
		t.Fatalf("test image is %dx%d", img.W, img.H)
	}
	f := oneFace(t, detectFaces(t, sharedYuNet(t), img))
	logFace(t, "wide", f)
	checkEyes(t, f, 2, Point{0.5, 0.5}, 5*1724/640.0)
}

// A 64×64 astronaut (face about 11 px wide): whatever YuNet says, it must not fail.
func TestYuNetSmallImage(t *testing.T) {
	img := shrinkBox(sharedImage(t, "images", "astronaut.png"), 8)
	faces := detectFaces(t, sharedYuNet(t), img)
	t.Logf("64×64: %d faces", len(faces))
	for _, f := range faces {
		logFace(t, "64×64", f)
	}
	tiny := &imageio.Image{W: 1, H: 1, Channels: 3, Depth: 8, Pix: []byte{128, 128, 128}}
	if faces := detectFaces(t, sharedYuNet(t), tiny); len(faces) != 0 {
		t.Errorf("found %d faces in one pixel", len(faces))
	}
}

func TestYuNetCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sharedYuNet(t).Detect(ctx, sharedImage(t, "images", "astronaut.png"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Detect with a cancelled context returned %v, want context.Canceled", err)
	}
}

func TestYuNetThreshold(t *testing.T) {
	y := *sharedYuNet(t)
	y.Threshold = 0.99
	if faces := detectFaces(t, &y, sharedImage(t, "images", "astronaut.png")); len(faces) != 0 {
		t.Errorf("threshold 0.99 kept %d faces (the astronaut scores about 0.93)", len(faces))
	}
}

func TestLoadYuNetRejectsOtherModels(t *testing.T) {
	_, err := LoadYuNet(testRuntime, sharedModelPath("realesr-general-x4v3.onnx"))
	if err == nil || !strings.Contains(err.Error(), "realesr-general-x4v3.onnx") {
		t.Errorf("loading an upscaler as YuNet: %v, want an error naming the file", err)
	}
}

func TestYuNetRejectsMalformedImages(t *testing.T) {
	y := sharedYuNet(t)
	for _, img := range []*imageio.Image{
		nil,
		{W: 0, H: 4, Channels: 3, Depth: 8},
		{W: 1, H: 1, Channels: 2, Depth: 8, Pix: []byte{0, 0}},
		{W: 1, H: 1, Channels: 3, Depth: 12, Pix: []byte{0, 0, 0}},
		{W: 2, H: 1, Channels: 3, Depth: 8, Pix: []byte{0, 0, 0}},
	} {
		if _, err := y.Detect(context.Background(), img); err == nil {
			t.Errorf("Detect(%+v) gave no error", img)
		}
	}
}

func BenchmarkYuNetAstronaut(b *testing.B) {
	y := sharedYuNet(b)
	img := sharedImage(b, "images", "astronaut.png")
	detectFaces(b, y, img) // the first run at a new size plans the graph; b.Loop times what follows
	for b.Loop() {
		detectFaces(b, y, img)
	}
}

// Detect is safe for concurrent use: one session serves several goroutines (run with -race).
func TestYuNetConcurrent(t *testing.T) {
	y := sharedYuNet(t)
	img := sharedImage(t, "images", "astronaut.png")
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			faces, err := y.Detect(context.Background(), img)
			if err == nil && len(faces) != 1 {
				err = fmt.Errorf("found %d faces", len(faces))
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// yunetOutputsFor returns zeroed outputs for a padW×padH input, in YuNetContract's order.
func yunetOutputsFor(padW, padH int) [][]float32 {
	var data [][]float32
	for _, head := range yunetHeads {
		for _, s := range yunetStrides {
			data = append(data, make([]float32, (padW/s)*(padH/s)*int(head.width)))
		}
	}
	return data
}

// The decode on hand-made outputs for a 64×32 input, so the formula is checked apart from the
// model: stride 16 has 4 columns and 2 rows, and cell (row 1, col 2) is value 6.
func TestDecodeYuNet(t *testing.T) {
	data := yunetOutputsFor(64, 32)
	const cell, s = 6, 16.0
	cls, obj, bbox, kps := data[1], data[4], data[7], data[10] // the stride-16 outputs
	cls[cell], obj[cell] = 0.81, 1.7                           // obj is clamped to 1: score 0.9
	copy(bbox[4*cell:], []float32{0.5, -0.25, float32(math.Log(2)), 0})
	copy(kps[10*cell:], []float32{0, 0, 1, 0, 0.5, 0.5, -1, 1, 2, 1})
	// Below the threshold, and negative (clamped to 0): not faces.
	cls[cell+1], obj[cell+1] = 0.35, 1
	cls[0], obj[0] = -0.5, 1
	data[0][3], data[3][3] = 0.59, 0.61 // a stride-8 cell just under 0.6

	faces, err := decodeYuNet(data, 64, 32, 0.6)
	if err != nil {
		t.Fatal(err)
	}
	if len(faces) != 1 {
		t.Fatalf("decoded %d faces, want 1: %+v", len(faces), faces)
	}
	f := faces[0]
	const r, c = 1.0, 2.0
	cx, cy, w, h := (c+0.5)*s, (r-0.25)*s, 2*s, s
	want := Face{
		Box:   [2]Point{{cx - w/2, cy - h/2}, {cx + w/2, cy + h/2}},
		Score: 0.9,
		Landmarks: [5]Point{{c * s, r * s}, {(c + 1) * s, r * s}, {(c + 0.5) * s, (r + 0.5) * s},
			{(c - 1) * s, (r + 1) * s}, {(c + 2) * s, (r + 1) * s}},
	}
	if !sameFace(f, want, 1e-5) {
		t.Errorf("decoded %+v\nwant    %+v", f, want)
	}
}

func sameFace(a, b Face, tol float64) bool {
	points := func(f Face) []Point { return append([]Point{f.Box[0], f.Box[1], {f.Score, 0}}, f.Landmarks[:]...) }
	pa, pb := points(a), points(b)
	for i := range pa {
		if pointDist(pa[i], pb[i]) > tol {
			return false
		}
	}
	return true
}

func TestDecodeYuNetChecksSizes(t *testing.T) {
	data := yunetOutputsFor(64, 32)
	data[8] = data[8][:len(data[8])-4] // bbox_32 one cell short
	_, err := decodeYuNet(data, 64, 32, 0.6)
	if err == nil || !strings.Contains(err.Error(), "bbox_32") {
		t.Errorf("a short bbox_32 gave %v, want an error naming it", err)
	}
}

// A NaN from the model is not a face, whatever the threshold.
func TestDecodeYuNetDropsNaN(t *testing.T) {
	data := yunetOutputsFor(32, 32)
	data[0][0], data[3][0] = float32(math.NaN()), 1
	data[0][1], data[3][1] = 1, 1
	data[6][4*1] = float32(math.NaN())
	faces, err := decodeYuNet(data, 32, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range faces {
		if !f.finite() {
			t.Errorf("a NaN got through: %+v", f)
		}
	}
	if want := 16 + 4 + 1 - 2; len(faces) != want {
		t.Errorf("decoded %d faces at threshold 0, want %d (every cell but the two NaN ones)", len(faces), want)
	}
}

func boxOf(x0, y0, x1, y1 float64) [2]Point { return [2]Point{{x0, y0}, {x1, y1}} }

func TestIoU(t *testing.T) {
	for _, tc := range []struct {
		a, b [2]Point
		want float64
	}{
		{boxOf(0, 0, 10, 10), boxOf(0, 0, 10, 10), 1},
		{boxOf(0, 0, 10, 10), boxOf(5, 0, 15, 10), 50.0 / 150},
		{boxOf(0, 0, 10, 10), boxOf(10, 0, 20, 10), 0},
		{boxOf(0, 0, 10, 10), boxOf(2, 2, 4, 4), 4.0 / 100},
		{boxOf(0, 0, 0, 0), boxOf(0, 0, 0, 0), 0},
	} {
		if got := iou(tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("iou(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestSuppress(t *testing.T) {
	faces := []Face{
		{Box: boxOf(0, 0, 10, 10), Score: 0.7},    // overlaps the 0.9 face by 0.67: dropped
		{Box: boxOf(100, 0, 110, 10), Score: 0.8}, // alone: kept
		{Box: boxOf(2, 0, 12, 10), Score: 0.9},    // best: kept
		{Box: boxOf(9, 0, 19, 10), Score: 0.75},   // IoU 0.18 with the 0.9 face: kept
		{Box: boxOf(6, 0, 16, 10), Score: 0.6},    // IoU 0.43 with the 0.9 face: dropped
		{Box: boxOf(100, 0, 110, 10), Score: 0.8}, // a tie with an identical box: dropped
	}
	got := suppress(faces, 0.3)
	want := []float64{0.9, 0.8, 0.75}
	if len(got) != len(want) {
		t.Fatalf("kept %d faces %+v, want scores %v", len(got), got, want)
	}
	for i, f := range got {
		if f.Score != want[i] {
			t.Errorf("face %d scores %v, want %v", i, f.Score, want[i])
		}
	}
	if faces[0].Score != 0.7 {
		t.Error("suppress reordered its argument")
	}
	if top := best(faces, 2); len(top) != 2 || top[0].Score != 0.9 || top[1].Score != 0.8 {
		t.Errorf("best 2 = %+v", top)
	}
	if len(suppress(nil, 0.3)) != 0 || len(best(nil, 3)) != 0 {
		t.Error("suppress(nil) is not empty")
	}
}

// The runs Detect makes: full-size windows (one when the image fits in yunetWindow), then a
// copy shrunk to 640 when the image is larger than that.
func TestYunetFrames(t *testing.T) {
	for _, tc := range []struct {
		w, h           int
		windows        int // how many full-size windows
		winW, winH     int // their size
		fw, fh, pw, ph int // the shrunk copy and its padded size; 0 when there is none
	}{
		{512, 512, 1, 512, 512, 0, 0, 0, 0},
		{600, 400, 1, 600, 400, 0, 0, 0, 0},
		{1, 1, 1, 1, 1, 0, 0, 0, 0},
		{641, 10, 1, 641, 10, 640, 10, 640, 32},
		{1536, 1536, 1, 1536, 1536, 640, 640, 640, 640},
		{1724, 1024, 1, 1724, 1024, 640, 380, 640, 384},
		{2400, 1600, 2, 1344, 1600, 640, 427, 640, 448},
		{100, 5000, 3, 100, 1888, 13, 640, 32, 640},
		{20000, 1, 12, 1952, 1, 640, 1, 640, 32},
	} {
		frames := yunetFrames(tc.w, tc.h)
		full := frames
		var shrunk *yunetFrame
		if max(tc.w, tc.h) > yunetMaxSide {
			full, shrunk = frames[:len(frames)-1], &frames[len(frames)-1]
		}
		if len(full) != tc.windows {
			t.Errorf("%dx%d: %d windows, want %d", tc.w, tc.h, len(full), tc.windows)
		}
		for _, f := range full {
			if f.w != f.src.Dx() || f.h != f.src.Dy() || f.w != tc.winW || f.h != tc.winH {
				t.Errorf("%dx%d: window %v run at %dx%d, want %dx%d unscaled", tc.w, tc.h, f.src, f.w, f.h, tc.winW, tc.winH)
			}
		}
		if tc.fw == 0 {
			if shrunk != nil {
				t.Errorf("%dx%d: shrunk although ≤ %d", tc.w, tc.h, yunetMaxSide)
			}
			continue
		}
		f := *shrunk
		if f.src != image.Rect(0, 0, tc.w, tc.h) || f.w != tc.fw || f.h != tc.fh || f.padW != tc.pw || f.padH != tc.ph {
			t.Errorf("%dx%d: %v resized to %dx%d padded %dx%d, want the whole image at %dx%d padded %dx%d",
				tc.w, tc.h, f.src, f.w, f.h, f.padW, f.padH, tc.fw, tc.fh, tc.pw, tc.ph)
		}
	}
}

// Windows cover the image, are as few as the overlap allows, and overlap enough that any face
// of up to yunetOverlap − 2·yunetEdgeMargin lies clear of the inner edges of one of them.
func TestWindowSpans(t *testing.T) {
	for _, n := range []int{1, 700, 2048, 2049, 2400, 3584, 3585, 5000, 10000, 20000, 65535} {
		spans := windowSpans(n)
		length := spans[0][1] - spans[0][0]
		if spans[0][0] != 0 || spans[len(spans)-1][1] != n {
			t.Errorf("n=%d: %v does not cover 0..%d", n, spans, n)
		}
		if length > yunetWindow || (len(spans) > 1 && length%yunetDivisor != 0) {
			t.Errorf("n=%d: windows of %d", n, length)
		}
		if fewer := len(spans) - 1; fewer > 0 && fewer*yunetWindow-(fewer-1)*yunetOverlap >= n {
			t.Errorf("n=%d: %d windows where %d would do", n, len(spans), fewer)
		}
		for i := 1; i < len(spans); i++ {
			if spans[i][1]-spans[i][0] != length {
				t.Errorf("n=%d: windows of different lengths %v", n, spans)
			}
			if overlap := spans[i-1][1] - spans[i][0]; overlap < yunetOverlap {
				t.Errorf("n=%d: windows %v and %v overlap by %d", n, spans[i-1], spans[i], overlap)
			}
		}
	}
}

func TestYunetFrameToOriginal(t *testing.T) {
	// ×3 shrink: input pixel 0 is the average of source pixels 0, 1 and 2, centred on 1.
	f := newYunetFrame(1920, 960, image.Rect(0, 0, 1920, 960), 640, 320)
	got := f.toOriginal(Face{Box: boxOf(0, 0, 10, 10), Landmarks: [5]Point{{0, 0}, {1, 2}}})
	if got.Landmarks[0] != (Point{1, 1}) || got.Landmarks[1] != (Point{4, 7}) || got.Box != boxOf(1, 1, 31, 31) {
		t.Errorf("shrunk ×3: mapped back to %+v", got)
	}
	// A window at full size is shifted by its corner.
	f = newYunetFrame(3000, 3000, image.Rect(900, 400, 2948, 2448), 2048, 2048)
	got = f.toOriginal(Face{Box: boxOf(0, 0, 10, 10), Landmarks: [5]Point{{0, 0}, {1, 2}}})
	if got.Landmarks[0] != (Point{900, 400}) || got.Landmarks[1] != (Point{901, 402}) || got.Box != boxOf(900, 400, 910, 410) {
		t.Errorf("window: mapped back to %+v", got)
	}
}

// A full-size window reports a face unless it is larger than yunetMaxFullSizeFace (the shrunk
// copy's) or near a window edge inside the image (cut there, perhaps); near an image edge a
// face is all there is and is kept.
func TestYunetFrameReports(t *testing.T) {
	const m, big = yunetEdgeMargin, yunetMaxFullSizeFace
	frames := yunetFrames(2400, 1600)
	left, right, shrunk := frames[0], frames[1], frames[2]
	if left.src != image.Rect(0, 0, 1344, 1600) || right.src != image.Rect(1056, 0, 2400, 1600) {
		t.Fatalf("windows %v and %v", left.src, right.src)
	}
	for _, tc := range []struct {
		name  string
		frame yunetFrame
		box   [2]Point
		want  bool
	}{
		{"left window, at the image's left edge", left, boxOf(-5, 100, 40, 150), true},
		{"left window, at its inner right edge", left, boxOf(1300, 100, 1344-m+1, 150), false},
		{"left window, clear of its inner right edge", left, boxOf(1300, 100, 1344-m-1, 150), true},
		{"left window, at the image's bottom edge", left, boxOf(500, 1550, 550, 1603), true},
		{"right window, at its inner left edge", right, boxOf(1056+m-1, 100, 1100, 150), false},
		{"right window, clear of its inner left edge", right, boxOf(1056+m+1, 100, 1100, 150), true},
		{"right window, past the image's right edge", right, boxOf(2350, 100, 2410, 150), true},
		{"right window, the largest face it keeps", right, boxOf(1500, 100, 1500+big, 300), true},
		{"right window, a face for the shrunk copy", right, boxOf(1500, 100, 1600, 101+big), false},
		{"shrunk copy, a face of any size", shrunk, boxOf(0, 0, 2400, 1600), true},
	} {
		if got := tc.frame.reports(Face{Box: tc.box}); got != tc.want {
			t.Errorf("%s: reports = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// fill copies pixels exactly when nothing is resized, as B, G, R planes, and leaves the
// padding black.
func TestFillCopiesBGR(t *testing.T) {
	img := &imageio.Image{W: 2, H: 1, Channels: 3, Depth: 8, Pix: []byte{10, 20, 30, 40, 50, 60}}
	f := newYunetFrame(2, 1, image.Rect(0, 0, 2, 1), 2, 1)
	dst := make([]float32, 3*f.padW*f.padH)
	f.fill(img, dst)
	plane := f.padW * f.padH
	for c, want := range [][2]float32{{30, 60}, {20, 50}, {10, 40}} {
		if dst[c*plane] != want[0] || dst[c*plane+1] != want[1] {
			t.Errorf("plane %d starts %v %v, want %v", c, dst[c*plane], dst[c*plane+1], want)
		}
	}
	var rest float32
	for c := 0; c < 3; c++ {
		for i := 2; i < plane; i++ {
			rest += dst[c*plane+i]
		}
	}
	if rest != 0 {
		t.Errorf("padding sums to %v, want 0", rest)
	}
}

// A window's fill starts at the window's corner: gray pixel (x, y) of a 4×3 image is 10·y + x.
func TestFillWindow(t *testing.T) {
	img := &imageio.Image{W: 4, H: 3, Channels: 1, Depth: 8, Pix: make([]byte, 12)}
	for i := range img.Pix {
		img.Pix[i] = byte(10*(i/4) + i%4)
	}
	f := newYunetFrame(4, 3, image.Rect(1, 1, 3, 3), 2, 2)
	dst := make([]float32, 3*f.padW*f.padH)
	f.fill(img, dst)
	for y := range 2 {
		for x := range 2 {
			if got, want := dst[y*f.padW+x], float32(10*(y+1)+x+1); got != want {
				t.Errorf("input pixel (%d, %d) is %v, want %v", x, y, got, want)
			}
		}
	}
}

// Shrinking averages: a 1280×2 image of alternating columns 0 and 255 (and 16-bit 0 and
// 65535) becomes 640×1 of 127.5.
func TestFillAverages(t *testing.T) {
	for _, depth := range []int{8, 16} {
		top := uint16(255)
		if depth == 16 {
			top = 65535
		}
		img := imageio.New(1280, 2, 1, depth)
		for i := range 1280 * 2 {
			if i%2 == 1 {
				img.Set(i, top)
			}
		}
		f := yunetFrames(img.W, img.H)[1] // after the one full-size window
		if f.w != 640 || f.h != 1 {
			t.Fatalf("resized to %dx%d", f.w, f.h)
		}
		dst := make([]float32, 3*f.padW*f.padH)
		f.fill(img, dst)
		for x := 0; x < f.w; x++ {
			if v := dst[2*f.padW*f.padH+x]; math.Abs(float64(v)-127.5) > 1e-3 {
				t.Fatalf("%d-bit: input pixel %d is %v, want 127.5", depth, x, v)
			}
		}
	}
}

func TestAreaSpansSumToOne(t *testing.T) {
	for _, tc := range [][2]int{{7, 7}, {1536, 640}, {1000, 3}, {641, 640}, {20000, 640}} {
		for i, s := range areaSpans(tc[0], tc[1]) {
			var sum float64
			for _, w := range s.weights {
				sum += float64(w)
			}
			if math.Abs(sum-1) > 1e-4 || s.first < 0 || s.first+len(s.weights) > tc[0] {
				t.Fatalf("%d→%d: span %d starts at %d with %d weights summing to %v",
					tc[0], tc[1], i, s.first, len(s.weights), sum)
			}
		}
	}
}

// Test images made from the shared photos.

// blankLike returns a black image of w×h with src's channels and depth.
func blankLike(src *imageio.Image, w, h int) *imageio.Image {
	return imageio.New(w, h, src.Channels, src.Depth)
}

// pixelBytes is the size of one pixel of img in Pix.
func pixelBytes(img *imageio.Image) int {
	return img.Channels * img.Depth / 8
}

// placeImage copies src into dst with its top-left corner at (x0, y0); both have the same layout.
func placeImage(dst, src *imageio.Image, x0, y0 int) {
	px := pixelBytes(src)
	for y := 0; y < src.H; y++ {
		copy(dst.Pix[((y0+y)*dst.W+x0)*px:], src.Pix[y*src.W*px:(y+1)*src.W*px])
	}
}

func tile2x2(src *imageio.Image) *imageio.Image {
	dst := blankLike(src, 2*src.W, 2*src.H)
	for _, at := range [][2]int{{0, 0}, {src.W, 0}, {0, src.H}, {src.W, src.H}} {
		placeImage(dst, src, at[0], at[1])
	}
	return dst
}

// padRight widens src to width w with black on the right.
func padRight(src *imageio.Image, extra int) *imageio.Image {
	dst := blankLike(src, src.W+extra, src.H)
	placeImage(dst, src, 0, 0)
	return dst
}

func cropImage(src *imageio.Image, x0, y0, w, h int) *imageio.Image {
	dst := blankLike(src, w, h)
	px := pixelBytes(src)
	for y := 0; y < h; y++ {
		copy(dst.Pix[y*w*px:(y+1)*w*px], src.Pix[((y0+y)*src.W+x0)*px:])
	}
	return dst
}

// toGray converts RGB to one channel with the BT.601 luma weights.
func toGray(src *imageio.Image) *imageio.Image {
	dst := imageio.New(src.W, src.H, 1, src.Depth)
	for i := range src.W * src.H {
		p := i * src.Channels
		r, g, b := float64(src.At(p)), float64(src.At(p+1)), float64(src.At(p+2))
		dst.Set(i, uint16(math.Round(0.299*r+0.587*g+0.114*b)))
	}
	return dst
}

// withAlpha adds an alpha channel that varies across the image (from transparent at the
// left to opaque at the right), which the detector must ignore.
func withAlpha(src *imageio.Image) *imageio.Image {
	dst := imageio.New(src.W, src.H, 4, src.Depth)
	for i := 0; i < src.W*src.H; i++ {
		for c := range 3 {
			dst.Set(4*i+c, src.At(3*i+c))
		}
		dst.Set(4*i+3, uint16(255*(i%src.W)/max(1, src.W-1)))
	}
	return dst
}

// to16 widens 8-bit samples to 16 bits (255 → 65535).
func to16(src *imageio.Image) *imageio.Image {
	dst := imageio.New(src.W, src.H, src.Channels, 16)
	for i := range src.W * src.H * src.Channels {
		dst.Set(i, src.At(i)*257)
	}
	return dst
}

func enlargeNearest(src *imageio.Image, f int) *imageio.Image {
	dst := blankLike(src, src.W*f, src.H*f)
	px := pixelBytes(src)
	for y := 0; y < dst.H; y++ {
		for x := 0; x < dst.W; x++ {
			copy(dst.Pix[(y*dst.W+x)*px:(y*dst.W+x+1)*px], src.Pix[((y/f)*src.W+x/f)*px:])
		}
	}
	return dst
}

// shrinkBox divides both sides by f, each pixel the rounded mean of an f×f block.
func shrinkBox(src *imageio.Image, f int) *imageio.Image {
	dst := blankLike(src, src.W/f, src.H/f)
	ch := src.Channels
	for y := 0; y < dst.H; y++ {
		for x := 0; x < dst.W; x++ {
			for c := 0; c < ch; c++ {
				sum := 0
				for dy := 0; dy < f; dy++ {
					for dx := 0; dx < f; dx++ {
						sum += int(src.At(((y*f+dy)*src.W+x*f+dx)*ch + c))
					}
				}
				dst.Set((y*dst.W+x)*ch+c, uint16((sum+f*f/2)/(f*f)))
			}
		}
	}
	return dst
}
