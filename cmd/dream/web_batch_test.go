package main

import (
	"bytes"
	"fmt"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Three photos dropped at once are one job (issue 23), as the shell fixes a folder: the
// preview has a line per photo, and the queue one entry, never three, whose count goes to 3/3,
// with a line per image, the summary, and a link per result; each result has its gallery
// entry. Its before/after view shows the source on the left, the fixed image on the right.
func TestPageFixesDroppedImagesAsOneBatch(t *testing.T) {
	d := startWeb(t, 0, nil)
	names := []string{"one.png", "two.png", "three.png"}
	do(t, d.tab,
		dropFiles(photoFile(t, names[0], 180, 60, 64, 64), photoFile(t, names[1], 200, 100, 64, 64), photoFile(t, names[2], 240, 140, 64, 64)),
		fill(map[string]string{"fix-upscale-factor": "2"}),
	)
	var want []string
	for _, name := range names {
		want = append(want, "!fix uploads/"+name+" -U 2 0.75")
	}
	if preview := text(t, d.tab, "#fix-line"); preview != strings.Join(want, "\n") {
		t.Errorf("the preview shows %q, want a line per photo: %q", preview, want)
	}
	do(t, d.tab,
		// Counts the queue's entries at every change, to see that there never are three.
		chromedp.Evaluate[chromedp.Void](`window.mostJobs = 0; window.texts = [];
			new MutationObserver(() => {
				window.mostJobs = Math.max(window.mostJobs, document.querySelectorAll('#queue li.job').length);
				const shown = document.querySelector('#queue li.job .progress-text');
				if (shown && window.texts.at(-1) !== shown.textContent) window.texts.push(shown.textContent);
			}).observe(document.getElementById('queue'), {childList: true, subtree: true, characterData: true})`),
		chromedp.Click(chromedp.CSS("#fix")),
		until(`(document.querySelector('#queue li.job') || {}).className === 'job done'`),
	)
	shown := read(t, d.tab, chromedp.Evaluate[[]string](`window.texts`))
	t.Logf("the entry's progress showed: %q", shown)
	if n := read(t, d.tab, chromedp.Evaluate[int](`window.mostJobs`)); n != 1 {
		t.Errorf("the queue had %d entries for the three photos, want 1", n)
	}
	bar := read(t, d.tab, chromedp.Evaluate[[]float64](`(() => { const p = document.querySelector('#queue li.job progress'); return [p.value, p.max]; })()`))
	if bar[0] != 3 || bar[1] != 3 || text(t, d.tab, "#queue li.job .progress-text") != "fixing 3/3" {
		t.Errorf("the finished batch's bar is at %v/%v with %q, want 3/3 and fixing 3/3", bar[0], bar[1], text(t, d.tab, "#queue li.job .progress-text"))
	}
	log := read(t, d.tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#queue li.job .log > div')].map((e) => e.textContent)`))
	if len(log) != 4 || !regexp.MustCompile(`^done 3, skipped 0, failed 0 of 3 images in \d+s$`).MatchString(log[3]) {
		t.Fatalf("the entry's log is %q, want a line per image and the summary", log)
	}
	links := read(t, d.tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#queue li.job .results a')].map((a) => a.getAttribute('href'))`))
	for _, name := range names {
		fixed := strings.Replace(name, ".png", ".fixed.png", 1)
		if !containsMatch(log[:3], `^ok uploads/`+regexp.QuoteMeta(name)+` -> `+regexp.QuoteMeta(fixed)+` \(\d+\.\d s\)$`) {
			t.Errorf("no log line says %s was fixed into %s: %q", name, fixed, log)
		}
		if !containsMatch(links, `^files/`+regexp.QuoteMeta(fixed)+`$`) {
			t.Errorf("no result link to %s: %q", fixed, links)
		}
		do(t, d.tab, chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#gallery figure.image[data-name=%q]`, fixed))))
	}
	screenshot(t, d.tab, "batch")
	checkCompareSides(t, d, "one.fixed.png", "uploads/one.png")
}

// checkCompareSides opens the before/after view of a fixed image at its middle and checks
// that the left half shows the source and the right half the fixed image, with their labels
// on those sides. The box's background is made magenta, and the before image hidden for a
// moment: the left half then shows the background, and the right half still an image.
func checkCompareSides(t *testing.T, d *webDream, fixed, source string) {
	t.Helper()
	do(t, d.tab,
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#gallery figure.image[data-name=%q] button.compare`, fixed))),
		chromedp.WaitVisible(chromedp.CSS(`#compare`)),
		until(`document.getElementById('compare-before').complete && document.getElementById('compare-after').complete`),
	)
	sides := read(t, d.tab, chromedp.Evaluate[map[string]string](`(() => {
		const box = document.querySelector('#compare .compare-box').getBoundingClientRect();
		const at = (x) => document.elementFromPoint(box.left + box.width * x, box.top + box.height / 2).id;
		const tag = (cls) => document.querySelector('#compare .tag.' + cls).getBoundingClientRect();
		return {left: at(0.25), right: at(0.75), before: decodeURIComponent(new URL(document.getElementById('compare-before').src).pathname),
			labels: tag('before').right <= tag('after').left ? 'before, after' : 'after, before'};
	})()`))
	if sides["left"] != "compare-before" || sides["right"] != "compare-after" || sides["before"] != "/files/"+source ||
		sides["labels"] != "before, after" {
		t.Errorf("the before/after view of %s: %v; want %s on the left, labelled before, after", fixed, sides, source)
	}
	box := `#compare .compare-box`
	do(t, d.tab, chromedp.Evaluate[chromedp.Void](`document.querySelector('#compare .compare-box').style.background = 'rgb(255, 0, 255)';
		document.getElementById('compare-before').style.visibility = 'hidden'`))
	withoutBefore := read(t, d.tab, chromedp.Screenshot(chromedp.CSS(box)))
	do(t, d.tab, chromedp.Evaluate[chromedp.Void](`document.getElementById('compare-before').style.visibility = ''`))
	withBefore := read(t, d.tab, chromedp.Screenshot(chromedp.CSS(box)))
	for _, c := range []struct {
		shot    []byte
		x       float64
		magenta bool
		what    string
	}{
		{withoutBefore, 0.25, true, "the left half without the before image"},
		{withoutBefore, 0.75, false, "the right half without the before image"},
		{withBefore, 0.25, false, "the left half"},
	} {
		if got := isMagenta(t, c.shot, c.x); got != c.magenta {
			t.Errorf("%s shows the background: %v, want %v", c.what, got, c.magenta)
		}
	}
	do(t, d.tab, chromedp.Evaluate[chromedp.Void](`document.querySelector('#compare .compare-box').style.background = ''`),
		fill(map[string]string{"compare-range": "30"}))
	screenshot(t, d.tab, "before-after")
	do(t, d.tab, chromedp.Click(chromedp.CSS("#compare-close")))
}

// isMagenta tells whether a screenshot is the background's magenta at x (a fraction of its
// width) across the middle third of its height.
func isMagenta(t *testing.T, shot []byte, x float64) bool {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	col := b.Min.X + int(float64(b.Dx())*x)
	for row := b.Min.Y + b.Dy()/3; row < b.Min.Y+2*b.Dy()/3; row++ {
		r, g, bl, _ := img.At(col, row).RGBA()
		if r>>8 < 250 || g>>8 > 5 || bl>>8 < 250 {
			return false
		}
	}
	return true
}

func containsMatch(list []string, pattern string) bool {
	for _, s := range list {
		if regexp.MustCompile(pattern).MatchString(s) {
			return true
		}
	}
	return false
}
