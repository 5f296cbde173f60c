package job

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Parse reads one line. Every error is one line for people that names the problem.
func Parse(line string) (Job, error) {
	trimmed := strings.TrimSpace(line)
	if trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, "//") {
		return Job{Kind: Empty, Line: line}, nil
	}
	words, err := Split(trimmed)
	if err != nil {
		return Job{}, err
	}
	j := Job{Line: trimmed}
	switch strings.ToLower(words[0]) {
	case "q", "quit", "exit":
		if len(words) > 1 {
			return Job{}, fmt.Errorf("%s takes nothing after it", words[0])
		}
		j.Kind = Quit
		return j, nil
	case "!help", "help", "?":
		j.Kind = Help
		return j, nil
	case "!fix":
		return parseFix(j, words[1:])
	}
	if strings.HasPrefix(words[0], "!") {
		return Job{}, fmt.Errorf("unknown command %s: type !help for the list", words[0])
	}
	return parsePrompt(j, words)
}

func parseFix(j Job, args []string) (Job, error) {
	j.Kind = Fix
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return Job{}, errors.New("!fix needs an image: !fix PATH [-U 2|4 [strength]]")
	}
	j.Path = args[0]
	if err := parseSwitches(&j, args[1:]); err != nil {
		return Job{}, err
	}
	if j.Upscale == nil {
		return Job{}, fmt.Errorf("!fix %s has nothing to do: add -U 2 or -U 4", j.Path)
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
	return j, parseSwitches(&j, words[first:])
}

// isSwitch tells a switch from a word; negative numbers are values, not switches.
func isSwitch(w string) bool {
	if !strings.HasPrefix(w, "-") || len(w) < 2 {
		return false
	}
	_, err := strconv.ParseFloat(w, 64)
	return err != nil
}

// A switchSpec parses one switch's values from the words that follow it and returns how many
// it used.
type switchSpec struct {
	names []string
	parse func(j *Job, name string, values []string) (int, error)
}

var switches = []switchSpec{
	{names: []string{"-U", "--upscale"}, parse: parseUpscale},
	{names: []string{"-o", "--outdir"}, parse: parseOutdir},
}

func lookupSwitch(name string) (switchSpec, bool) {
	for _, s := range switches {
		for _, n := range s.names {
			if n == name {
				return s, true
			}
		}
	}
	return switchSpec{}, false
}

func parseSwitches(j *Job, words []string) error {
	for i := 0; i < len(words); {
		name := words[i]
		if !isSwitch(name) {
			return fmt.Errorf("unexpected %q: switches come after the prompt or path, each with its values", name)
		}
		spec, ok := lookupSwitch(name)
		if !ok {
			return fmt.Errorf("unknown switch %s: type !help for the list", name)
		}
		used, err := spec.parse(j, name, values(words[i+1:]))
		if err != nil {
			return err
		}
		i += 1 + used
	}
	return nil
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

func parseUpscale(j *Job, name string, vals []string) (int, error) {
	if len(vals) == 0 || len(vals) > 2 {
		return 0, fmt.Errorf("%s takes a factor (2 or 4) and an optional strength from 0 to 1, e.g. %s 4 0.6", name, name)
	}
	factor, err := strconv.Atoi(vals[0])
	if err != nil || (factor != 2 && factor != 4) {
		return 0, fmt.Errorf("%s %s: the upscale factor must be 2 or 4", name, vals[0])
	}
	up := &Upscale{Factor: factor, Strength: DefaultUpscaleStrength}
	if len(vals) == 2 {
		s, err := strconv.ParseFloat(vals[1], 64)
		if err != nil || math.IsNaN(s) || s < 0 || s > 1 {
			return 0, fmt.Errorf("%s %s %s: the upscale strength must be a number from 0 to 1", name, vals[0], vals[1])
		}
		up.Strength = s
	}
	j.Upscale = up
	return len(vals), nil
}

func parseOutdir(j *Job, name string, vals []string) (int, error) {
	if len(vals) != 1 {
		return 0, fmt.Errorf("%s takes one directory", name)
	}
	j.Outdir = vals[0]
	return 1, nil
}
