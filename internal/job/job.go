// Package job turns one line typed at the dream> prompt into a validated Job value. It does no
// I/O: checking that files exist is the pipeline's work, so the parser can be tested and
// fuzzed on its own.
package job

// Kind says what a line asks for.
type Kind int

const (
	// Empty is a blank line or a comment: nothing to do.
	Empty Kind = iota
	// Generate is a prompt: make images from text.
	Generate
	// Fix post-processes an existing image (!fix).
	Fix
	// Fetch loads the command stored in an image's metadata (!fetch).
	Fetch
	// History lists the session's commands (!history).
	History
	// Models lists the models, installed or missing (!models).
	Models
	// Help shows help (!help [SWITCH]).
	Help
	// Quit leaves the shell (q, quit, exit).
	Quit
)

// Job is one validated request. Generation settings hold their defaults when the line did
// not give them.
type Job struct {
	Kind Kind
	// Line is the line as typed, for history and messages.
	Line string
	// Prompt is the text of a Generate line.
	Prompt string
	// Path is the image of a Fix line or the file of a Fetch line, as typed.
	Path string
	// Topic is what a Help line asks about ("" for the overview).
	Topic string

	Generation
	// Upscale is set by -U.
	Upscale *Upscale
	// Upscaler is --esrgan_model, the network -U runs for this line (one of Upscalers); ""
	// when the line gives none, for the launch flag's.
	Upscaler string
	// Faces is set by -G (with -ft and -cf); nil or a strength of 0 means no face restoration.
	Faces *Faces
	// SaveOriginal keeps the unprocessed image next to the processed one (--save_orig).
	SaveOriginal bool
	// Outdir is set by -o.
	Outdir string
	// Resume is --resume on a !fix line: skip the images whose results exist, and share the
	// rest with other processes resuming the same folder (see package batch). It is how the
	// line runs, not what it makes: no stored command spells it.
	Resume bool
	// Format is --format: png, jpg or webp; "" when the line gives none (then the launch
	// flag's, else png for a generated image and the source's format for !fix).
	Format string
	// Quality is --quality, 1 to 100, for jpg and webp; 0 when the line gives none.
	Quality int
	// Warnings are notes about values the parser adjusted, such as a width rounded to 64.
	Warnings []string
}

// Generation holds the switches that shape a generated image.
type Generation struct {
	Steps      int     // -s
	Seed       Seed    // -S
	Iterations int     // -n
	Width      int     // -W, a multiple of 64
	Height     int     // -H, a multiple of 64
	CFGScale   float64 // -C
	Sampler    string  // -A
	VAE        string  // --vae: "full" or "tiny" (VAEs)
	// InitImage is the img2img source (-I): a path, or "" for none. InitBack > 0 means the
	// InitBack-th most recent output instead (-I -1).
	InitImage string
	InitBack  int
	Strength  float64 // -f, img2img strength
}

// Seed is -S: a fixed value, a reference to an earlier seed, or random.
type Seed struct {
	Value uint32
	Set   bool // Value was given
	// Back > 0 means the Back-th most recent seed used (-S -1 is the last one).
	Back int
}

// Upscale is the -U switch: a factor from 1 to 8 and the strength of the blend with a plain
// enlargement (1 = the model's own output). On !fix, -W and -H give a target size instead
// (see Size), which wins over the factor; a !fix with -W or -H and no -U has Factor 0.
type Upscale struct {
	Factor   float64
	Strength float64
	// Width and Height are !fix's target (-W, -H) in pixels; 0 where not given.
	Width, Height int
}

// Faces is the face restoration asked for by -G, -ft, -cf, --faces and --face_color.
type Faces struct {
	Strength float64 // -G, 0..1
	Tool     string  // -ft: gfpgan or codeformer
	Fidelity float64 // -cf, CodeFormer only
	// Which is --faces: the faces to restore; the zero value is all of them.
	Which FaceChoice
	// KeepColour is --face_color off: the restorer's colour is pasted as it comes. The
	// default (match) gives each restored face the original face's colour statistics.
	KeepColour bool
}

// FaceChoice is --faces: all (the zero value), largest, N,M or minsize=PX. A face's size is
// the distance between its eyes in pixels of the source image, and faces are numbered from 1,
// largest first, in the order the note after a -G job lists their sizes.
type FaceChoice struct {
	Largest bool
	Numbers []int   // ascending, without repeats
	MinSize float64 // pixels between the eyes; 0 with the others unset means all
}

// All reports whether the choice restores every face.
func (c FaceChoice) All() bool { return !c.Largest && len(c.Numbers) == 0 && c.MinSize == 0 }

// Defaults from SPEC §1.
const (
	DefaultSteps           = 50
	DefaultSize            = 512
	DefaultCFGScale        = 7.5
	DefaultSampler         = "k_lms"
	DefaultVAE             = "full"
	DefaultStrength        = 0.75
	DefaultUpscaleStrength = 0.75
	DefaultFaceTool        = "gfpgan"
	DefaultFidelity        = 0.75
)

// Samplers lists the sampler names -A accepts, those of package sampler. A sampler's noise
// schedule is part of its name (k_dpmpp_2m_karras), not a switch of its own, so -A alone,
// stored in every image's command, says how the image was made.
var Samplers = []string{"ddim", "plms", "k_lms", "k_euler", "k_euler_a", "k_heun", "k_dpm_2", "k_dpm_2_a",
	"k_dpmpp_2m", "k_dpmpp_2m_karras", "lcm"}

// Latent Consistency Models are distilled to sample in a few steps without guidance: the
// shell's 50 steps at 7.5 would be slow and burn the image, so -A lcm changes the defaults of
// -s and -C (not values the line gives).
const (
	DefaultLCMSteps    = 4
	DefaultLCMCFGScale = 1
)

// SamplerDefaults returns the -s and -C a line with -A sampler gets when it does not give them.
func SamplerDefaults(sampler string) (steps int, cfgScale float64) {
	if sampler == "lcm" {
		return DefaultLCMSteps, DefaultLCMCFGScale
	}
	return DefaultSteps, DefaultCFGScale
}

// VAEs lists the decoders --vae accepts, those of package sd: the export's own, and TAESD
// from its vae_decoder_tiny folder.
var VAEs = []string{"full", "tiny"}

// Upscalers lists the networks --esrgan_model accepts, the keys of models.Upscalers.
var Upscalers = []string{"x4plus", "general-x4v3"}

// FaceTools lists the restorers -ft accepts.
var FaceTools = []string{"gfpgan", "codeformer"}

func defaultGeneration() Generation {
	return Generation{
		Steps:      DefaultSteps,
		Iterations: 1,
		Width:      DefaultSize,
		Height:     DefaultSize,
		CFGScale:   DefaultCFGScale,
		Sampler:    DefaultSampler,
		VAE:        DefaultVAE,
		Strength:   DefaultStrength,
	}
}

// Restores reports whether the job asks for face restoration.
func (j Job) Restores() bool { return j.Faces != nil && j.Faces.Strength > 0 }
