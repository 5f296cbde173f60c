package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// The page's format and quality fields: empty, the line leaves the choice to the server
// (png for a generated image, the source's format for a fix); set, they are spelled as
// switches, and the choices are the shell's formats. The upscale factor is free text in both
// forms.
func TestPageFormatFields(t *testing.T) {
	d := startWeb(t, 0, nil)
	options := read(t, d.tab, chromedp.Evaluate[string](`[...document.getElementById('fix-format').options].map(o => o.value + ':' + o.text).join(' ')`))
	if options != ":as the source png:png jpg:jpg webp:webp" {
		t.Errorf("the fix form's formats are %q", options)
	}
	for _, step := range []struct {
		fields     map[string]string
		form, want string
	}{
		{map[string]string{"prompt": "a fox"}, "#generate-line", `"a fox"`},
		{map[string]string{"format": "webp", "quality": "80"}, "#generate-line", `"a fox" --format webp --quality 80`},
		{map[string]string{"format": "", "quality": ""}, "#generate-line", `"a fox"`},
		// Generation upscales by any factor, as !fix does.
		{map[string]string{"upscale-factor": "1.5"}, "#generate-line", `"a fox" -U 1.5 0.75`},
		{map[string]string{"upscale-factor": ""}, "#generate-line", `"a fox"`},
		{map[string]string{"fix-path": "x.jpg", "fix-upscale-factor": "2"}, "#fix-line", `!fix x.jpg -U 2 0.75`},
		{map[string]string{"fix-format": "png"}, "#fix-line", `!fix x.jpg -U 2 0.75 --format png`},
		{map[string]string{"fix-format": "", "fix-quality": "70"}, "#fix-line", `!fix x.jpg -U 2 0.75 --quality 70`},
	} {
		do(t, d.tab, fill(step.fields))
		if line := text(t, d.tab, step.form); line != step.want {
			t.Errorf("after %v: %s is %q, want %q", step.fields, step.form, line, step.want)
		}
	}
	do(t, d.tab,
		fill(map[string]string{"prompt": "a fox", "quality": "0"}),
		chromedp.Click(chromedp.CSS("#generate")),
		until(`document.getElementById('quality-error').textContent !== ''`),
	)
	if got, want := text(t, d.tab, "#quality-error"), "--quality 0: give a quality from 1 to 100 (jpg and webp; webp at 100 is lossless)"; got != want {
		t.Errorf("the error under the quality field is %q, want %q", got, want)
	}
}
