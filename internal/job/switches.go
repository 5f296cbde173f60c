package job

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// A Switch is one of the line switches of SPEC §1.
type Switch struct {
	Names []string // short name first
	Args  string   // what follows it, for help
	Help  string   // one line
	// OnFix tells whether !fix takes it; every switch applies to prompts.
	OnFix bool
	// FixHelp says what the switch means on !fix, where that differs from Help (-W, -H).
	FixHelp string
	// parse reads the switch's values (the words up to the next switch) into the job and
	// returns how many it used.
	parse func(j *Job, name string, vals []string) (int, error)
}

// The limits of -s, -W, -H and -C; the web page's form shows them.
const (
	MinSteps, MaxSteps = 1, 1000
	MinSize, MaxSize   = 64, 4096
	// -C: at most 1 is the prompt's prediction alone (SD-Turbo and LCM are made for it).
	MinCFGScale, MaxCFGScale = 0, 100
)

// Switches lists every line switch, in the order !help shows them.
var Switches = []Switch{
	{Names: []string{"-s", "--steps"}, Args: "N", Help: "sampler steps, 1 to 1000 (default 50, 4 with -A lcm)", parse: parseSteps},
	{Names: []string{"-S", "--seed"}, Args: "SEED", Help: "seed 0 to 4294967295; -1 is the last seed used, -2 the one before (default random)", parse: parseSeed},
	{Names: []string{"-n", "--iterations"}, Args: "N", Help: "images for this prompt, all generated first, then post-processed (default 1)", parse: parseIterations},
	{Names: []string{"-W", "--width"}, Args: "PIXELS", Help: "width, 64 to 4096, rounded down to a multiple of 64 (default 512); on !fix, the width to upscale to", OnFix: true,
		FixHelp: "on !fix: the exact width of the result, 1 to 8 times the image's; alone, the height keeps the aspect ratio; stands for -U when -U is not given, and wins over -U's factor", parse: parseWidth},
	{Names: []string{"-H", "--height"}, Args: "PIXELS", Help: "height, 64 to 4096, rounded down to a multiple of 64 (default 512); on !fix, the height to upscale to", OnFix: true,
		FixHelp: "on !fix: the exact height of the result, 1 to 8 times the image's; alone, the width keeps the aspect ratio; with -W, the result is exactly -W×-H; stands for -U when -U is not given, and wins over -U's factor", parse: parseHeight},
	{Names: []string{"-C", "--cfg_scale"}, Args: "SCALE", Help: "classifier-free guidance, 0 to 100; 1 or less runs the prompt alone, one UNet pass per step (SD-Turbo and LCM use 0 or 1) (default 7.5, 1 with -A lcm)", parse: parseCFG},
	{Names: []string{"-A", "--sampler"}, Args: "NAME", Help: "sampler: " + strings.Join(Samplers, ", ") + " (default k_lms)", parse: parseSampler},
	{Names: []string{"--vae"}, Args: "full|tiny", Help: "VAE decoder: full, or tiny (TAESD from the export's vae_decoder_tiny folder: several times faster, a little softer) (default full)", parse: parseVAE},
	{Names: []string{"-I", "--init_img"}, Args: "PATH", Help: "img2img source image; -1 is the last image written", parse: parseInitImage},
	{Names: []string{"-f", "--strength"}, Args: "F", Help: "img2img strength, between 0 and 1 exclusive (default 0.75)", parse: parseStrength},
	{Names: []string{"-U", "--upscale"}, Args: "FACTOR [STRENGTH]", Help: "upscale with Real-ESRGAN by any factor from 1 to 8 (1.5, 2, 3, 8); strength 0 to 1 blends with a plain enlargement (default 0.75); on !fix, -W/-H set the exact size instead", OnFix: true, parse: parseUpscale},
	{Names: []string{"--esrgan_model"}, Args: "NAME", Help: "the network -U runs for this line: x4plus (best quality) or general-x4v3 (about 20 times faster), also for ×2 (default: dream's --esrgan_model)", OnFix: true, parse: parseUpscaler},
	{Names: []string{"-G", "--gfpgan_strength"}, Args: "S", Help: "face restoration strength, 0 to 1; 0 is off (default 0)", OnFix: true, parse: parseFaceStrength},
	{Names: []string{"-ft", "--facetool"}, Args: "NAME", Help: "face restorer: gfpgan or codeformer (default gfpgan)", OnFix: true, parse: parseFaceTool},
	{Names: []string{"-cf", "--codeformer_fidelity"}, Args: "W", Help: "CodeFormer fidelity, 0 (best quality) to 1 (closest to the input face) (default 0.75)", OnFix: true, parse: parseFidelity},
	{Names: []string{"--faces"}, Args: "WHICH", Help: "which faces -G restores: all, largest, numbers such as 1,3 (1 is the largest, as the note after -G lists them), or minsize=PX (at least PX pixels between the eyes) (default all)", OnFix: true, parse: parseFaces},
	{Names: []string{"--face_color"}, Args: "MODE", Help: "match gives each restored face the original's colour (Lab colour and mean lightness) before it is pasted; off keeps the restorer's colour (default match)", OnFix: true, parse: parseFaceColour},
	{Names: []string{"--save_orig", "-save_orig", "--save_original"}, Help: "also keep the image as it was before -U and -G", parse: parseSaveOrig},
	{Names: []string{"--format"}, Args: "png|jpg|webp", Help: "file format: png (lossless; keeps 16 bits and transparency), jpg or webp (8 bits: a 16-bit image is rounded; jpg refuses transparency) (default png; !fix keeps a JPEG's or WebP's own format)", OnFix: true, parse: parseFormat},
	{Names: []string{"--quality"}, Args: "N", Help: "jpg and webp quality, 1 to 100; webp at 100 is lossless (default 92 for jpg, 90 for webp)", OnFix: true, parse: parseQuality},
	{Names: []string{"-o", "--outdir"}, Args: "DIR", Help: "write this command's images to DIR", OnFix: true, parse: parseOutdir},
	{Names: []string{"--resume"}, Help: "on !fix: skip the images whose results are already in the output folder, and share the others with any dream fixing the same images at the same time",
		OnFix: true, FixHelp: "on !fix only (dream --resume does the same for --from_file); results are recognised by their stored command, and an image that failed before as undecodable is skipped until it changes", parse: parseResume},
}

// LookupSwitch finds a switch by any of its names.
func LookupSwitch(name string) (Switch, bool) {
	for _, s := range Switches {
		if slices.Contains(s.Names, name) {
			return s, true
		}
	}
	return Switch{}, false
}

func parseSteps(j *Job, name string, vals []string) (int, error) {
	n, err := oneInt(name, vals, MinSteps, MaxSteps, fmt.Sprintf("a whole number of steps from %d to %d", MinSteps, MaxSteps))
	j.Steps = n
	return 1, err
}

func parseIterations(j *Job, name string, vals []string) (int, error) {
	n, err := oneInt(name, vals, 1, math.MaxInt32, "a whole number of images, 1 or more")
	j.Iterations = n
	return 1, err
}

// parseWidth reads -W: the generated image's width on a prompt line, the width to upscale to
// on !fix.
func parseWidth(j *Job, name string, vals []string) (int, error) {
	if j.Kind == Fix {
		return parseTarget(name, vals, &upscale(j).Width, "width")
	}
	return parseSide(j, name, vals, &j.Width, "width")
}

// parseHeight reads -H, as parseWidth reads -W.
func parseHeight(j *Job, name string, vals []string) (int, error) {
	if j.Kind == Fix {
		return parseTarget(name, vals, &upscale(j).Height, "height")
	}
	return parseSide(j, name, vals, &j.Height, "height")
}

// parseSide reads -W or -H; a size that is not a multiple of 64 is rounded down with a warning.
func parseSide(j *Job, name string, vals []string, side *int, what string) (int, error) {
	n, err := oneInt(name, vals, MinSize, MaxSize, fmt.Sprintf("a %s from %d to %d pixels", what, MinSize, MaxSize))
	if err != nil {
		return 1, err
	}
	if n%64 != 0 {
		j.Warnings = append(j.Warnings, fmt.Sprintf("%s %d rounded down to %d, a multiple of 64", what, n, n/64*64))
	}
	*side = n / 64 * 64
	return 1, nil
}

func parseSeed(j *Job, name string, vals []string) (int, error) {
	if len(vals) < 1 {
		return 0, fmt.Errorf("%s needs a seed: a number from 0 to 4294967295, or -1 for the last seed used", name)
	}
	if back, err := strconv.Atoi(vals[0]); err == nil && back < 0 {
		j.Seed = Seed{Back: -back}
		return 1, nil
	}
	v, err := strconv.ParseUint(vals[0], 10, 32)
	if err != nil {
		return 1, fmt.Errorf("%s %s: a seed is a number from 0 to 4294967295, or -1 for the last seed used", name, vals[0])
	}
	j.Seed = Seed{Value: uint32(v), Set: true}
	return 1, nil
}

func parseCFG(j *Job, name string, vals []string) (int, error) {
	v, err := oneFloat(name, vals, fmt.Sprintf("a guidance scale from %d to %d, e.g. 7.5", MinCFGScale, MaxCFGScale))
	if err == nil && !(v >= MinCFGScale && v <= MaxCFGScale) {
		err = fmt.Errorf("%s %s: the guidance scale must be from %d to %d", name, vals[0], MinCFGScale, MaxCFGScale)
	}
	j.CFGScale = v + 0 // -C -0 is stored as 0, not "-0"
	return 1, err
}

func parseSampler(j *Job, name string, vals []string) (int, error) {
	v, err := oneOf(name, vals, Samplers, "a sampler")
	j.Sampler = v
	return 1, err
}

func parseVAE(j *Job, name string, vals []string) (int, error) {
	v, err := oneOf(name, vals, VAEs, "a VAE decoder")
	j.VAE = v
	return 1, err
}

func parseInitImage(j *Job, name string, vals []string) (int, error) {
	if len(vals) < 1 {
		return 0, fmt.Errorf("%s needs an image path, or -1 for the last image written", name)
	}
	if back, err := strconv.Atoi(vals[0]); err == nil {
		if back >= 0 {
			return 1, fmt.Errorf("%s %s: give an image path, or -1 for the last image written", name, vals[0])
		}
		j.InitImage, j.InitBack = "", -back
		return 1, nil
	}
	j.InitImage, j.InitBack = vals[0], 0
	return 1, nil
}

func parseStrength(j *Job, name string, vals []string) (int, error) {
	v, err := oneFloat(name, vals, "an img2img strength between 0 and 1, e.g. 0.75")
	if err == nil && !(v > 0 && v < 1) {
		err = fmt.Errorf("%s %s: the img2img strength must be between 0 and 1, not including either", name, vals[0])
	}
	j.Strength = v
	return 1, err
}

func parseUpscaler(j *Job, name string, vals []string) (int, error) {
	v, err := oneOf(name, vals, Upscalers, "an upscaler")
	j.Upscaler = v
	return 1, err
}

func parseFaceStrength(j *Job, name string, vals []string) (int, error) {
	v, err := oneFraction(name, vals, "face restoration strength")
	faces(j).Strength = v
	return 1, err
}

func parseFaceTool(j *Job, name string, vals []string) (int, error) {
	v, err := oneOf(name, vals, FaceTools, "a face restorer")
	if err == nil {
		faces(j).Tool = v
	}
	return 1, err
}

func parseFidelity(j *Job, name string, vals []string) (int, error) {
	v, err := oneFraction(name, vals, "CodeFormer fidelity")
	faces(j).Fidelity = v
	return 1, err
}

// faces returns the job's face settings, created with their defaults on first use.
func faces(j *Job) *Faces {
	if j.Faces == nil {
		j.Faces = &Faces{Tool: DefaultFaceTool, Fidelity: DefaultFidelity}
	}
	return j.Faces
}

func parseSaveOrig(j *Job, _ string, _ []string) (int, error) {
	j.SaveOriginal = true
	return 0, nil
}

func parseResume(j *Job, name string, _ []string) (int, error) {
	if j.Kind != Fix {
		return 0, fmt.Errorf("%s applies to !fix; to skip the lines of a file whose images exist, start dream with --from_file FILE --resume", name)
	}
	j.Resume = true
	return 0, nil
}

func parseOutdir(j *Job, name string, vals []string) (int, error) {
	if len(vals) < 1 || vals[0] == "" {
		return 0, fmt.Errorf("%s needs a directory", name)
	}
	j.Outdir = vals[0]
	return 1, nil
}

// oneOf reads a name from a fixed list, ignoring case.
func oneOf(name string, vals []string, options []string, what string) (string, error) {
	if len(vals) > 0 && slices.Contains(options, strings.ToLower(vals[0])) {
		return strings.ToLower(vals[0]), nil
	}
	given := ""
	if len(vals) > 0 {
		given = " " + vals[0]
	}
	return "", fmt.Errorf("%s%s: choose %s from %s", name, given, what, strings.Join(options, ", "))
}

func oneInt(name string, vals []string, lo, hi int, want string) (int, error) {
	if len(vals) < 1 {
		return 0, fmt.Errorf("%s needs %s", name, want)
	}
	n, err := strconv.Atoi(vals[0])
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s %s: give %s", name, vals[0], want)
	}
	return n, nil
}

func oneFloat(name string, vals []string, want string) (float64, error) {
	if len(vals) < 1 {
		return 0, fmt.Errorf("%s needs %s", name, want)
	}
	v, err := strconv.ParseFloat(vals[0], 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s %s: give %s", name, vals[0], want)
	}
	return v, nil
}

// oneFraction reads a number from 0 to 1, such as a strength.
func oneFraction(name string, vals []string, what string) (float64, error) {
	v, err := oneFloat(name, vals, "a "+what+" from 0 to 1")
	if err == nil && !inUnit(v) {
		err = fmt.Errorf("%s %s: the %s must be from 0 to 1", name, vals[0], what)
	}
	return v, err
}

func inUnit(v float64) bool { return v >= 0 && v <= 1 }
