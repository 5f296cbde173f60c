package web

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"dream/internal/queue"
	"dream/internal/testenv"
)

// A finished job shows how long it ran and how much it wrote, and each result it wrote into
// the output folder has an address: the page's results, named inside the folder, and the
// shell's, which come as absolute paths (issue 25). A file written elsewhere is named by its
// path, with no address.
func TestJobsShowTimeSizeAndLinks(t *testing.T) {
	ts := startServer(t, serverOptions{})
	testenv.CopyFile(t, testenv.Shared("images", "coffee_crop128.png"), filepath.Join(ts.outdir, "coffee.png"))
	status, answer := ts.postJob(t, "!fix coffee.png -U 2")
	if status != 202 {
		t.Fatalf("POST: %d %v", status, answer)
	}
	page := ts.waitFor(t, jobID(t, answer), queue.Done)

	// A job of the shell, as the shell finishes one: its results by absolute path.
	elsewhere := filepath.Join(t.TempDir(), "far.png")
	testenv.CopyFile(t, testenv.Shared("images", "coffee_crop128.png"), elsewhere)
	inside, err := filepath.Abs(filepath.Join(ts.outdir, "coffee.png"))
	if err != nil {
		t.Fatal(err)
	}
	ticket := ts.queue.Add("!fix ...", queue.FromShell, func() {}, nil)
	if err := ticket.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	ticket.Finish([]queue.Result{{Name: inside}, {Name: elsewhere}}, nil, nil)

	_, body := ts.get(t, "/api/jobs")
	var list struct{ Jobs []jobView }
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Jobs) != 2 {
		t.Fatalf("GET /api/jobs: %s", body)
	}
	shell, fixed := list.Jobs[0], list.Jobs[1]
	size := func(name string) int64 {
		info, err := os.Stat(filepath.Join(ts.outdir, name))
		if err != nil {
			t.Fatal(err)
		}
		return info.Size()
	}
	if fixed.ID != page.ID || len(fixed.Results) != 1 || fixed.Results[0].URL != "/files/coffee.fixed.png" ||
		fixed.Bytes != size("coffee.fixed.png") || fixed.Seconds <= 0 || fixed.Seconds > 60 {
		t.Errorf("the page's job: %+v; want its result's address, %d bytes and its time", fixed, size("coffee.fixed.png"))
	}
	want := []resultView{{Name: "coffee.png", URL: "/files/coffee.png"}, {Name: elsewhere}}
	if len(shell.Results) != 2 || shell.Results[0] != want[0] || shell.Results[1] != want[1] ||
		shell.Bytes != size("coffee.png") || shell.Seconds < 0.02 {
		t.Errorf("the shell's job: %+v; want results %+v, %d bytes (the file outside not counted), at least 0.02 s", shell, want, size("coffee.png"))
	}
}
