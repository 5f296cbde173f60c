// Package sdtest writes small Stable Diffusion exports for tests: ONNX models with the real
// inputs and outputs of a diffusers export (text encoder, UNet, VAE decoder and encoder) and
// a few operations of known arithmetic, so every line of the real pipeline runs on the real
// runtime and the result can be predicted exactly. Only tests import it.
package sdtest

import (
	"math"
	"os"
	"path/filepath"

	"dream/internal/clip"
	"dream/internal/onnxpb"
)

// Export describes the test models to write.
type Export struct {
	// Mean and Spread describe the UNet's data set: each latent channel c holds values drawn
	// from N(Mean[c], Spread²). With Spread 0 the data set is the single latent whose every
	// value in channel c is Mean[c]. The UNet predicts the exact noise for that data set.
	Mean   [4]float32
	Spread float32
	// Guidance adds Guidance × (the mean of the batch element's text embedding) to the
	// predicted noise, so the unconditional and conditional halves differ by a known amount.
	Guidance float32
	// IntegerTimestep makes the UNet take an int64 timestep instead of a float32 one.
	IntegerTimestep bool
	// Workload, when set, gives the UNet and the VAE decoder a full-resolution intermediate of
	// that many channels which does not change their results (it is multiplied by 0), so that
	// their working memory is large, as a real model's is, for memory measurements.
	Workload int
	// StepWork, when set, adds a chain of that many products of 512×512 matrices to every
	// UNet run, multiplied by 0 before it meets the output: each sampler step then costs a
	// known amount of arithmetic (StepWork·2·512³ operations) whatever the image size, for
	// tests that time the steps.
	StepWork int
	// NoPooled leaves the text encoder's pooled output out, as some exports do.
	NoPooled bool
	// NoEncoder leaves out vae_decoder's counterpart, as text-to-image-only exports do.
	NoEncoder bool
	// Hidden is the width of the text embeddings: 0 or 768 for SD 1.x, 1024 for SD 2.x.
	Hidden int
	// VPrediction makes the UNet predict v instead of ε, and the export's scheduler config say
	// so (prediction_type v_prediction), as SD 2.x at 768.
	VPrediction bool
	// Trailing makes the scheduler config ask for trailing timesteps, as SD-Turbo's does.
	Trailing bool
	// TimestepCond, when set, gives the UNet a timestep_cond input of that width, as
	// LCM-distilled UNets have; it adds CondWeight × mean(timestep_cond) to its prediction.
	TimestepCond int
	// Tiny adds a stand-in for TAESD in vae_decoder_tiny (see TinyDecoder).
	Tiny bool
	// Attention adds to the UNet's prediction the output of a self-attention block on the
	// latent's pixels followed by a cross-attention block on the text embeddings, with the
	// node pattern of the real export's attention (see AddAttention). The prediction is then
	// no longer the exact noise; it is for the tests of the rewrite of attention blocks.
	Attention bool
}

// Decoder is the test VAE decoder's colour matrix: a pixel is Decoder·z + DecoderBias, where
// z is the unscaled latent (the pipeline's latent divided by 0.18215 and multiplied back by
// the model's own 0.18215), then upsampled 8× by repetition.
var (
	Decoder = [3][4]float32{
		{0.8, 0.1, 0.0, 0.1},
		{0.1, 0.7, 0.2, 0.0},
		{0.0, 0.2, 0.1, 0.6},
	}
	DecoderBias = [3]float32{0.05, -0.05, 0.0}
	// Encoder maps the mean colour of each 8×8 block to the latent's mean; the log-variance
	// channels are EncoderLogVar.
	Encoder = [4][3]float32{
		{0.5, 0.2, 0.1},
		{0.1, 0.6, 0.1},
		{0.2, 0.1, 0.5},
		{0.3, 0.3, 0.3},
	}
	EncoderLogVar = float32(-2)
	// TinyDecoder is the tiny decoder's colour matrix: a pixel is TinyDecoder·z +
	// TinyDecoderBias with z the latent as the UNet gives it, upsampled 8× by repetition.
	TinyDecoder = [3][4]float32{
		{0.1, 0.2, 0.3, 0.0},
		{0.3, 0.0, 0.1, 0.2},
		{0.2, 0.3, 0.0, 0.1},
	}
	TinyDecoderBias = [3]float32{-0.1, 0.1, 0.05}
	// CondWeight scales the mean of timestep_cond in the prediction (see Export.TimestepCond).
	CondWeight = float32(0.5)
)

func (e Export) hidden() int {
	if e.Hidden == 0 {
		return 768
	}
	return e.Hidden
}

// schedulerConfig is the export's scheduler/scheduler_config.json, or nil for none (as older
// SD 1.x exports have none).
func (e Export) schedulerConfig() []byte {
	if !e.VPrediction && !e.Trailing {
		return nil
	}
	prediction, spacing := "epsilon", "leading"
	if e.VPrediction {
		prediction = "v_prediction"
	}
	if e.Trailing {
		spacing = "trailing"
	}
	return []byte(`{"_class_name": "EulerDiscreteScheduler", "prediction_type": "` + prediction +
		`", "timestep_spacing": "` + spacing + `", "num_train_timesteps": 1000}`)
}

// Write puts an export in the diffusers layout into dir.
func (e Export) Write(dir string) error {
	models := map[string]*onnxpb.Model{
		"text_encoder/model.onnx": textEncoder(!e.NoPooled, e.hidden()),
		"unet/model.onnx":         e.unet(),
		"vae_decoder/model.onnx":  decoder(e.Workload),
	}
	if !e.NoEncoder {
		models["vae_encoder/model.onnx"] = encoder()
	}
	if e.Tiny {
		models["vae_decoder_tiny/model.onnx"] = tinyDecoder()
	}
	if config := e.schedulerConfig(); config != nil {
		path := filepath.Join(dir, "scheduler", "scheduler_config.json")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, config, 0o644); err != nil {
			return err
		}
	}
	for file, m := range models {
		path := filepath.Join(dir, file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		write := m.WriteFile
		if file == "unet/model.onnx" {
			// As in a real export, the UNet's weights live in weights.pb beside it, which
			// ONNX Runtime finds only when the model is loaded by path.
			write = func(path string) error { return m.WriteWithExternalData(path, "weights.pb") }
		}
		if err := write(path); err != nil {
			return err
		}
	}
	return nil
}

// Sigma is the noise level of training timestep t of SD's scaled-linear schedule, computed
// here independently of the sampler package.
func Sigmas() []float64 {
	sigmas := make([]float64, 1000)
	cumprod := 1.0
	lo, hi := math.Sqrt(0.00085), math.Sqrt(0.012)
	for t := range sigmas {
		beta := lo + (hi-lo)*float64(t)/999
		cumprod *= 1 - beta*beta
		sigmas[t] = math.Sqrt((1 - cumprod) / cumprod)
	}
	return sigmas
}

func vi(name string, t onnxpb.DataType, dims ...onnxpb.Dim) onnxpb.ValueInfo {
	return onnxpb.NewValueInfo(name, t, dims...)
}

var (
	batch  = onnxpb.Sym("batch")
	height = onnxpb.Sym("height")
	width  = onnxpb.Sym("width")
)

func scalar(g *onnxpb.Graph, name string, v float32) string {
	return g.AddInitializer(onnxpb.Float32Tensor(name, nil, []float32{v}))
}

// WriteTokenizer gives an export the real CLIP tokenizer, converted from CLIP's merges file.
func WriteTokenizer(dir, mergesGz string) error {
	return clip.WriteDir(mergesGz, filepath.Join(dir, "tokenizer"))
}
