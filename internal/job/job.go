// Package job turns one line typed at the dream> prompt into a validated Job value. It does no
// I/O: checking that files exist is the pipeline's work, so the parser can be tested and
// fuzzed on its own.
package job

// Kind says what a line asks for.
type Kind int

const (
	// Empty is a blank line or a comment: nothing to do.
	Empty Kind = iota
	// Generate is a prompt: make an image from text.
	Generate
	// Fix post-processes an existing image (!fix).
	Fix
	// Help shows help (!help).
	Help
	// Quit leaves the shell (q, quit, exit).
	Quit
)

// Job is one validated request. Switches the line did not give keep their zero value, and
// the pipeline applies defaults.
type Job struct {
	Kind   Kind
	Prompt string // Generate: the prompt text
	Path   string // Fix: the image to fix, as typed
	// Upscale is set by -U.
	Upscale *Upscale
	// Outdir is set by -o.
	Outdir string
	// Line is the line as typed, for history and messages.
	Line string
}

// Upscale is the -U switch: a factor of 2 or 4 and the strength of the blend with a plain
// enlargement (1 = the model's own output).
type Upscale struct {
	Factor   int
	Strength float64
}

// DefaultUpscaleStrength is the -U strength when only the factor is given.
const DefaultUpscaleStrength = 0.75
