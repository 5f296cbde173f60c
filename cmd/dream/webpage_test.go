package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"dream/internal/imageio"
	"dream/internal/pngmeta"
	"dream/internal/testenv"
)

// Tests of the page as a new user found it (issue 25), in the same headless Chromium as
// web_test.go.

// dropFiles drops files (name → bytes) on the fix form's drop zone, as a person dragging
// them from a file manager would.
func dropFiles(files ...namedFile) chromedp.Action[chromedp.Void] {
	var script strings.Builder
	script.WriteString("(() => { const files = new DataTransfer();\n")
	for _, f := range files {
		fmt.Fprintf(&script, "files.items.add(new File([Uint8Array.from(atob(%q), c => c.charCodeAt(0))], %q));\n",
			base64.StdEncoding.EncodeToString(f.data), f.name)
	}
	script.WriteString(`const zone = document.getElementById('drop-zone');
		zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: files, bubbles: true, cancelable: true}));
		zone.dispatchEvent(new DragEvent('drop', {dataTransfer: files, bubbles: true, cancelable: true})); })()`)
	return chromedp.Evaluate[chromedp.Void](script.String())
}

// newTab opens another tab of the browser that runs tab. The first action on a tab opens it
// and ties it to its context: that one has no timeout, else the tab would close with it.
func newTab(t *testing.T, tab context.Context) context.Context {
	t.Helper()
	another, closeTab := chromedp.NewContext(tab)
	t.Cleanup(closeTab)
	if err := chromedp.Do(another); err != nil {
		t.Fatalf("Chromium opened no other tab: %v", err)
	}
	return another
}

type namedFile struct {
	name string
	data []byte
}

// photoFile encodes part of a shared photo, cropped to w×h at (x, y), as PNG or JPEG.
func photoFile(t *testing.T, name string, x, y, w, h int) namedFile {
	t.Helper()
	img, err := imageio.Load(filepath.Join(sharedDir, "images", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	crop := image.NewRGBA(image.Rect(0, 0, w, h))
	for row := range h {
		for col := range w {
			i := ((y+row)*img.W + x + col) * img.Channels
			o := crop.PixOffset(col, row)
			copy(crop.Pix[o:o+3], img.Pix[i:i+3])
			crop.Pix[o+3] = 255
		}
	}
	var out bytes.Buffer
	if strings.HasSuffix(name, ".jpg") {
		err = jpeg.Encode(&out, crop, &jpeg.Options{Quality: 90})
	} else {
		err = png.Encode(&out, crop)
	}
	if err != nil {
		t.Fatal(err)
	}
	return namedFile{name, out.Bytes()}
}

// compareBefore is what the before/after view of a gallery image shows as "before": the
// name inside the output folder, or "" when the image has no comparison.
func compareBefore(t *testing.T, d *webDream, name string) string {
	t.Helper()
	return read(t, d.tab, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		const button = document.querySelector('#gallery figure.image[data-name=%q] button.compare');
		if (!button) return '';
		button.click();
		const src = decodeURIComponent(new URL(document.getElementById('compare-before').src).pathname);
		document.getElementById('compare-close').click();
		return src.replace(/^\/files\//, '');
	})()`, name)))
}

// The before/after view shows the file the fix read, as the result's metadata records it,
// never a file that only has the same name: a photo dropped as sample2.jpg is fixed from the
// page, then another picture called sample2.png, from a folder outside the output folder, is
// fixed at the shell of the same process. The second result has no "before" the page can
// show (its source is not in the output folder); the first keeps its own, until that file is
// removed.
func TestPageComparesWithTheRecordedSource(t *testing.T) {
	d := startWeb(t, 0, nil)
	do(t, d.tab,
		dropFiles(photoFile(t, "sample2.jpg", 200, 100, 96, 96)),
		fill(map[string]string{"fix-upscale-factor": "2"}),
		chromedp.Click(chromedp.CSS("#fix")),
	)
	fromPage := galleryNameOf(t, d, "uploads/sample2.jpg")
	other := filepath.Join(filepath.Dir(d.outdir), "other", "sample2.png")
	os.MkdirAll(filepath.Dir(other), 0o755)
	mustWrite(t, other, photoFile(t, "sample2.png", 0, 0, 80, 80).data)
	fmt.Fprintf(d.stdin, "!fix %s -U 2\n", other)
	fromShell := galleryNameOf(t, d, "other/sample2.png")

	if before := compareBefore(t, d, fromPage); before != "uploads/sample2.jpg" {
		t.Errorf("the page's fix, %s, compares with %q, want uploads/sample2.jpg", fromPage, before)
	}
	if before := compareBefore(t, d, fromShell); before != "" {
		t.Errorf("the shell's fix of %s, %s, compares with %q, a picture it was not made from", other, fromShell, before)
	}
	// Its source gone, the first result has no comparison either.
	if err := os.Remove(filepath.Join(d.outdir, "uploads", "sample2.jpg")); err != nil {
		t.Fatal(err)
	}
	do(t, d.tab, chromedp.Evaluate[chromedp.Void](`loadGallery(0)`),
		until(fmt.Sprintf(`!document.querySelector('#gallery figure.image[data-name=%q] button.compare')`, fromPage)))
}

// galleryNameOf waits for the gallery to show the result of a !fix of source and returns its
// name.
func galleryNameOf(t *testing.T, d *webDream, source string) string {
	t.Helper()
	find := fmt.Sprintf(`[...document.querySelectorAll('#gallery figure.image')].find(f =>
		f.querySelector('code.command').textContent.startsWith('!fix ') &&
		f.querySelector('code.command').textContent.includes(%q))`, source)
	do(t, d.tab, until("!!"+find))
	return read(t, d.tab, chromedp.Evaluate[string](find+".dataset.name"))
}

// Eight tabs of the page, and a ninth (issue 25): a browser opens at most six connections to
// one server, and each tab's own event stream held one, so a seventh tab never loaded and a
// click waited forever. The tabs now share one stream: in the eighth tab a fix is sent, runs,
// and its progress and result show there and in the first tab; a ninth tab then loads and
// shows the job.
func TestPageWorksInEightTabs(t *testing.T) {
	d := startWeb(t, 0, func(outdir string) {
		testenv.CopyFile(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"), filepath.Join(outdir, "coffee.png"))
	})
	tabs := []context.Context{d.tab}
	for len(tabs) < 8 {
		tab := newTab(t, d.tab)
		do(t, tab, chromedp.Navigate(d.url), until("window.dreamReady === true"))
		tabs = append(tabs, tab)
	}
	last := tabs[7]
	clicked := time.Now()
	do(t, last,
		fill(map[string]string{"fix-path": "coffee.png", "fix-upscale-factor": "2"}),
		chromedp.Click(chromedp.CSS("#fix")),
		until(`(document.querySelector('#queue li.job') || {}).className === 'job done'`),
	)
	t.Logf("8 tabs open: the fix clicked in the eighth was done after %v", time.Since(clicked).Round(time.Millisecond))
	if msg := text(t, last, "#fix-error"); msg != "" {
		t.Errorf("the eighth tab shows the error %q", msg)
	}
	for i, tab := range []context.Context{tabs[0], last} {
		do(t, tab, until(`!!document.querySelector('#queue li.job.done .results a')`),
			chromedp.WaitVisible(chromedp.CSS(`#gallery figure.image[data-name="coffee.fixed.png"]`)))
		if bar := read(t, tab, chromedp.Evaluate[float64](`(() => { const p = document.querySelector('#queue li.job progress'); return p.value / p.max; })()`)); bar != 1 {
			t.Errorf("tab %d: the finished job's bar is at %.2f", []int{1, 8}[i], bar)
		}
	}
	ninth := newTab(t, d.tab)
	do(t, ninth, chromedp.Navigate(d.url), until("window.dreamReady === true"),
		until(`(document.querySelector('#queue li.job') || {}).className === 'job done'`))
	screenshot(t, ninth, "ninth-tab")
}

// dream --web without a terminal: q ends the shell and the page goes on until dream is
// interrupted; the page's job that this cancels is named, not dropped without a word (issue
// 25).
func TestWebSaysWhichPageJobsItCancels(t *testing.T) {
	d := startWeb(t, 40, nil)
	res, err := http.Post(d.url+"api/jobs", "application/json", strings.NewReader(`{"line": "\"a slow fox\" -s 400 -W 64 -H 64"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST api/jobs: %d", res.StatusCode)
	}
	io.WriteString(d.stdin, "q\n")
	d.stdin.Close()
	do(t, d.tab, until(`(document.querySelector('#queue li.job progress') || {}).value > 0`))
	d.cmd.Process.Signal(os.Interrupt)
	d.cmd.Wait()
	if want := `cancelled job 1 from the page (running): "a slow fox" -s 400 -W 64 -H 64`; !strings.Contains(d.output.String(), want) {
		t.Errorf("dream printed %q, want the line %q", d.output.String(), want)
	}
}

// On a phone (390×844) the queue is screens below the forms: the job a Fix click queued
// stays in sight in the bar at the bottom of the window, running and then done with its
// result, and the bar's button brings its entry in the queue into view (issue 25).
func TestPageKeepsTheJobInSight(t *testing.T) {
	d := startWeb(t, 0, func(outdir string) {
		testenv.CopyFile(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"), filepath.Join(outdir, "coffee.png"))
	})
	inView := func(selector string) string {
		return fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false;
			const r = e.getBoundingClientRect();
			return !e.closest('[hidden]') && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight; })()`, selector)
	}
	do(t, d.tab,
		chromedp.EmulateViewport(390, 844),
		fill(map[string]string{"fix-path": "coffee.png", "fix-upscale-factor": "2"}),
		chromedp.Click(chromedp.CSS("#fix")),
		until(inView("#status-bar")+` && document.querySelector('#status-bar .status-line').textContent.startsWith('!fix coffee.png -U 2')`),
	)
	if queueShown := read(t, d.tab, chromedp.Evaluate[bool](inView("#queue li.job"))); queueShown {
		t.Log("the queue's entry is in view too at 390×844: the bar is not what keeps the job in sight")
	}
	do(t, d.tab, until(inView("#status-bar")+` && document.getElementById('status-bar').className === 'done'
		&& !!document.querySelector('#status-bar .results a[href="files/coffee.fixed.png"]')`))
	screenshot(t, d.tab, "phone-done")
	do(t, d.tab,
		chromedp.Click(chromedp.CSS("#status-bar .status-show")),
		until(inView("#queue li.job")),
	)
}

// Without a Stable Diffusion model the page offers what it can run (issue 25): Fix comes
// first, Generate is disabled with the reason and the folder to fill, Enter in the prompt
// queues nothing, and CodeFormer, whose file is missing, cannot be chosen; the note says
// where it belongs.
func TestPageOffersOnlyWhatCanRun(t *testing.T) {
	d := startWebWith(t, webOptions{noSD: true})
	sdFolder := filepath.Join(sharedDir, "models", "stable-diffusion-v1-5")
	state := read(t, d.tab, chromedp.Evaluate[map[string]any](`({
		generateDisabled: document.getElementById('generate').disabled,
		why: document.getElementById('generate-unavailable').textContent,
		fixFirst: document.getElementById('fix-panel').getBoundingClientRect().top < document.getElementById('generate-panel').getBoundingClientRect().top,
		codeformer: [...document.getElementById('fix-face-tool').options].filter(o => o.value === 'codeformer').map(o => o.disabled)[0],
		gfpgan: [...document.getElementById('fix-face-tool').options].filter(o => o.value === 'gfpgan').map(o => o.disabled)[0],
		note: document.getElementById('fix-face-tool-unavailable').textContent,
	})`))
	if state["generateDisabled"] != true || !strings.Contains(state["why"].(string), "no Stable Diffusion model is installed") ||
		!strings.Contains(state["why"].(string), sdFolder) {
		t.Errorf("Generate: disabled %v, reason %q; want disabled, saying where the model goes (%s)", state["generateDisabled"], state["why"], sdFolder)
	}
	if state["fixFirst"] != true {
		t.Error("the Fix form is not first without a Stable Diffusion model")
	}
	if state["codeformer"] != true || state["gfpgan"] != false || !strings.Contains(state["note"].(string), filepath.Join(sharedDir, "models", "codeformer.onnx")) {
		t.Errorf("restorers: codeformer disabled %v, gfpgan disabled %v, note %q; want codeformer alone disabled, the note naming its file",
			state["codeformer"], state["gfpgan"], state["note"])
	}
	do(t, d.tab,
		fill(map[string]string{"prompt": "a fox"}),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('prompt').dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}))`),
		chromedp.Sleep(500*time.Millisecond),
	)
	if n := read(t, d.tab, chromedp.Evaluate[int](`document.querySelectorAll('#queue li.job').length`)); n != 0 {
		t.Errorf("Enter in the prompt queued %d jobs without a model to run them", n)
	}
	screenshot(t, d.tab, "no-sd")
}

// The fix form's picker chooses the network for the job: the line says --esrgan_model, the
// result's stored command keeps it, and a network whose file is missing is listed disabled
// with the file to put in place (issue 25).
func TestPagePicksTheUpscaler(t *testing.T) {
	models := t.TempDir()
	for _, file := range []string{"realesr-general-x4v3.onnx", "face_detection_yunet.onnx"} {
		testenv.CopyFile(t, filepath.Join(sharedDir, "models", file), filepath.Join(models, file))
	}
	d := startWebWith(t, webOptions{models: models, prepare: func(outdir string) {
		testenv.CopyFile(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"), filepath.Join(outdir, "coffee.png"))
	}})
	options := read(t, d.tab, chromedp.Evaluate[[]string](`[...document.getElementById('fix-upscaler').options].map(o => o.value + '=' + o.text + (o.disabled ? ' (disabled)' : ''))`))
	want := []string{"=dream's default (general-x4v3)", "x4plus=x4plus (missing) (disabled)", "general-x4v3=general-x4v3"}
	if strings.Join(options, "|") != strings.Join(want, "|") {
		t.Errorf("the picker offers %q, want %q", options, want)
	}
	if note := text(t, d.tab, "#fix-upscale-unavailable"); !strings.Contains(note, filepath.Join(models, "realesrgan-x4plus.onnx")) {
		t.Errorf("the note under the picker says %q, want x4plus's path", note)
	}
	do(t, d.tab, fill(map[string]string{"fix-path": "coffee.png", "fix-upscaler": "general-x4v3", "fix-face-strength": "0.5"}))
	if line := text(t, d.tab, "#fix-line"); strings.Contains(line, "--esrgan_model") {
		t.Errorf("without an upscale the line names a network: %q", line)
	}
	do(t, d.tab,
		fill(map[string]string{"fix-face-strength": "0", "fix-upscale-factor": "2"}),
		chromedp.Click(chromedp.CSS("#fix")),
		until(`(document.querySelector('#queue li.job') || {}).className === 'job done'`),
	)
	if line := text(t, d.tab, "#queue li.job code.line"); line != "!fix coffee.png -U 2 0.75 --esrgan_model general-x4v3" {
		t.Errorf("the queue shows %q", line)
	}
	stored, err := pngmeta.ReadCommand(filepath.Join(d.outdir, "coffee.fixed.png"))
	if err != nil || !strings.HasSuffix(stored, " --esrgan_model general-x4v3") {
		t.Errorf("the result stores %q (%v), want the network named", stored, err)
	}
}

// A job of the shell is linked to its result in the page's queue, and every finished entry
// says how long it took and how much it wrote (issue 25).
func TestPageShowsResultsTimesAndSizes(t *testing.T) {
	d := startWeb(t, 0, func(outdir string) {
		testenv.CopyFile(t, filepath.Join(sharedDir, "images", "coffee_crop128.png"), filepath.Join(outdir, "coffee.png"))
	})
	fmt.Fprintf(d.stdin, "!fix %s -U 2\n", filepath.Join(d.outdir, "coffee.png"))
	entry := `document.querySelector('#queue li.job.done')`
	do(t, d.tab, until(`!!`+entry+` && !!`+entry+`.querySelector('.results a')`))
	got := read(t, d.tab, chromedp.Evaluate[map[string]string](`(() => { const li = `+entry+`;
		return {source: li.querySelector('.source').hidden ? 'page' : 'shell', href: li.querySelector('.results a').getAttribute('href'),
			summary: li.querySelector('.summary').textContent}; })()`))
	info, err := os.Stat(filepath.Join(d.outdir, "coffee.fixed.png"))
	if err != nil {
		t.Fatal(err)
	}
	kib := (info.Size() + 512) / 1024
	if got["source"] != "shell" || got["href"] != "files/coffee.fixed.png" ||
		!regexp.MustCompile(fmt.Sprintf(`^took \d+\.\d s · %d KiB$`, kib)).MatchString(got["summary"]) {
		t.Errorf("the shell's job shows %v; want a link to files/coffee.fixed.png and \"took N.N s · %d KiB\"", got, kib)
	}
	res, err := http.Get(d.url + got["href"])
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("the link gives %v %v", res, err)
	}
	res.Body.Close()
}

// The time left in a running job's line counts down once a second between the server's
// reports (issue 25), from the exact seconds a report gives (eta_s) or else from the line's
// own "ETA 1m05s", the report's age at sending taken off.
func TestPageCountsTheTimeLeftDown(t *testing.T) {
	d := startWeb(t, 0, nil)
	do(t, d.tab, chromedp.Evaluate[chromedp.Void](`
		onJob({id: 901, state: 'running', source: 'page', line: 'one', results: [], progressAge: 1,
			progress: {task: 'upscaling', unit: 'tiles', done: 500, total: 2000, fraction: 0.25, eta_s: 12.4,
				text: 'upscaling ×2 [###         ] 0.5/2 tiles, 8.0 s/it, ETA 12s'}});
		onJob({id: 902, state: 'running', source: 'page', line: 'two', results: [], progressAge: 0,
			progress: {task: 'generating', unit: 'steps', done: 3, total: 30,
				text: 'generating 2/3 [#   ] 3/30 steps, 2.0 s/it, ETA 1m05s (line 3m20s)'}});`))
	shown := func(id int) string {
		return read(t, d.tab, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector('#queue li[data-id="%d"] .progress-text').textContent`, id)))
	}
	if first := shown(901); !strings.HasSuffix(first, "ETA 11s") {
		t.Errorf("a report 1 s old with 12.4 s left shows %q, want ETA 11s", first)
	}
	start := time.Now()
	do(t, d.tab, chromedp.Sleep(2500*time.Millisecond))
	elapsed := time.Since(start).Seconds()
	// The line is redrawn once a second, so it may be up to a second behind.
	for _, c := range []struct {
		id      int
		pattern string
		left    float64 // at the start
	}{
		{901, `ETA (\d+)s$`, 12.4 - 1},
		{902, `ETA 1m(\d+)s `, 5}, // the seconds past the minute
		{902, `\(line 3m(\d+)s\)$`, 20},
	} {
		got := shown(c.id)
		m := regexp.MustCompile(c.pattern).FindStringSubmatch(got)
		n := -1.0
		if m != nil {
			n, _ = strconv.ParseFloat(m[1], 64)
		}
		if left := c.left - elapsed; n < left-0.5 || n > left+1.5 {
			t.Errorf("after %.1f s: %q, want %s with about %.0f s", elapsed, got, c.pattern, left)
		}
	}
}

// The before/after view zooms with the wheel around the pointer, pans with a drag once
// zoomed, and its split line is dragged on the image itself (issue 25).
func TestPageCompareZoomsPansAndDragsTheLine(t *testing.T) {
	d := startWeb(t, 0, nil)
	do(t, d.tab,
		dropFiles(photoFile(t, "face.png", 150, 60, 160, 120)),
		fill(map[string]string{"fix-upscale-factor": "2"}),
		chromedp.Click(chromedp.CSS("#fix")),
		chromedp.WaitVisible(chromedp.CSS(`#gallery figure.image[data-name="face.fixed.png"] button.compare`)),
		chromedp.Click(chromedp.CSS(`#gallery figure.image[data-name="face.fixed.png"] button.compare`)),
		chromedp.WaitVisible(chromedp.CSS(`#compare-box`)),
	)
	box := read(t, d.tab, chromedp.Evaluate[map[string]float64](`(() => { const r = document.getElementById('compare-box').getBoundingClientRect();
		return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`))
	at := func(fx, fy float64) (float64, float64) {
		return box["left"] + fx*box["width"], box["top"] + fy*box["height"]
	}
	view := func() map[string]float64 {
		return read(t, d.tab, chromedp.Evaluate[map[string]float64](`(() => { const s = getComputedStyle(document.getElementById('compare-box'));
			return {split: parseFloat(s.getPropertyValue('--split')), zoom: parseFloat(s.getPropertyValue('--zoom')),
				x: parseFloat(s.getPropertyValue('--x')), y: parseFloat(s.getPropertyValue('--y')),
				range: Number(document.getElementById('compare-range').value)}; })()`))
	}
	// The line, grabbed where it is drawn (the middle), dragged to a quarter of the width.
	x0, y0 := at(0.5, 0.5)
	x1, _ := at(0.25, 0.5)
	do(t, d.tab, drag(x0, y0, x1, y0))
	if v := view(); v["split"] < 24 || v["split"] > 26 || v["range"] != v["split"] {
		t.Errorf("after dragging the line to 25%%: %v", v)
	}
	// The wheel zooms in around the pointer, at three quarters of the width.
	xz, yz := at(0.75, 0.5)
	// (DevTools' mouseWheel needs a deltaX that its Go binding leaves out when 0: the wheel
	// event is the browser's own type, sent at the point.)
	do(t, d.tab, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.elementFromPoint(%f, %f).dispatchEvent(
		new WheelEvent('wheel', {clientX: %f, clientY: %f, deltaY: -300, deltaMode: 0, bubbles: true, cancelable: true}))`, xz, yz, xz, yz)))
	zoomed := view()
	if zoomed["zoom"] < 1.5 || zoomed["split"] != view()["split"] {
		t.Fatalf("after the wheel: %v, want zoomed in", zoomed)
	}
	// The point under the pointer stays there: x = px·(1 - zoom).
	if want := 0.75 * box["width"] * (1 - zoomed["zoom"]); zoomed["x"] < want-1 || zoomed["x"] > want+1 {
		t.Errorf("zoomed around x = %.1f, want %.1f (the pointer's point kept)", zoomed["x"], want)
	}
	// A drag away from the line pans the zoomed images, and leaves the line.
	do(t, d.tab, drag(xz, yz, xz+30, yz+10))
	panned := view()
	if panned["x"] < zoomed["x"]+29 || panned["x"] > zoomed["x"]+31 || panned["split"] != zoomed["split"] {
		t.Errorf("after a 30-pixel drag: %v, from %v", panned, zoomed)
	}
	screenshot(t, d.tab, "compare-zoomed")
	// A double click shows the whole image again.
	do(t, d.tab, chromedp.MouseClickXY(xz, yz, chromedp.ClickCount(1)), chromedp.MouseClickXY(xz, yz, chromedp.ClickCount(2)))
	if v := view(); v["zoom"] != 1 || v["x"] != 0 || v["y"] != 0 {
		t.Errorf("after a double click: %v, want the whole image", v)
	}
}

// drag presses the left button at (x0, y0), moves to (x1, y1) in steps, and releases it.
func drag(x0, y0, x1, y1 float64) chromedp.Action[chromedp.Void] {
	held := func(p *input.DispatchMouseEventParams) { p.Button, p.Buttons = input.MouseButtonLeft, 1 }
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(chromedp.MousePressed, x0, y0, held, chromedp.ClickCount(1))}
	for i := 1; i <= 5; i++ {
		f := float64(i) / 5
		steps = append(steps, chromedp.MouseEvent(chromedp.MouseMoved, x0+f*(x1-x0), y0+f*(y1-y0), held))
	}
	steps = append(steps, chromedp.MouseEvent(chromedp.MouseReleased, x1, y1, held, chromedp.ClickCount(1)))
	return chromedp.Steps(steps...)
}
