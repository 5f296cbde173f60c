// Package sd generates images with Stable Diffusion 1.x from a diffusers ONNX export: the
// prompt is tokenized and encoded, a sampler denoises a seeded latent with the UNet under
// classifier-free guidance, and the VAE decodes the result. img2img starts from an encoded
// image instead of pure noise.
package sd

import (
	"fmt"
	"os"
	"path/filepath"

	"dream/internal/clip"
	"dream/internal/ort"
)

// The files of a diffusers ONNX export, relative to its folder.
const (
	TextEncoderFile = "text_encoder/model.onnx"
	UNetFile        = "unet/model.onnx"
	UNetWeightsFile = "unet/weights.pb" // the UNet's weights, found by ONNX Runtime beside it
	DecoderFile     = "vae_decoder/model.onnx"
	// TinyDecoderFile is madebyollin's TAESD decoder, for --vae tiny: it takes the UNet's
	// latent as it is (no 0.18215) and gives RGB in [-1, 1], as diffusers' AutoencoderTiny.
	TinyDecoderFile = "vae_decoder_tiny/model.onnx"
	EncoderFile     = "vae_encoder/model.onnx"
	TokenizerDir    = "tokenizer"
)

// LatentScale is Stable Diffusion's VAE scaling factor: latents are divided by it before
// decoding and encoded images are multiplied by it.
const LatentScale = 0.18215

// HiddenSize is the width of the CLIP ViT-L/14 text encoder's output, which SD 1.x UNets
// take; SD 2.x's is 1024. The export's own is read from its UNet (see describeUNet).
const HiddenSize = 768

// Model is one Stable Diffusion export. Sessions open on first use; see Policy for which
// of them stay open between images.
type Model struct {
	Dir       string
	rt        *ort.Runtime
	tokenizer *clip.Tokenizer
	policy    Policy

	unet *ort.Session
	// encoder is the rewritten VAE encoder, when the policy keeps it open.
	encoder *ort.Session
	// textEncoderOutputs is how many outputs the text encoder declares (1 or 2).
	textEncoderOutputs int
	// timestepType is the element type the UNet wants for its timestep: float32 in
	// diffusers' own exports, int64 in others.
	timestepType ort.DataType
	// timestepLen is how many timestep values the UNet takes: 1 unless its export fixed a
	// longer first dimension, and 0 for a scalar.
	timestepLen int
	// fusedAttention is how many attention blocks the UNet runs fused.
	fusedAttention int
	// shape is what the UNet's inputs say about the export, once read (see describeUNet).
	shape unetShape
	// scheduler is the export's scheduler config: ε- or v-prediction, timestep spacing.
	scheduler schedulerConfig
}

// Open checks that dir holds an export dream can run and reads its tokenizer. The large
// models are not loaded until the first image.
func Open(rt *ort.Runtime, dir string, policy Policy) (*Model, error) {
	for _, f := range []string{TextEncoderFile, UNetFile, DecoderFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("the Stable Diffusion folder %s lacks %s: it must be a diffusers ONNX export "+
				"(text_encoder, unet, vae_decoder, tokenizer)", dir, f)
		}
	}
	tok, err := clip.LoadDir(filepath.Join(dir, TokenizerDir))
	if err != nil {
		return nil, fmt.Errorf("Stable Diffusion tokenizer: %w", err)
	}
	// Each model's working memory goes back after each run, so that the peak is the UNet's
	// weights plus the one model running (see Policy), not the sum of every model's largest
	// working set, which ONNX Runtime's arena would keep.
	scheduler, err := readSchedulerConfig(dir)
	if err != nil {
		return nil, err
	}
	lean, err := rt.ReturningMemory()
	if err != nil {
		return nil, err
	}
	return &Model{Dir: dir, rt: lean, tokenizer: tok, policy: policy, scheduler: scheduler}, nil
}

func (m *Model) path(file string) string { return filepath.Join(m.Dir, file) }

// The decoders --vae chooses between.
const (
	FullVAE = "full" // the export's own VAE decoder
	TinyVAE = "tiny" // TAESD, from TinyDecoderFile
)

// decoderFile is the decoder a request's vae names; "" is the full one.
func decoderFile(vae string) string {
	if vae == TinyVAE {
		return TinyDecoderFile
	}
	return DecoderFile
}

// Files lists the model files a job reads, relative to Dir, for the image's metadata: vae
// is the request's (see Request.VAE).
func (m *Model) Files(img2img bool, vae string) []string {
	files := []string{TextEncoderFile, UNetFile}
	if _, err := os.Stat(m.path(UNetWeightsFile)); err == nil {
		files = append(files, UNetWeightsFile)
	}
	files = append(files, decoderFile(vae))
	if img2img {
		files = append(files, EncoderFile)
	}
	return files
}
