package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"dream/internal/pngmeta"
)

// The fix form takes any factor and a size to upscale to, and its preview shows the line they
// make: -W and -H after -U, or alone, standing for -U. A bad size is shown under its own
// field; a good one makes a result of that size whose stored command spells the factor the
// size stood for.
func TestPageFixesToSize(t *testing.T) {
	d := startWeb(t, 0, func(outdir string) {
		photo, err := os.ReadFile(filepath.Join(sharedDir, "images", "coffee_crop128.png"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(outdir, "photo.png"), photo, 0o644)
	})
	for _, step := range []struct {
		fields map[string]string
		line   string
	}{
		{map[string]string{"fix-path": "photo.png", "fix-upscale-factor": "1.5"}, `!fix photo.png -U 1.5 0.75`},
		{map[string]string{"fix-width": "1600"}, `!fix photo.png -U 1.5 0.75 -W 1600`},
		{map[string]string{"fix-upscale-factor": "", "fix-height": "900"}, `!fix photo.png -W 1600 -H 900`},
		{map[string]string{"fix-width": "0", "fix-height": ""}, `!fix photo.png -W 0`},
	} {
		do(t, d.tab, fill(step.fields))
		if line := text(t, d.tab, "#fix-line"); line != step.line {
			t.Errorf("after %v the preview is %q, want %q", step.fields, line, step.line)
		}
	}
	do(t, d.tab, chromedp.Click(chromedp.CSS("#fix")), until(`document.getElementById('fix-width-error').textContent !== ''`))
	if got, want := text(t, d.tab, "#fix-width-error"), "-W 0: give the width to upscale to, in pixels, e.g. 1600"; got != want {
		t.Errorf("the width's error is %q, want %q", got, want)
	}
	do(t, d.tab,
		fill(map[string]string{"fix-width": "300"}),
		chromedp.Click(chromedp.CSS("#fix")),
		chromedp.WaitVisible(chromedp.CSS(`#gallery figure.image[data-name="photo.fixed.png"]`)),
	)
	command := text(t, d.tab, `#gallery figure.image[data-name="photo.fixed.png"] code.command`)
	if want := `!fix "` + filepath.Join(d.outdir, "photo.png") + `" -U 4 0.75 -W 300`; command != want {
		t.Errorf("the gallery shows the command %q, want %q", command, want)
	}
	stored, err := pngmeta.ReadCommand(filepath.Join(d.outdir, "photo.fixed.png"))
	if err != nil || stored != command {
		t.Errorf("the file stores %q (%v), the gallery shows %q", stored, err, command)
	}
	screenshot(t, d.tab, "fix-to-size")
}
