package job

import (
	"fmt"
	"strconv"
	"strings"
)

// Command is the normalised line that reproduces one image of a Generate job made with seed:
// every generation switch spelled out (--vae only when it is tiny), so the line means the same
// whatever the defaults become. It is what the Dream metadata chunk holds and what !fetch puts back at the prompt.
//
//	"a cat" -s 50 -S 42 -W 512 -H 512 -C 7.5 -A k_lms -G 0.8 -ft codeformer -cf 0.7 -U 2 0.75
func (j Job) Command(seed uint32) string {
	return j.command([]string{"-S", strconv.FormatUint(uint64(seed), 10)})
}

// SeedlessCommand is Command without the seed: what every image of a line with a random seed
// has in common, which --resume matches.
func (j Job) SeedlessCommand() string {
	return j.command(nil)
}

// FixLine is the normalised !fix line of a Fix job: the path as given, then its switches.
func (j Job) FixLine() string {
	parts := append([]string{"!fix", Quote(j.Path)}, j.PostprocessingSwitches()...)
	return strings.Join(append(parts, j.OutputSwitches()...), " ")
}

func (j Job) command(seed []string) string {
	parts := []string{Quote(j.Prompt), "-s", strconv.Itoa(j.Steps)}
	parts = append(parts, seed...)
	parts = append(parts,
		"-W", strconv.Itoa(j.Width),
		"-H", strconv.Itoa(j.Height),
		"-C", formatFloat(j.CFGScale),
		"-A", j.Sampler,
	)
	// Only the tiny decoder is spelled: every command stored before --vae existed means the
	// full one, and stays the command of an image made with it.
	if j.VAE == "tiny" {
		parts = append(parts, "--vae", j.VAE)
	}
	if j.InitImage != "" {
		parts = append(parts, "-I", Quote(j.InitImage), "-f", formatFloat(j.Strength))
	}
	parts = append(parts, j.PostprocessingSwitches()...)
	return strings.Join(append(parts, j.OutputSwitches()...), " ")
}

// PostprocessingSwitches spells out -G, -ft, -cf, --faces, --face_color, -U and
// --esrgan_model as they apply to the job.
func (j Job) PostprocessingSwitches() []string {
	var parts []string
	if j.Restores() {
		parts = append(parts, "-G", formatFloat(j.Faces.Strength), "-ft", j.Faces.Tool)
		if j.Faces.Tool == "codeformer" {
			parts = append(parts, "-cf", formatFloat(j.Faces.Fidelity))
		}
		parts = append(parts, j.Faces.faceSwitches()...)
	}
	if j.Upscale != nil {
		parts = append(parts, j.Upscale.switches()...)
		if j.Upscaler != "" {
			parts = append(parts, "--esrgan_model", j.Upscaler)
		}
	}
	return parts
}

// switches spells -U and !fix's target. A target without a factor (!fix -W 1600) leaves -U
// out, as typed: the stored command of the result spells the factor the target stood for
// (Resolved), and with it the strength.
func (u Upscale) switches() []string {
	var parts []string
	if u.Factor > 0 {
		parts = append(parts, "-U", formatFloat(u.Factor), formatFloat(u.Strength))
	}
	if u.Width > 0 {
		parts = append(parts, "-W", strconv.Itoa(u.Width))
	}
	if u.Height > 0 {
		parts = append(parts, "-H", strconv.Itoa(u.Height))
	}
	return parts
}

// Quote writes a word in double quotes so that Split reads it back unchanged. It follows the
// system's rules (see rules): on Unix every backslash and double quote is escaped, so a
// stored command shows "C:\\dir"; on Windows backslashes are left alone except those before
// a double quote or the closing quote, so paths stay readable: "C:\Users\me\photo.jpg".
func Quote(s string) string {
	return quoteWith(s, hostRules)
}

// quoteWith is Quote under the given rules.
func quoteWith(s string, rs rules) string {
	if rs != windowsRules {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
		return `"` + r.Replace(s) + `"`
	}
	var b strings.Builder
	b.WriteByte('"')
	run := 0 // backslashes read and not yet written
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			run++
			continue
		case '"':
			// 2n+1 backslashes before a quote give n backslashes and a literal quote.
			b.WriteString(strings.Repeat(`\`, 2*run+1))
			b.WriteByte(c)
		default:
			b.WriteString(strings.Repeat(`\`, run))
			b.WriteByte(c)
		}
		run = 0
	}
	// 2n backslashes before the closing quote give n backslashes.
	b.WriteString(strings.Repeat(`\`, 2*run))
	b.WriteByte('"')
	return b.String()
}

func formatFloat(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// String shows a seed as typed.
func (s Seed) String() string {
	switch {
	case s.Back > 0:
		return fmt.Sprintf("-%d", s.Back)
	case s.Set:
		return strconv.FormatUint(uint64(s.Value), 10)
	}
	return "random"
}
