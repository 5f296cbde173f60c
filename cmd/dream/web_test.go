package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dream/internal/ort"
	"dream/internal/pngmeta"
	"dream/internal/testenv"
)

// The page's end-to-end tests run dream --web as a user would and drive its page in a real
// headless Chromium (Debian's, which scripts/install_test_tools installs). A missing browser
// fails the tests: they never skip.

var updateScreenshot = flag.Bool("update-screenshot", false, "write the README's picture of the page (docs/web-page.png) from TestPageFixesADroppedImage")

// webDream is a dream --web process and a browser tab on its page.
type webDream struct {
	url    string
	outdir string
	stdin  io.WriteCloser
	output *testenv.Buffer // what dream printed, both streams
	tab    context.Context
	cmd    *exec.Cmd
}

// startWeb starts dream --web on the test Stable Diffusion export (whose steps do stepWork
// extra products), the test face restorer and the real general-x4v3 upscaler, and opens its
// page in a new headless Chromium.
func startWeb(t *testing.T, stepWork int, prepare func(outdir string)) *webDream {
	t.Helper()
	return startWebWith(t, webOptions{stepWork: stepWork, prepare: prepare})
}

// webOptions change how startWebWith starts dream --web.
type webOptions struct {
	stepWork int
	prepare  func(outdir string)
	noSD     bool   // no Stable Diffusion export, and none in the model folder
	models   string // the model folder, "" for the shared one
}

func startWebWith(t testing.TB, o webOptions) *webDream {
	t.Helper()
	work := t.TempDir()
	outdir := filepath.Join(work, "out")
	os.MkdirAll(outdir, 0o755)
	if o.prepare != nil {
		o.prepare(outdir)
	}
	if o.models == "" {
		o.models = filepath.Join(sharedDir, "models")
	}
	testenv.WriteRestorer(t, "gfpgan", filepath.Join(work, "gfpgan.onnx"))
	args := []string{"--web", "--port", "0", "--outdir", outdir, "--device", "cpu",
		"--models", o.models, "--esrgan_model", "general-x4v3", "--gfpgan_model_path", filepath.Join(work, "gfpgan.onnx")}
	if !o.noSD {
		writeStableDiffusion(t, filepath.Join(work, "sd"), []string{fmt.Sprintf("stepwork=%d", o.stepWork)})
		args = append(args, "--sd_model", filepath.Join(work, "sd"))
	}
	cmd := exec.Command(dreamBinary, args...)
	library, err := ort.FindLibrary("")
	if err != nil {
		t.Fatal(err)
	}
	// The thumbnails go to the user's cache folder, here the test's own.
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+filepath.Join(work, "cache"), ort.EnvLibrary+"="+library)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	d := &webDream{outdir: outdir, stdin: stdin, output: &testenv.Buffer{}, cmd: cmd}
	cmd.Stderr = d.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Write([]byte("q\n"))
		stdin.Close()
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	for d.url == "" && lines.Scan() {
		d.output.Write([]byte(lines.Text() + "\n"))
		if u, found := strings.CutPrefix(lines.Text(), "the page is at "); found {
			d.url = u
		}
	}
	if d.url == "" {
		t.Fatalf("dream --web printed no address: %s", d.output)
	}
	go func() { // the rest of standard output, for the test's checks
		for lines.Scan() {
			d.output.Write([]byte(lines.Text() + "\n"))
		}
	}()
	d.tab = openBrowser(t)
	do(t, d.tab, chromedp.Navigate(d.url), until("window.dreamReady === true"))
	return d
}

// openBrowser starts a headless Chromium for one test.
func openBrowser(t testing.TB) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the page's tests need Chromium: run scripts/install_test_tools (it installs Debian's chromium)")
	}
	options := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	allocator, stopAllocator := chromedp.NewExecAllocator(context.Background(), options...)
	tab, stopTab := chromedp.NewContext(allocator)
	if err := chromedp.Do(tab); err != nil { // starts the browser
		stopAllocator()
		t.Fatalf("Chromium did not start: %v", err)
	}
	t.Cleanup(func() {
		stopTab()
		stopAllocator()
	})
	return tab
}

// do runs browser actions, failing the test with a screenshot on error.
func do(t testing.TB, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		failed(t, tab, err)
	}
}

// read runs a browser action that gives a value.
func read[T any](t testing.TB, tab context.Context, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		failed(t, tab, err)
	}
	return v
}

// failed ends a test whose browser step failed, with what the page showed.
func failed(t testing.TB, tab context.Context, err error) {
	t.Helper()
	screenshot(t, tab, "failure")
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	t.Fatalf("in the browser: %v; the page showed:\n%s", err, shown)
}

// text is the text of the first element a CSS selector finds.
func text(t *testing.T, tab context.Context, selector string) string {
	t.Helper()
	return read(t, tab, chromedp.Text(chromedp.CSS(selector)))
}

// until waits for a JavaScript condition to hold.
func until(condition string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](condition, chromedp.WithPollingTimeout(30*time.Second))
}

// screenshot saves the page under the system's temp folder, in one folder per test, and
// logs where.
func screenshot(t testing.TB, tab context.Context, name string) string {
	ctx, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return ""
	}
	// Kept after the test, so that a failure can be looked at.
	dir := filepath.Join(os.TempDir(), "dream-page-tests", t.Name())
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, name+".png")
	os.WriteFile(path, png, 0o644)
	t.Logf("screenshot of the page: %s", path)
	return path
}

// fill sets form fields as a person typing would: the value, then input and change events.
func fill(fields map[string]string) chromedp.Action[chromedp.Void] {
	var script strings.Builder
	for id, value := range fields {
		fmt.Fprintf(&script, `(() => { const e = document.getElementById(%q); e.value = %q;
			e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true})); })();`, id, value)
	}
	return chromedp.Evaluate[chromedp.Void](script.String())
}

// Generating from the page: the image appears in the gallery with its stored command, and
// the line the page built is the job's line in the queue. The test also measures the page's
// first load.
func TestPageGenerates(t *testing.T) {
	d := startWeb(t, 0, nil)
	load := read(t, d.tab, chromedp.Evaluate[map[string]float64](`(() => {
		const nav = performance.getEntriesByType('navigation')[0];
		const resources = performance.getEntriesByType('resource');
		return {bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
			requests: 1 + resources.length, interactive: nav.domInteractive, loaded: nav.loadEventEnd};
	})()`))
	t.Logf("first load: %.0f bytes in %.0f requests; interactive after %.0f ms, loaded after %.0f ms",
		load["bytes"], load["requests"], load["interactive"], load["loaded"])

	do(t, d.tab,
		fill(map[string]string{"prompt": "a red fox in snow", "steps": "3", "seed-mode": "fixed", "seed": "7", "width": "64", "height": "64"}),
		chromedp.Click(chromedp.CSS("#generate")),
		chromedp.WaitVisible(chromedp.CSS(`#gallery figure.image[data-name]`)),
		until(`document.querySelector('#queue li.job span.state').textContent.includes('done')`),
	)
	line := text(t, d.tab, `#queue li.job code.line`)
	command := text(t, d.tab, `#gallery figure.image code.command`)
	if line != `"a red fox in snow" -s 3 -S 7 -W 64 -H 64` {
		t.Errorf("the queue shows the line %q", line)
	}
	if !strings.HasPrefix(command, `"a red fox in snow" -s 3 -S 7 -W 64 -H 64`) {
		t.Errorf("the gallery shows the command %q", command)
	}
	files, _ := filepath.Glob(filepath.Join(d.outdir, "*.png"))
	if len(files) != 1 {
		t.Fatalf("%d images in the output folder", len(files))
	}
	if stored, _ := pngmeta.ReadCommand(files[0]); stored != command {
		t.Errorf("the file stores %q, the gallery shows %q", stored, command)
	}
	screenshot(t, d.tab, "generated")
}

// The steps and guidance fields follow the sampler's own defaults (lcm: 4 steps at guidance 1)
// until the user types a value, and the line the page builds leaves a default out as a line
// typed at the shell would; the decoder choice is spelled only when it is tiny.
func TestPageSamplerDefaults(t *testing.T) {
	d := startWeb(t, 0, nil)
	field := func(id string) string {
		return read(t, d.tab, chromedp.Evaluate[string](fmt.Sprintf(`document.getElementById(%q).value`, id)))
	}
	for _, step := range []struct {
		fields           map[string]string
		line, steps, cfg string
	}{
		{map[string]string{"prompt": "a fox"}, `"a fox"`, "50", "7.5"},
		{map[string]string{"sampler": "lcm"}, `"a fox" -A lcm`, "4", "1"},
		{map[string]string{"steps": "8"}, `"a fox" -s 8 -A lcm`, "8", "1"},
		{map[string]string{"vae": "tiny"}, `"a fox" -s 8 -A lcm --vae tiny`, "8", "1"},
		{map[string]string{"sampler": "k_euler"}, `"a fox" -s 8 -A k_euler --vae tiny`, "8", "7.5"},
		{map[string]string{"cfg": "0", "vae": "full"}, `"a fox" -s 8 -C 0 -A k_euler`, "8", "0"},
	} {
		do(t, d.tab, fill(step.fields))
		if line := text(t, d.tab, "#generate-line"); line != step.line || field("steps") != step.steps || field("cfg") != step.cfg {
			t.Errorf("after %v: the line %q, steps %q, guidance %q; want %q, %s, %s",
				step.fields, line, field("steps"), field("cfg"), step.line, step.steps, step.cfg)
		}
	}
}

// Dropping a photo on the page and fixing it with -U 2 and the test restorer: the result
// shows in the gallery with its stored command, and opens in the before/after slider.
func TestPageFixesADroppedImage(t *testing.T) {
	d := startWeb(t, 0, nil)
	photo, err := os.ReadFile(filepath.Join(sharedDir, "images", "astronaut.png"))
	if err != nil {
		t.Fatal(err)
	}
	drop := fmt.Sprintf(`(() => {
		const bytes = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
		const files = new DataTransfer();
		files.items.add(new File([bytes], 'astronaut.png', {type: 'image/png'}));
		const zone = document.getElementById('drop-zone');
		zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: files, bubbles: true, cancelable: true}));
		zone.dispatchEvent(new DragEvent('drop', {dataTransfer: files, bubbles: true, cancelable: true}));
	})()`, base64.StdEncoding.EncodeToString(photo))
	do(t, d.tab,
		chromedp.Evaluate[chromedp.Void](drop),
		fill(map[string]string{"fix-upscale-factor": "2", "fix-face-strength": "0.8", "fix-faces": "largest",
			"fix-face-color": "off"}),
		chromedp.Click(chromedp.CSS("#fix")),
		chromedp.WaitVisible(chromedp.CSS(`#gallery figure.image[data-name="astronaut.fixed.png"]`)),
	)
	command := text(t, d.tab, `#gallery figure.image[data-name="astronaut.fixed.png"] code.command`)
	if !regexp.MustCompile(`^!fix ".*uploads/astronaut.png" -G 0.8 -ft gfpgan --faces largest --face_color off -U 2 0.75$`).MatchString(command) {
		t.Errorf("the gallery shows the command %q", command)
	}
	// The job's result says what -G found and did, as the terminal does.
	if note := text(t, d.tab, `#queue li.job.done .note`); !regexp.MustCompile(`^1 face found \(\d+ px between the eyes\), 1 restored$`).MatchString(note) {
		t.Errorf("the job's note is %q", note)
	}
	stored, err := pngmeta.ReadCommand(filepath.Join(d.outdir, "astronaut.fixed.png"))
	if err != nil || stored != command {
		t.Errorf("the file stores %q (%v), the gallery shows %q", stored, err, command)
	}
	if _, err := os.Stat(filepath.Join(d.outdir, "uploads", "astronaut.png")); err != nil {
		t.Errorf("the dropped photo was not kept under uploads/: %v", err)
	}
	if path := screenshot(t, d.tab, "fixed"); *updateScreenshot && path != "" {
		data, _ := os.ReadFile(path)
		os.MkdirAll(filepath.Join("..", "..", "docs"), 0o755)
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "web-page.png"), data, 0o644); err != nil {
			t.Error(err)
		}
	}
	do(t, d.tab,
		chromedp.Click(chromedp.CSS(`#gallery figure.image[data-name="astronaut.fixed.png"] button.compare`)),
		chromedp.WaitVisible(chromedp.CSS(`#compare`)),
		fill(map[string]string{"compare-range": "30"}),
	)
	screenshot(t, d.tab, "before-after")
}

// A long job is cancelled from the page, like Ctrl-C: it ends cancelled and writes nothing.
// Its entry is updated in place as steps come, several a second: were it rebuilt, the cancel
// button would be replaced under the pointer and a click could be lost, as this test's own
// click was when it was ("could not find node").
func TestPageCancelsALongJob(t *testing.T) {
	d := startWeb(t, 40, nil)
	do(t, d.tab,
		fill(map[string]string{"prompt": "a very slow fox", "steps": "400", "width": "64", "height": "64"}),
		chromedp.Click(chromedp.CSS("#generate")),
		until(`(document.querySelector('#queue li.job progress') || {}).value > 0`),
		chromedp.Evaluate[chromedp.Void](`window.seen = {button: document.querySelector('#queue li.job button.cancel'),
			step: document.querySelector('#queue li.job progress').value}`),
		until(`document.querySelector('#queue li.job progress').value >= window.seen.step + 3`),
	)
	if same := read(t, d.tab, chromedp.Evaluate[bool](`document.querySelector('#queue li.job button.cancel') === window.seen.button`)); !same {
		t.Error("the cancel button was replaced while the job ran three steps")
	}
	do(t, d.tab,
		chromedp.Click(chromedp.CSS(`#queue li.job button.cancel`)),
		until(`document.querySelector('#queue li.job span.state').textContent.includes('cancelled')`),
	)
	screenshot(t, d.tab, "cancelled")
	if files, _ := filepath.Glob(filepath.Join(d.outdir, "*.png")); len(files) != 0 {
		t.Errorf("the cancelled job wrote %v", files)
	}
}

// A bad value shows the shell's own error text under its field.
func TestPageShowsTheShellsError(t *testing.T) {
	d := startWeb(t, 0, nil)
	do(t, d.tab,
		fill(map[string]string{"prompt": "a fox", "width": "7000"}),
		chromedp.Click(chromedp.CSS("#generate")),
		until(`document.getElementById('width-error').textContent !== ''`),
	)
	shown := text(t, d.tab, "#width-error")
	screenshot(t, d.tab, "error")
	if want := "-W 7000: give a width from 64 to 4096 pixels"; shown != want {
		t.Errorf("under the width: %q, want the shell's %q", shown, want)
	}
}

// A gallery of 500 photos of 512×512: how soon the page shows its first page, thumbnails
// and all, when the thumbnails are made (the first visit) and when they come from the cache
// (every later one). The figures are logged; the cache is checked: it is in the user's cache
// folder, one thumbnail per image shown, and nothing was added to the output folder.
func TestPageGalleryOf500(t *testing.T) {
	photo := filepath.Join(sharedDir, "images", "astronaut.png")
	var outdir string
	d := startWeb(t, 0, func(dir string) {
		outdir = dir
		for i := range 500 {
			// Links: 500 names (and 500 thumbnails) without 400 MB of copies.
			if err := os.Link(photo, filepath.Join(dir, fmt.Sprintf("photo-%03d.png", i))); err != nil {
				testenv.CopyFile(t, photo, filepath.Join(dir, fmt.Sprintf("photo-%03d.png", i)))
			}
		}
	})
	shown := `(() => {
		const images = [...document.querySelectorAll('#gallery figure.image img')];
		const visible = images.filter(img => img.getBoundingClientRect().top < innerHeight);
		return window.dreamReady === true && images.length > 0 && visible.every(img => img.complete && img.naturalWidth > 0);
	})()`
	// The gallery's own time runs from the request for its list to the last thumbnail shown;
	// the page's, from the navigation.
	timing := `(() => {
		const resources = performance.getEntriesByType('resource');
		const list = resources.find(r => r.name.includes('api/gallery'));
		const thumbs = resources.filter(r => r.name.includes('/thumbs/'));
		const lastThumb = Math.max(...thumbs.map(r => r.responseEnd));
		return {page: performance.now(), list: list.duration, gallery: lastThumb - list.startTime, thumbs: thumbs.length};
	})()`
	for _, visit := range []string{"first visit, thumbnails made", "later visit, thumbnails cached"} {
		if visit != "first visit, thumbnails made" {
			do(t, d.tab, chromedp.Navigate(d.url))
		}
		do(t, d.tab, chromedp.Poll[chromedp.Void](shown, chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(5*time.Millisecond)))
		got := read(t, d.tab, chromedp.Evaluate[map[string]float64](timing))
		t.Logf("500 images, %s: the gallery's first page in %.0f ms (its list in %.0f ms, then %.0f thumbnails); the whole page shown after %.0f ms",
			visit, got["gallery"], got["list"], got["thumbs"], got["page"])
	}
	pages := text(t, d.tab, "#gallery-page")
	if !strings.Contains(pages, "of 21") {
		t.Errorf("the pager shows %q for 500 images, 24 a page", pages)
	}
	cached, _ := filepath.Glob(filepath.Join(filepath.Dir(outdir), "cache", "dream", "thumbs", "*.jpg"))
	if len(cached) == 0 || len(cached) > 24 {
		t.Errorf("%d thumbnails in the cache folder, want one for each image of the first page at most", len(cached))
	}
	if entries, _ := os.ReadDir(outdir); len(entries) != 500 {
		t.Errorf("the output folder holds %d entries, want the 500 images alone", len(entries))
	}
	screenshot(t, d.tab, "gallery")
}

// Beyond the loopback interface the page never runs without a token: dream makes one and
// prints it in the address, and a request without it is refused. --web_token gives one.
func TestWebBeyondLoopbackNeedsAToken(t *testing.T) {
	for _, c := range []struct {
		name  string
		args  []string
		token string // "" for one dream makes
	}{
		{"made at start", []string{"--host", "0.0.0.0"}, ""},
		{"given", []string{"--host", "0.0.0.0", "--web_token", "open-sesame"}, "open-sesame"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--web", "--port", "0", "--outdir", t.TempDir()}, c.args...)
			cmd := exec.Command(dreamBinary, args...)
			stdin, _ := cmd.StdinPipe()
			stdout, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				stdin.Close()
				cmd.Process.Signal(os.Interrupt)
				cmd.Wait()
			}()
			lines := bufio.NewScanner(stdout)
			if !lines.Scan() {
				t.Fatal("dream --web printed nothing")
			}
			m := regexp.MustCompile(`^the page is at (http://127\.0\.0\.1:\d+/)\?token=(\S+)$`).FindStringSubmatch(lines.Text())
			if m == nil {
				t.Fatalf("dream printed %q, want the address with its token", lines.Text())
			}
			base, token := m[1], m[2]
			if c.token != "" && token != c.token {
				t.Errorf("the address has the token %q, want the one given, %q", token, c.token)
			}
			if c.token == "" && !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(token) {
				t.Errorf("the token made at start is %q, want 32 hex digits", token)
			}
			for _, r := range []struct {
				url    string
				status int
			}{{base + "api/jobs", 401}, {base + "api/jobs?token=" + token, 200}, {base + "?token=wrong", 401}} {
				res, err := http.Get(r.url)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != r.status {
					t.Errorf("GET %s: %d, want %d", r.url, res.StatusCode, r.status)
				}
			}
		})
	}
}
