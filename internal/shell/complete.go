package shell

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"dream/internal/job"
)

// Commands lists what the first word of a line can be, besides a prompt.
var Commands = []string{"!fix", "!fetch", "!history", "!models", "!help", "quit", "exit"}

// completer answers Tab: commands as the first word, switch names after a dash, sampler, face
// tool and decoder names after -A, -ft and --vae, and file paths after !fix, !fetch and -I.
type completer struct{}

// Do implements readline.AutoCompleter: it returns the endings that complete the word before
// the cursor, and that word's length.
func (completer) Do(line []rune, pos int) ([][]rune, int) {
	before := string(line[:pos])
	words := strings.Fields(before)
	current := ""
	if len(words) > 0 && !strings.HasSuffix(before, " ") {
		current, words = words[len(words)-1], words[:len(words)-1]
	}
	candidates := Candidates(words, current)
	endings := make([][]rune, len(candidates))
	for i, c := range candidates {
		endings[i] = []rune(strings.TrimPrefix(c, current))
	}
	return endings, len([]rune(current))
}

// Candidates returns the full words that could replace current, given the words before it.
func Candidates(before []string, current string) []string {
	previous := ""
	if len(before) > 0 {
		previous = before[len(before)-1]
	}
	var options []string
	switch {
	case len(before) == 0 && strings.HasPrefix(current, "!"), len(before) == 0 && current == "q":
		options = Commands
	case previous == "-A" || previous == "--sampler":
		options = job.Samplers
	case previous == "-ft" || previous == "--facetool":
		options = job.FaceTools
	case previous == "--vae":
		options = job.VAEs
	case previous == "--esrgan_model":
		options = job.Upscalers
	case previous == "--face_color":
		options = job.FaceColours
	case previous == "--faces":
		options = job.FaceChoices
	case previous == "-I" || previous == "--init_img" ||
		(len(before) == 1 && (before[0] == "!fix" || before[0] == "!fetch")):
		return pathCandidates(current)
	case strings.HasPrefix(current, "-"):
		options = switchNames(len(before) > 0 && before[0] == "!fix")
	}
	return withPrefix(options, current)
}

func switchNames(fix bool) []string {
	var names []string
	for _, s := range job.Switches {
		if fix && !s.OnFix {
			continue
		}
		names = append(names, s.Names...)
	}
	return names
}

func withPrefix(options []string, prefix string) []string {
	var out []string
	for _, o := range options {
		if strings.HasPrefix(o, prefix) {
			out = append(out, o+" ")
		}
	}
	return out
}

// pathCandidates lists files and directories that start with the typed path; directories end
// in a slash so Tab can go on into them.
func pathCandidates(typed string) []string {
	dir, prefix := filepath.Split(typed)
	listDir := dir
	if listDir == "" {
		listDir = "."
	}
	entries, err := os.ReadDir(listDir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(prefix, ".")) {
			continue
		}
		if e.IsDir() {
			out = append(out, dir+name+string(filepath.Separator))
		} else {
			out = append(out, dir+name+" ")
		}
	}
	sort.Strings(out)
	return out
}
