package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	// demand counts the results of each command that the items asked about so far expect,
	// done or not (see Wanted).
	demand map[string]int
	// seen are the names read, so that a refresh reads only the files written since.
	seen map[string]bool
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
	_, done, example = r.Want(dir, want)
	return done, example
}

// Wanted is an item as --resume sees it, for asking again later whether it is done, once other
// processes sharing the batch may have made its results (see DoneNow and Claims).
type Wanted struct {
	folder *folder
	dir    string         // the output folder as the user wrote it
	need   map[string]int // results wanted, by the key of their command
	// before counts the results of the same commands that the items before this one expect:
	// a line given twice is done twice, so its second item needs two results.
	before map[string]int
	first  string // the key of the first command
}

// Want is Done, and also returns the item for DoneNow. Every item of a batch must be asked
// about, in order, done or not, so that each knows what the items before it expect.
func (r *Resume) Want(dir string, want Expected) (w Wanted, done bool, example string) {
	if len(want.Commands) == 0 {
		return Wanted{}, false, ""
	}
	f := r.folder(dir)
	w = Wanted{folder: f, dir: dir, need: map[string]int{}, before: map[string]int{}}
	for i, c := range want.Commands {
		k := key(c, want.Seeded, f.dir)
		if i == 0 {
			w.first = k
		}
		w.need[k]++
	}
	for k, n := range w.need {
		w.before[k] = f.demand[k]
		f.demand[k] += n
	}
	for k, n := range w.need {
		if len(f.results[k])-f.used[k] < n {
			return w, false, ""
		}
	}
	example = filepath.Join(dir, f.results[w.first][f.used[w.first]]) // the folder as the user wrote it
	for k, n := range w.need {
		f.used[k] += n
	}
	return w, true, example
}

// DoneNow reads the files written into the item's folder since it was last read and reports
// whether the folder now holds the item's results besides those of every item before it; if
// so, it names one of them. An item that cannot be recognised (it expects nothing) is never
// done.
func (r *Resume) DoneNow(w Wanted) (done bool, example string) {
	if w.folder == nil {
		return false, ""
	}
	f := w.folder
	f.read()
	for k, n := range w.need {
		if len(f.results[k]) < w.before[k]+n {
			return false, ""
		}
	}
	results := f.results[w.first]
	return true, filepath.Join(w.dir, results[min(w.before[w.first], len(results)-1)])
}

// ClaimKey names the item's claim (see Claims): the same for every process that plans the
// same batch, whatever shard or line it comes from, and different for a line given twice.
func (w Wanted) ClaimKey() string {
	var parts []string
	for k, n := range w.need {
		parts = append(parts, fmt.Sprintf("%d+%d %s", w.before[k], n, k))
	}
	slices.Sort(parts)
	sum := sha256.Sum256([]byte(w.folder.dir + "\x00" + strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:12])
}

// Dir is the item's output folder, as the user wrote it.
func (w Wanted) Dir() string { return w.dir }

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
	f := &folder{dir: dir, results: map[string][]string{}, used: map[string]int{}, demand: map[string]int{}, seen: map[string]bool{}}
	r.folders[dir] = f
	f.read()
	return f
}

// read reads the commands stored in the folder's results that it has not read before.
func (f *folder) read() {
	entries, _ := os.ReadDir(f.dir) // a folder that cannot be read holds nothing to skip
	for _, e := range entries {
		name := e.Name()
		if f.seen[name] || e.IsDir() || strings.HasPrefix(name, ".") || !hasImageExtension(name) {
			continue
		}
		f.seen[name] = true
		texts, err := imageio.ReadTexts(filepath.Join(f.dir, name)) // PNG, JPEG or WebP; refuses a named pipe at once
		command := texts[pngmeta.KeyDream]
		if err != nil || command == "" {
			continue // not a result of dream's, or damaged: nothing to recognise
		}
		full, seedless, ok := normalise(command, f.dir)
		if !ok {
			continue
		}
		f.results["full "+full] = append(f.results["full "+full], name)
		f.results["seedless "+seedless] = append(f.results["seedless "+seedless], name)
	}
}
