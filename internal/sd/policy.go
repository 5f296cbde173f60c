package sd

import "dream/internal/ort"

// Policy says which models stay loaded between uses.
//
// Every model gives its working memory back after each run (see Open), so at any moment the
// process holds the weights of the models open plus the working set of the one running.
// With KeepAll, everything stays open: the UNet's 3.4 GB of weights, the text encoder's 0.5 GB
// and the VAE's 0.2 GB, plus one working set; nothing is opened twice. Without it, the text
// encoder (run once per line) and the VAE (once per image) are closed after use, and the UNet
// is closed once a line's images are all sampled, before they are decoded: the peak is then
// the larger of the UNet sampling and the VAE decoding, not their sum, at the cost of opening
// the UNet again for the next line (seconds, next to minutes of sampling on a CPU).
type Policy struct {
	// KeepAll keeps the text encoder and the VAE open between uses.
	KeepAll bool
	// TiledDecode decodes every image larger than 256×256 in tiles (see DecodeTile), which
	// bounds the decoder's memory at a small cost in time; without it only images larger
	// than 512×512 are.
	TiledDecode bool
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
