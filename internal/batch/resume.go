package batch

import (
	"os"
	"path/filepath"
	"strings"

	"dream/internal/imageio"
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

// folder is what one output folder holds: its results' names by the key of their command.
type folder struct {
	dir     string // absolute, links resolved
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
	keys := make([]string, len(want.Commands))
	for i, c := range want.Commands {
		keys[i] = key(c, want.Seeded, f.dir)
		need[keys[i]]++
	}
	for k, n := range need {
		if len(f.results[k])-f.used[k] < n {
			return false, ""
		}
	}
	example = filepath.Join(dir, f.results[keys[0]][f.used[keys[0]]]) // the folder as the user wrote it
	for k, n := range need {
		f.used[k] += n
	}
	return true, example
}

// key is how a command is matched: all of it, or without its seed. dir is the output folder,
// where a relative path may also point (see canonicalPath).
func key(command string, seeded bool, dir string) string {
	full, seedless, ok := normalise(command, dir)
	if !ok {
		return "raw " + command
	}
	if seeded {
		return "full " + full
	}
	return "seedless " + seedless
}

// normalise parses a stored command and writes it back the one way dream writes commands,
// so spacing, the order of switches and the spelling of a path do not matter.
func normalise(command, dir string) (full, seedless string, ok bool) {
	j, err := parseStored(command)
	if err != nil {
		return "", "", false
	}
	switch j.Kind {
	case job.Generate:
		if j.InitImage != "" {
			j.InitImage = canonicalPath(j.InitImage, dir)
		}
		return j.Command(j.Seed.Value), j.SeedlessCommand(), true
	case job.Fix:
		j.Path = canonicalPath(j.Path, dir)
		// A target size (-W, -H) makes the result whatever -U's factor, and the stored command
		// spells the factor it stood for where the line gave none: the factor is not compared.
		if j.Upscale != nil && j.Upscale.Targets() {
			up := *j.Upscale
			up.Factor = job.MaxUpscale
			j.Upscale = &up
		}
		return j.FixLine(), j.FixLine(), true
	}
	return "", "", false
}

// parseStored parses a stored command. A file name may hold a newline or another control
// character, which a stored command keeps inside its quotes but a typed line may not have
// (job.Parse refuses them): they are parsed as stand-ins from a private-use plane and put
// back into the paths.
func parseStored(command string) (job.Job, error) {
	j, err := job.Parse(strings.Map(toStandIn, command))
	if err != nil {
		return j, err
	}
	j.Path = strings.Map(fromStandIn, j.Path)
	j.InitImage = strings.Map(fromStandIn, j.InitImage)
	j.Prompt = strings.Map(fromStandIn, j.Prompt)
	return j, nil
}

// standIns is where control characters go while a stored command is parsed: Supplementary
// Private Use Area-A, which no file name of a real system uses.
const standIns = 0xF0000

func toStandIn(r rune) rune {
	if isControl(r) {
		return standIns + r
	}
	return r
}

func fromStandIn(r rune) rune {
	if r >= standIns && r < standIns+0x80 {
		return r - standIns
	}
	return r
}

// canonicalPath is the one spelling of a file's path that --resume compares: absolute,
// cleaned, with symbolic links resolved where the file exists, so that "scans/a.png",
// "./scans/a.png", "/work/scans/a.png" and a link to it are one source. A relative path means
// the working directory, or else the output folder dir, as !fix looks for images.
func canonicalPath(path, dir string) string {
	places := []string{path}
	if !filepath.IsAbs(path) && dir != "" {
		places = append(places, filepath.Join(dir, path))
	}
	for _, p := range places {
		if resolved, err := filepath.EvalSymlinks(p); err == nil {
			if abs, err := filepath.Abs(resolved); err == nil {
				return abs
			}
		}
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return filepath.Clean(path)
}

func (r *Resume) folder(dir string) *folder {
	dir = canonicalPath(dir, "")
	if f, ok := r.folders[dir]; ok {
		return f
	}
	f := &folder{dir: dir, results: map[string][]string{}, used: map[string]int{}}
	r.folders[dir] = f
	entries, _ := os.ReadDir(dir) // a folder that cannot be read holds nothing to skip
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !hasImageExtension(name) {
			continue
		}
		texts, err := imageio.ReadTexts(filepath.Join(dir, name)) // PNG, JPEG or WebP; refuses a named pipe at once
		command := texts[pngmeta.KeyDream]
		if err != nil || command == "" {
			continue // not a result of dream's, or damaged: nothing to recognise
		}
		full, seedless, ok := normalise(command, dir)
		if !ok {
			continue
		}
		f.results["full "+full] = append(f.results["full "+full], name)
		f.results["seedless "+seedless] = append(f.results["seedless "+seedless], name)
	}
	return f
}
