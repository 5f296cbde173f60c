package batch

import (
	"os"
	"path/filepath"
	"strings"

	"dream/internal/job"
	"dream/internal/pngmeta"
)

// Resume recognises items whose results already exist (--resume). A result is recognised by
// the command dream stored in it, not by its file name: names carry a running number, and a
// file with the expected name may hold something else.
//
// Items are asked about in the order of the lines, and each existing result answers for one
// item only, so a line given twice is done twice.
type Resume struct {
	folders map[string]*folder
}

// folder is what one output folder holds: its results' paths by the key of their command.
type folder struct {
	results map[string][]string
	used    map[string]int
}

// NewResume starts with nothing read; each folder is read the first time an item asks about it.
func NewResume() *Resume {
	return &Resume{folders: map[string]*folder{}}
}

// Expected is what an item's results will store: one command per image.
type Expected struct {
	Commands []string
	// Seeded is false for a generation with a random seed, whose results are recognised by
	// their command without the seed.
	Seeded bool
}

// Done reports whether dir holds, besides the results earlier items were credited with, a
// result for every command the item expects; if so they are credited to it, and the first one
// is returned to name in the log.
func (r *Resume) Done(dir string, want Expected) (done bool, example string) {
	if len(want.Commands) == 0 {
		return false, ""
	}
	f := r.folder(dir)
	need := map[string]int{}
	for _, c := range want.Commands {
		need[key(c, want.Seeded)]++
	}
	for k, n := range need {
		if len(f.results[k])-f.used[k] < n {
			return false, ""
		}
	}
	example = f.results[key(want.Commands[0], want.Seeded)][f.used[key(want.Commands[0], want.Seeded)]]
	for k, n := range need {
		f.used[k] += n
	}
	return true, example
}

// key is how a command is matched: all of it, or without its seed.
func key(command string, seeded bool) string {
	full, seedless, ok := normalise(command)
	if !ok {
		return "raw " + command
	}
	if seeded {
		return "full " + full
	}
	return "seedless " + seedless
}

// normalise parses a stored command and writes it back the one way dream writes commands,
// so spacing and the order of switches do not matter.
func normalise(command string) (full, seedless string, ok bool) {
	j, err := job.Parse(command)
	if err != nil {
		return "", "", false
	}
	switch j.Kind {
	case job.Generate:
		return j.Command(j.Seed.Value), j.SeedlessCommand(), true
	case job.Fix:
		return j.FixLine(), j.FixLine(), true
	}
	return "", "", false
}

func (r *Resume) folder(dir string) *folder {
	dir = filepath.Clean(dir)
	if f, ok := r.folders[dir]; ok {
		return f
	}
	f := &folder{results: map[string][]string{}, used: map[string]int{}}
	r.folders[dir] = f
	entries, _ := os.ReadDir(dir) // a folder that cannot be read holds nothing to skip
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !strings.EqualFold(filepath.Ext(name), ".png") {
			continue
		}
		path := filepath.Join(dir, name)
		command, err := pngmeta.ReadCommand(path)
		if err != nil {
			continue // not a result of dream's, or damaged: nothing to recognise
		}
		full, seedless, ok := normalise(command)
		if !ok {
			continue
		}
		f.results["full "+full] = append(f.results["full "+full], path)
		f.results["seedless "+seedless] = append(f.results["seedless "+seedless], path)
	}
	return f
}
