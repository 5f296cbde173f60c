package job

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Parse reads one line. Every error is one line for people that names the problem.
func Parse(line string) (Job, error) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "//") {
		return Job{Kind: Empty, Line: line}, nil
	}
	// Lines come one at a time, so a control character (a newline inside quotes, say) is a
	// paste accident; refusing it also keeps every message on one line.
	if i := strings.IndexFunc(trimmed, isControl); i >= 0 {
		return Job{}, fmt.Errorf("the line has a control character (%U): retype it without one", []rune(trimmed[i:])[0])
	}
	words, err := Split(trimmed)
	if err != nil {
		return Job{}, err
	}
	if len(words) == 0 {
		return Job{Kind: Empty, Line: line}, nil
	}
	j := Job{Line: trimmed, Generation: defaultGeneration()}
	command, args := strings.ToLower(words[0]), words[1:]
	switch command {
	case "q", "quit", "exit":
		j.Kind = Quit
		return j, noArguments(words[0], args)
	case "!history":
		j.Kind = History
		return j, noArguments(words[0], args)
	case "!models":
		j.Kind = Models
		return j, noArguments(words[0], args)
	case "!help":
		return parseHelp(j, args)
	case "!fetch":
		return parseFetch(j, args)
	case "!fix":
		return parseFix(j, args)
	}
	if strings.HasPrefix(command, "!") {
		return Job{}, fmt.Errorf("unknown command %s: type !help for the list", words[0])
	}
	return parsePrompt(j, words)
}

func isControl(r rune) bool { return unicode.IsControl(r) && r != '\t' }

func noArguments(command string, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes nothing after it", command)
	}
	return nil
}

func parseHelp(j Job, args []string) (Job, error) {
	j.Kind = Help
	if len(args) > 1 {
		return Job{}, errors.New("!help takes at most one switch or command, e.g. !help -U")
	}
	if len(args) == 1 {
		j.Topic = args[0]
	}
	return j, nil
}

func parseFetch(j Job, args []string) (Job, error) {
	j.Kind = Fetch
	if len(args) != 1 {
		return Job{}, errors.New("!fetch needs one image made by dream: !fetch PATH")
	}
	j.Path = args[0]
	return j, nil
}

func parseFix(j Job, args []string) (Job, error) {
	j.Kind = Fix
	if len(args) == 0 || isSwitch(args[0]) {
		return Job{}, errors.New("!fix needs an image: !fix PATH [-U factor [strength]] [-W pixels] [-H pixels] [-G strength] [-ft tool] [-cf fidelity]")
	}
	j.Path = args[0]
	if _, err := parseSwitches(&j, args[1:]); err != nil {
		return Job{}, err
	}
	if j.Upscale == nil && !j.Restores() {
		return Job{}, fmt.Errorf("!fix %s has nothing to do: add -U with a factor, -W or -H with a size, or -G with a strength above 0", j.Path)
	}
	return j, nil
}

// parsePrompt takes every word before the first switch as the prompt text.
func parsePrompt(j Job, words []string) (Job, error) {
	j.Kind = Generate
	first := len(words)
	for i, w := range words {
		if isSwitch(w) {
			first = i
			break
		}
	}
	j.Prompt = strings.Join(words[:first], " ")
	if j.Prompt == "" {
		return Job{}, errors.New("the line has switches but no prompt: type the prompt first, then the switches")
	}
	given, err := parseSwitches(&j, words[first:])
	if err != nil {
		return Job{}, err
	}
	applySamplerDefaults(&j, given)
	return j, nil
}

// applySamplerDefaults gives -s and -C the sampler's own defaults (SamplerDefaults) where the
// line left them out: "a cat -A lcm" runs 4 steps at guidance 1, and its stored command
// spells them, so it means the same whatever the defaults become.
func applySamplerDefaults(j *Job, given map[string]bool) {
	steps, cfgScale := SamplerDefaults(j.Sampler)
	if !given["-s"] {
		j.Steps = steps
	}
	if !given["-C"] {
		j.CFGScale = cfgScale
	}
}

// isSwitch tells a switch from a word; negative numbers are values, not switches, and a word
// with spaces in it (quoted prompt text) is never a switch.
func isSwitch(w string) bool {
	if !strings.HasPrefix(w, "-") || len(w) < 2 || strings.ContainsFunc(w, unicode.IsSpace) {
		return false
	}
	_, err := strconv.ParseFloat(w, 64)
	return err != nil
}

// parseSwitches reads the switches into j and returns the ones the line gave, by their short
// names, so that defaults which depend on other switches can tell a value given from a default.
func parseSwitches(j *Job, words []string) (map[string]bool, error) {
	given := map[string]bool{}
	for i := 0; i < len(words); {
		name := words[i]
		if !isSwitch(name) {
			return nil, fmt.Errorf("unexpected %q: switches come after the prompt or path, each with its values", name)
		}
		vals := values(words[i+1:])
		// --name=value is the same as --name value.
		long, value, joined := strings.Cut(name, "=")
		if joined && strings.HasPrefix(name, "--") {
			name, vals = long, append([]string{value}, vals...)
		}
		spec, ok := LookupSwitch(name)
		if !ok {
			return nil, fmt.Errorf("unknown switch %s: type !help for the list", name)
		}
		if j.Kind == Fix && !spec.OnFix {
			return nil, fmt.Errorf("%s does not apply to !fix: it takes -U, -W, -H, --esrgan_model, -G, -ft, -cf, --faces, --face_color, --format, --quality and -o", name)
		}
		used, err := spec.parse(j, name, vals)
		if err != nil {
			return nil, err
		}
		if joined {
			if used == 0 {
				return nil, fmt.Errorf("%s takes no value", name)
			}
			used-- // the first value was part of the switch's own word
		}
		given[spec.Names[0]] = true
		i += 1 + used
	}
	if j.Upscaler != "" && j.Upscale == nil {
		return nil, fmt.Errorf("--esrgan_model %s picks the network of -U: add -U with a factor (or -W/-H on !fix)", j.Upscaler)
	}
	return given, nil
}

// values returns the words up to the next switch.
func values(words []string) []string {
	for i, w := range words {
		if isSwitch(w) {
			return words[:i]
		}
	}
	return words
}
