package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pngmeta"
	"dream/internal/testenv"
)

// pythonJSON runs a script of testdata with /usr/bin/python3 (PIL, numpy and Debian's
// python3-piexif, which make test installs) and decodes the JSON line it prints for each
// result. A script that cannot run fails the test: these checks are the point of it.
func pythonJSON(t *testing.T, script string, args ...string) []map[string]any {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{filepath.Join("testdata", script)}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if exit, ok := err.(*exec.ExitError); ok {
			stderr = exit.Stderr
		}
		t.Fatalf("%s: %v\n%s", script, err, stderr)
	}
	var lines []map[string]any
	scanner := bufio.NewScanner(bytes.NewReader(out))
	for scanner.Scan() {
		var line map[string]any
		if err := json.Unmarshal(scanner.Bytes(), &line); err != nil {
			t.Fatalf("%s printed %q: %v", script, scanner.Text(), err)
		}
		lines = append(lines, line)
	}
	return lines
}

// !fix of a camera JPEG (EXIF orientation 6, an ICC profile, a little-endian EXIF block
// with a blank UserComment) with the real general-x4v3 model, written in each format. The
// JPEG stays a JPEG by default. Every result opens in PIL at the displayed size; its
// AUTOMATIC1111 parameters are read from EXIF's UserComment as A1111 reads them (piexif),
// and its command by !fetch; the ICC profile and the camera's EXIF tags are kept, with
// Orientation reset to 1 since the pixels were turned. A file name takes the format's
// extension, and the command names --format and --quality only where they are not the
// defaults, which is what --resume looks for.
func TestFixWritesEachFormat(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "camera.jpg")
	testenv.CopyFile(t, filepath.Join("testdata", "camera.jpg"), src)
	source, err := imageio.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	iccSum := sha256.Sum256(source.Meta.ICCProfile)
	p := newPipeline(filepath.Join(dir, "out"), 0, nil)
	const postprocessing = "Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN General 4xV3"
	tests := []struct {
		switches string
		name     string // the result's file name
		pil      string // PIL's name of its format
		stored   string // what the stored command adds to !fix "SRC" -U 2 1
	}{
		{"", "camera.fixed.jpg", "JPEG", ""},
		{"--format webp", "camera.fixed.webp", "WEBP", " --format webp"},
		{"--format png", "camera.fixed.png", "PNG", " --format png"},
		{"--format jpeg --quality 92", "camera.fixed-01.jpg", "JPEG", ""},
		{"--quality 75", "camera.fixed-02.jpg", "JPEG", " --quality 75"},
		{"--format webp --quality 100", "camera.fixed-01.webp", "WEBP", " --format webp --quality 100"},
	}
	var paths []string
	for _, tt := range tests {
		line := parseLine(t, fmt.Sprintf("!fix %q -U 2 1 %s", src, tt.switches))
		res, err := p.Fix(context.Background(), line)
		if err != nil {
			t.Fatalf("%s: %v", tt.switches, err)
		}
		if filepath.Base(res.Path) != tt.name || res.W != 240 || res.H != 160 {
			t.Errorf("%s: wrote %s at %dx%d, want %s at 240x160", tt.switches, res.Path, res.W, res.H, tt.name)
		}
		command, err := p.StoredCommand(job.Job{Kind: job.Fetch, Path: res.Path})
		if want := fmt.Sprintf("!fix %q -U 2 1", src) + tt.stored; err != nil || command != want {
			t.Errorf("!fetch %s = %q, %v; want %q", tt.name, command, err, want)
		}
		if expected, _, err := p.ResultCommands(line); err != nil || len(expected) != 1 || expected[0] != command {
			t.Errorf("--resume looks for %q (%v), the result holds %q", expected, err, command)
		}
		paths = append(paths, res.Path)
	}
	for i, info := range pythonJSON(t, "a1111_info.py", paths...) {
		tt := tests[i]
		if info["format"] != tt.pil || fmt.Sprint(info["size"]) != "[240 160]" || info["mode"] != "RGB" {
			t.Errorf("%s: PIL reads %v %v %v", tt.name, info["format"], info["size"], info["mode"])
		}
		if info["icc_sha256"] != hex.EncodeToString(iccSum[:]) {
			t.Errorf("%s: the ICC profile was not kept", tt.name)
		}
		if info["orientation"] != 1.0 || info["make"] != "dream-test camera" || info["datetime_original"] != "2024:05:06 07:08:09" {
			t.Errorf("%s: EXIF orientation %v, make %v, taken %v", tt.name, info["orientation"], info["make"], info["datetime_original"])
		}
		// A PNG keeps the camera's EXIF block as it was, blank comment included (which A1111
		// prefers to the parameters chunk); JPEG and WebP carry the parameters in it.
		if tt.pil != "PNG" && info["parameters"] != postprocessing {
			t.Errorf("%s: A1111 reads the parameters %q, want %q", tt.name, info["parameters"], postprocessing)
		}
	}
}

// JPEG and WebP results are as close to the pixels as PIL's own encoders (libjpeg, libwebp)
// make them at the same quality, measured by PIL on the PNG result of the same fix.
func TestFixFormatsMatchPILQuality(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "camera.jpg")
	testenv.CopyFile(t, filepath.Join("testdata", "camera.jpg"), src)
	p := newPipeline(filepath.Join(dir, "out"), 0, nil)
	results := map[string]string{}
	for _, format := range []string{"png", "jpg", "webp"} {
		res, err := p.Fix(context.Background(), parseLine(t, fmt.Sprintf("!fix %q -U 4 --format %s", src, format)))
		if err != nil {
			t.Fatal(err)
		}
		results[format] = res.Path
	}
	for format, quality := range map[string]int{"jpg": job.DefaultJPEGQuality, "webp": job.DefaultWebPQuality} {
		m := pythonJSON(t, "pil_quality.py", results["png"], results[format], fmt.Sprint(quality))[0]
		ours, theirs := m["ours_psnr"].(float64), m["pil_psnr"].(float64)
		t.Logf("%s at %d: dream %.2f dB in %.0f bytes, PIL %.2f dB in %.0f bytes", format, quality, ours, m["ours_bytes"], theirs, m["pil_bytes"])
		if ours < theirs-0.5 {
			t.Errorf("%s: %.2f dB, more than 0.5 dB below PIL's %.2f dB", format, ours, theirs)
		}
	}
}

// A WebP or JPEG that dream wrote is read back by the next !fix: the record keeps its
// steps and names the first source, and the parameters stay what they were.
func TestFixOfFixedWebPAndJPEG(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "camera.jpg")
	testenv.CopyFile(t, filepath.Join("testdata", "camera.jpg"), src)
	p := newPipeline(filepath.Join(dir, "out"), 0, nil)
	for _, format := range []string{"webp", "jpg"} {
		first, err := p.Fix(context.Background(), parseLine(t, fmt.Sprintf("!fix %q -U 2 1 --format %s", src, format)))
		if err != nil {
			t.Fatal(err)
		}
		second, err := p.Fix(context.Background(), parseLine(t, fmt.Sprintf("!fix %q -U 2 0.5", first.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(second.Path) != "."+format || second.W != 480 {
			t.Errorf("%s: second fix wrote %s at width %d", format, second.Path, second.W)
		}
		back, err := imageio.Load(second.Path)
		if err != nil {
			t.Fatal(err)
		}
		text := back.Meta.Text
		var record struct {
			Image struct {
				Source         string         `json:"source"`
				Postprocessing []pngmeta.Step `json:"postprocessing"`
			} `json:"image"`
		}
		if err := json.Unmarshal([]byte(text[pngmeta.KeySDMetadata]), &record); err != nil {
			t.Fatalf("%s: sd-metadata %q: %v", format, text[pngmeta.KeySDMetadata], err)
		}
		if record.Image.Source != "camera.jpg" || len(record.Image.Postprocessing) != 2 || record.Image.Postprocessing[1].Strength != 0.5 {
			t.Errorf("%s: record %+v", format, record.Image)
		}
		if want := "Postprocess upscale by: 2, Postprocess upscaler: R-ESRGAN General 4xV3"; text[pngmeta.KeyParameters] != want ||
			!strings.HasSuffix(text[pngmeta.KeyPostprocessing], "visibility: 0.5") {
			t.Errorf("%s: parameters %q, postprocessing %q", format, text[pngmeta.KeyParameters], text[pngmeta.KeyPostprocessing])
		}
		if want := fmt.Sprintf("!fix %q -U 2 0.5", first.Path); text[pngmeta.KeyDream] != want {
			t.Errorf("%s: Dream %q, want %q", format, text[pngmeta.KeyDream], want)
		}
	}
}

// A format that cannot hold the result is refused before any work, with the way out, and
// nothing is written.
func TestFixRefusesWhatAFormatCannotHold(t *testing.T) {
	dir := t.TempDir()
	photo := testenv.SharedImage(t, "images", "coffee_crop128.png")
	rgba := imageio.New(photo.W, photo.H, 4, 8)
	for i := range photo.W * photo.H {
		copy(rgba.Pix[4*i:], photo.Pix[3*i:3*i+3])
		rgba.Pix[4*i+3] = byte(i)
	}
	src := filepath.Join(dir, "cutout.png")
	writePNG(t, src, rgba)
	outdir := filepath.Join(dir, "out")
	p := newPipeline(outdir, 0, nil)
	_, err := p.Fix(context.Background(), parseLine(t, fmt.Sprintf("!fix %q -U 2 --format jpg", src)))
	if want := "--format jpg: the image has transparent pixels, which JPEG cannot hold; use --format png or --format webp"; err == nil || err.Error() != want {
		t.Errorf("jpg of a transparent image: %v, want %q", err, want)
	}
	if files := visibleFiles(outdir); len(files) != 0 {
		t.Errorf("a refused fix wrote %v", files)
	}
	res, err := p.Fix(context.Background(), parseLine(t, fmt.Sprintf("!fix %q -U 2 --format webp", src)))
	if err != nil {
		t.Fatal(err)
	}
	if back, err := imageio.Load(res.Path); err != nil || back.Channels != 4 {
		t.Errorf("webp of a transparent image: %v, channels %d", err, back.Channels)
	}
}

// Generated images take --format, or the launch flag's format; the stored command names it
// (a launch flag's too, so the line makes the same file in any dream), --save_orig's two
// files share it, and -I and !fetch read such images back.
func TestGenerateFormats(t *testing.T) {
	p, out := sdPipeline(t, nil)
	results, err := p.Generate(context.Background(), parseLine(t, "cat -s 4 -W 64 -H 64 -S 5 --format webp -U 2 1 --save_orig"))
	if err != nil {
		t.Fatal(err)
	}
	res := results[0]
	if filepath.Base(res.Original) != "000001.5.webp" || filepath.Base(res.Path) != "000001.5.postprocessed.webp" {
		t.Errorf("wrote %s and %s", res.Original, res.Path)
	}
	command, err := p.StoredCommand(job.Job{Kind: job.Fetch, Path: res.Path})
	if want := `"cat" -s 4 -S 5 -W 64 -H 64 -C 7.5 -A k_lms -U 2 1 --format webp`; err != nil || command != want {
		t.Errorf("!fetch = %q, %v; want %q", command, err, want)
	}

	p.cfg.Format, p.cfg.Quality = "jpg", 80
	results, err = p.Generate(context.Background(), parseLine(t, fmt.Sprintf("cat -s 4 -W 64 -H 64 -S 6 -I %q -f 0.5", res.Original)))
	if err != nil {
		t.Fatal(err)
	}
	jpg := results[0].Path
	if want := filepath.Join(out, "000002.6.jpg"); jpg != want {
		t.Errorf("with --format jpg at launch: wrote %s, want %s", jpg, want)
	}
	command, err = p.StoredCommand(job.Job{Kind: job.Fetch, Path: jpg})
	want := fmt.Sprintf(`"cat" -s 4 -S 6 -W 64 -H 64 -C 7.5 -A k_lms -I %q -f 0.5 --format jpg --quality 80`, res.Original)
	if err != nil || command != want {
		t.Errorf("!fetch = %q, %v; want %q", command, err, want)
	}
	commands, _, err := p.ResultCommands(parseLine(t, command))
	if err != nil || len(commands) != 1 || commands[0] != command {
		t.Errorf("--resume expects %q, %v; the image holds %q", commands, err, command)
	}

	p.cfg.Format, p.cfg.Quality = "", 0
	results, err = p.Generate(context.Background(), parseLine(t, fmt.Sprintf("cat -s 4 -W 64 -H 64 -S 7 -I %q -f 0.5", jpg)))
	if err != nil {
		t.Fatalf("-I of a JPEG dream wrote: %v", err)
	}
	if filepath.Ext(results[0].Path) != ".png" {
		t.Errorf("without --format: wrote %s", results[0].Path)
	}
}
