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
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dream/internal/imageio"
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
