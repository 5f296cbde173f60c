package sd

import "dream/internal/ort"

// Policy says which models stay loaded between uses.
//
// The UNet always stays: every image needs it at every step, and reopening its 3.4 GB costs
// seconds. The text encoder (0.5 GB) runs once per command and the VAE (0.2 GB of weights,
// but several GB of working memory at 512×512, which ONNX Runtime's arena keeps until the
// session closes) once per image. Closing them after use keeps a 512×512 run within the
// UNet's own footprint plus one of them at a time; reopening them costs well under a second
// a command, next to the minutes sampling takes on a CPU. Machines with room to spare keep
// them open.
type Policy struct {
	// KeepAll keeps the text encoder and the VAE open between uses.
	KeepAll bool
	// PlainAttention loads the UNet as exported. By default its attention blocks are fused
	// into ONNX Runtime's MultiHeadAttention (see loadUNet), which computes the same within
	// float rounding, faster; this is for measuring that.
	PlainAttention bool
}

// releaseUnlessKept closes a text encoder or VAE session after use when the policy says so.
func (m *Model) releaseUnlessKept(s *ort.Session) {
	if !m.policy.KeepAll {
		m.rt.Release(s)
	}
}
