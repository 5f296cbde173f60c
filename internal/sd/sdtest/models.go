package sdtest

import (
	"fmt"
	"math"

	"dream/internal/onnxpb"
)

// textEncoder maps token ids to embeddings a UNet can tell apart: element j of token i is
// ids[i]·(j+1)/(H·49408) + j/H, H the width (768, or SD 2.x's 1024). pooler_output is the
// mean over the tokens.
func textEncoder(pooled bool, hidden int) *onnxpb.Model {
	var g onnxpb.Graph
	h := int64(hidden)
	g.Inputs = []onnxpb.ValueInfo{vi("input_ids", onnxpb.Int32, batch, onnxpb.Fixed(77))}
	g.Outputs = []onnxpb.ValueInfo{vi("last_hidden_state", onnxpb.Float, batch, onnxpb.Fixed(77), onnxpb.Fixed(h))}
	slope, offset := make([]float32, hidden), make([]float32, hidden)
	for j := range slope {
		slope[j] = float32(j+1) / float32(hidden*49408)
		offset[j] = float32(j) / float32(hidden)
	}
	a := g.AddInitializer(onnxpb.Float32Tensor("slope", []int64{h}, slope))
	b := g.AddInitializer(onnxpb.Float32Tensor("offset", []int64{h}, offset))
	axes := g.AddInitializer(onnxpb.Int64Tensor("axes", []int64{1}, []int64{2}))
	ids := g.Add("Cast", []string{"input_ids"}, []string{"ids_f"}, onnxpb.AttrInt("to", int64(onnxpb.Float)))
	col := g.Add("Unsqueeze", []string{ids[0], axes}, []string{"ids_col"})
	scaled := g.Add("Mul", []string{col[0], a}, []string{"scaled"})
	g.Add("Add", []string{scaled[0], b}, []string{"last_hidden_state"})
	if pooled {
		g.Outputs = append(g.Outputs, vi("pooler_output", onnxpb.Float, batch, onnxpb.Fixed(h)))
		g.Add("ReduceMean", []string{"last_hidden_state"}, []string{"pooler_output"},
			onnxpb.AttrInts("axes", 1), onnxpb.AttrInt("keepdims", 0))
	}
	return &onnxpb.Model{Graph: g}
}

// unet predicts the exact noise for the export's data set. It reads σ from the timestep by
// interpolating log σ between the neighbouring training timesteps (k-diffusion's t_to_sigma),
// undoes the pipeline's input scaling x = sample·sqrt(σ²+1), and returns
// ε = (x − D(x,σ))/σ with D the data set's optimal denoiser (s²x + σ²μ)/(s²+σ²).
func (e Export) unet() *onnxpb.Model {
	var g onnxpb.Graph
	tsType := onnxpb.Float
	if e.IntegerTimestep {
		tsType = onnxpb.Int64
	}
	g.Inputs = []onnxpb.ValueInfo{
		vi("sample", onnxpb.Float, batch, onnxpb.Fixed(4), height, width),
		vi("timestep", tsType, onnxpb.Sym("steps")),
		vi("encoder_hidden_states", onnxpb.Float, batch, onnxpb.Fixed(77), onnxpb.Fixed(int64(e.hidden()))),
	}
	if e.TimestepCond > 0 {
		g.Inputs = append(g.Inputs, vi("timestep_cond", onnxpb.Float, batch, onnxpb.Fixed(int64(e.TimestepCond))))
	}
	g.Outputs = []onnxpb.ValueInfo{vi("out_sample", onnxpb.Float, batch, onnxpb.Fixed(4), height, width)}

	sigma := sigmaOf(&g, "timestep")
	sigma2 := g.Add("Mul", []string{sigma, sigma}, []string{"sigma2"})[0]
	one := scalar(&g, "one", 1)
	k := g.Add("Sqrt", g.Add("Add", []string{sigma2, one}, []string{"s2p1"}), []string{"k"})[0]
	x := g.Add("Mul", []string{"sample", k}, []string{"x"})[0]

	s2 := scalar(&g, "spread2", e.Spread*e.Spread)
	mean := g.AddInitializer(onnxpb.Float32Tensor("mean", []int64{1, 4, 1, 1}, e.Mean[:]))
	num := g.Add("Add", []string{
		g.Add("Mul", []string{x, s2}, []string{"s2x"})[0],
		g.Add("Mul", []string{mean, sigma2}, []string{"sigma2mu"})[0],
	}, []string{"num"})[0]
	den := g.Add("Add", []string{s2, sigma2}, []string{"den"})[0]
	denoised := g.Add("Div", []string{num, den}, []string{"denoised"})[0]
	eps := g.Add("Div", []string{g.Add("Sub", []string{x, denoised}, []string{"residual"})[0], sigma}, []string{"eps"})[0]
	if e.VPrediction {
		// v = sqrt(ᾱ)·ε − sqrt(1−ᾱ)·x0 = (ε − σ·D)/sqrt(1+σ²) in k-diffusion's terms.
		sd := g.Add("Mul", []string{sigma, denoised}, []string{"sigma_denoised"})[0]
		eps = g.Add("Div", []string{g.Add("Sub", []string{eps, sd}, []string{"eps_less"})[0], k}, []string{"v"})[0]
	}
	if e.TimestepCond > 0 {
		// CondWeight × mean(timestep_cond) per batch element, shaped [B,1,1,1].
		m := g.Add("ReduceMean", []string{"timestep_cond"}, []string{"cond_mean"},
			onnxpb.AttrInts("axes", 1), onnxpb.AttrInt("keepdims", 1))[0]
		axes := g.AddInitializer(onnxpb.Int64Tensor("cond_axes", []int64{2}, []int64{2, 3}))
		m4 := g.Add("Unsqueeze", []string{m, axes}, []string{"cond_mean4"})[0]
		term := g.Add("Mul", []string{m4, scalar(&g, "cond_weight", CondWeight)}, []string{"cond_term"})[0]
		eps = g.Add("Add", []string{eps, term}, []string{"eps_with_cond"})[0]
	}

	if e.Attention {
		eps = g.Add("Add", []string{eps, addAttention(&g, "sample")}, []string{"eps_with_attention"})[0]
	}
	if e.Workload > 0 {
		// At the latent's own size, pooled back from full resolution.
		waste := addWorkload(&g, "sample", 4, e.Workload, 8)
		pooled := g.Add("AveragePool", []string{waste}, []string{"waste_pooled"},
			onnxpb.AttrInts("kernel_shape", 8, 8), onnxpb.AttrInts("strides", 8, 8))[0]
		eps = g.Add("Add", []string{eps, pooled}, []string{"eps_with_waste"})[0]
	}
	if e.StepWork > 0 {
		eps = g.Add("Add", []string{eps, addStepWork(&g, "sample", e.StepWork)}, []string{"eps_with_step_work"})[0]
	}
	if e.Guidance == 0 {
		g.Add("Identity", []string{eps}, []string{"out_sample"})
		return &onnxpb.Model{Graph: g}
	}
	// The text term: Guidance × mean(embedding) per batch element, shaped [B,1,1,1].
	m := g.Add("ReduceMean", []string{"encoder_hidden_states"}, []string{"text_mean"},
		onnxpb.AttrInts("axes", 1, 2), onnxpb.AttrInt("keepdims", 1))[0]
	lastAxis := g.AddInitializer(onnxpb.Int64Tensor("last_axis", []int64{1}, []int64{3}))
	m4 := g.Add("Unsqueeze", []string{m, lastAxis}, []string{"text_mean4"})[0]
	term := g.Add("Mul", []string{m4, scalar(&g, "guidance", e.Guidance)}, []string{"text_term"})[0]
	g.Add("Add", []string{eps, term}, []string{"out_sample"})
	return &onnxpb.Model{Graph: g}
}

// addAttention adds SD's two attention blocks on a latent [B,4,H,W]: self-attention over its
// H·W pixels as tokens of 4 channels, then cross-attention from those to the text
// embeddings. It returns their output in the latent's shape.
func addAttention(g *onnxpb.Graph, latent string) string {
	pixels := g.Add("Transpose", []string{latent}, []string{"attn_pixels"}, onnxpb.AttrInts("perm", 0, 2, 3, 1))[0]
	tokensShape := g.AddInitializer(onnxpb.Int64Tensor("attn_tokens_shape", []int64{3}, []int64{0, -1, 4}))
	tokens := g.Add("Reshape", []string{pixels, tokensShape}, []string{"attn_tokens"})[0]
	self := AddAttention(g, AttentionBlock{Prefix: "attn1/", X: tokens, Dim: 4, Heads: 2, HeadDim: 4, Seed: 1})
	cross := AddAttention(g, AttentionBlock{Prefix: "attn2/", X: self, Context: "encoder_hidden_states",
		Dim: 4, ContextDim: 768, Heads: 2, HeadDim: 4, Seed: 2}) // SD 1.x exports only
	back := g.Add("Reshape", []string{cross, g.Add("Shape", []string{pixels}, []string{"attn_pixels_shape"})[0]},
		[]string{"attn_out_pixels"})[0]
	return g.Add("Transpose", []string{back}, []string{"attn_out"}, onnxpb.AttrInts("perm", 0, 3, 1, 2))[0]
}

// sigmaOf adds the nodes that turn a timestep tensor into its σ, shaped like the timestep.
func sigmaOf(g *onnxpb.Graph, timestep string) string {
	sigmas := Sigmas()
	logs := make([]float32, len(sigmas))
	for i, s := range sigmas {
		logs[i] = float32(math.Log(s))
	}
	table := g.AddInitializer(onnxpb.Float32Tensor("log_sigmas", []int64{1000}, logs))
	t := g.Add("Cast", []string{timestep}, []string{"t"}, onnxpb.AttrInt("to", int64(onnxpb.Float)))[0]
	lo := g.Add("Clip", []string{g.Add("Floor", []string{t}, []string{"t_floor"})[0],
		scalar(g, "zero", 0), scalar(g, "t_last", 998)}, []string{"t_lo"})[0]
	frac := g.Add("Sub", []string{t, lo}, []string{"t_frac"})[0]
	i0 := g.Add("Cast", []string{lo}, []string{"i0"}, onnxpb.AttrInt("to", int64(onnxpb.Int64)))[0]
	i1 := g.Add("Add", []string{i0, g.AddInitializer(onnxpb.Int64Tensor("one_i", nil, []int64{1}))}, []string{"i1"})[0]
	l0 := g.Add("Gather", []string{table, i0}, []string{"l0"})[0]
	l1 := g.Add("Gather", []string{table, i1}, []string{"l1"})[0]
	step := g.Add("Mul", []string{g.Add("Sub", []string{l1, l0}, []string{"dl"})[0], frac}, []string{"dl_frac"})[0]
	logSigma := g.Add("Add", []string{l0, step}, []string{"log_sigma"})[0]
	return g.Add("Exp", []string{logSigma}, []string{"sigma"})[0]
}

// decoder is Decoder·(latent·0.18215) + DecoderBias, each latent pixel repeated 8×8.
func decoder(workload int) *onnxpb.Model {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{vi("latent_sample", onnxpb.Float, batch, onnxpb.Fixed(4), height, width)}
	g.Outputs = []onnxpb.ValueInfo{vi("sample", onnxpb.Float, batch, onnxpb.Fixed(3), onnxpb.Sym("out_height"), onnxpb.Sym("out_width"))}
	weights := make([]float32, 0, 12)
	for _, row := range Decoder {
		for _, v := range row {
			weights = append(weights, v*0.18215)
		}
	}
	w := g.AddInitializer(onnxpb.Float32Tensor("dec_w", []int64{3, 4, 1, 1}, weights))
	b := g.AddInitializer(onnxpb.Float32Tensor("dec_b", []int64{3}, DecoderBias[:]))
	small := g.Add("Conv", []string{"latent_sample", w, b}, []string{"small"})[0]
	scales := g.AddInitializer(onnxpb.Float32Tensor("scales", []int64{4}, []float32{1, 1, 8, 8}))
	if workload == 0 {
		g.Add("Resize", []string{small, "", scales}, []string{"sample"}, onnxpb.AttrString("mode", "nearest"))
		return &onnxpb.Model{Graph: g}
	}
	big := g.Add("Resize", []string{small, "", scales}, []string{"big"}, onnxpb.AttrString("mode", "nearest"))[0]
	g.Add("Add", []string{big, addWorkload(&g, big, 3, workload, 1)}, []string{"sample"})
	return &onnxpb.Model{Graph: g}
}

// tinyDecoder stands for TAESD: TinyDecoder·latent + TinyDecoderBias, on the latent as the
// UNet gives it (no 0.18215), each latent pixel repeated 8×8.
func tinyDecoder() *onnxpb.Model {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{vi("latent_sample", onnxpb.Float, batch, onnxpb.Fixed(4), height, width)}
	g.Outputs = []onnxpb.ValueInfo{vi("sample", onnxpb.Float, batch, onnxpb.Fixed(3), onnxpb.Sym("out_height"), onnxpb.Sym("out_width"))}
	var weights []float32
	for _, row := range TinyDecoder {
		weights = append(weights, row[:]...)
	}
	w := g.AddInitializer(onnxpb.Float32Tensor("tiny_w", []int64{3, 4, 1, 1}, weights))
	b := g.AddInitializer(onnxpb.Float32Tensor("tiny_b", []int64{3}, TinyDecoderBias[:]))
	small := g.Add("Conv", []string{"latent_sample", w, b}, []string{"small"})[0]
	scales := g.AddInitializer(onnxpb.Float32Tensor("scales", []int64{4}, []float32{1, 1, 8, 8}))
	g.Add("Resize", []string{small, "", scales}, []string{"sample"}, onnxpb.AttrString("mode", "nearest"))
	return &onnxpb.Model{Graph: g}
}

// encoder is a VAE encoder as diffusers exports it, posterior sampling included: the mean is
// Encoder·(mean colour of each 8×8 block), the log-variance EncoderLogVar, and the output is
// mean + exp(logvar/2)·RandomNormalLike, which ONNX Runtime seeds on its own.
func encoder() *onnxpb.Model {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{vi("sample", onnxpb.Float, batch, onnxpb.Fixed(3), height, width)}
	g.Outputs = []onnxpb.ValueInfo{vi("latent_sample", onnxpb.Float, batch, onnxpb.Fixed(4), onnxpb.Sym("lh"), onnxpb.Sym("lw"))}
	pooled := g.Add("AveragePool", []string{"sample"}, []string{"pooled"},
		onnxpb.AttrInts("kernel_shape", 8, 8), onnxpb.AttrInts("strides", 8, 8))[0]
	weights := make([]float32, 0, 24)
	bias := make([]float32, 8)
	for _, row := range Encoder {
		weights = append(weights, row[:]...)
	}
	weights = append(weights, make([]float32, 12)...) // log-variance channels: bias only
	for c := 4; c < 8; c++ {
		bias[c] = EncoderLogVar
	}
	w := g.AddInitializer(onnxpb.Float32Tensor("enc_w", []int64{8, 3, 1, 1}, weights))
	b := g.AddInitializer(onnxpb.Float32Tensor("enc_b", []int64{8}, bias))
	moments := g.Add("Conv", []string{pooled, w, b}, []string{"moments"})[0]
	parts := g.Add("Split", []string{moments}, []string{"mean", "logvar"}, onnxpb.AttrInt("axis", 1))
	half := scalar(&g, "half", 0.5)
	std := g.Add("Exp", g.Add("Mul", []string{parts[1], half}, []string{"half_logvar"}), []string{"std"})[0]
	noise := g.Add("RandomNormalLike", []string{std}, []string{"noise"})[0]
	g.Add("Add", []string{parts[0], g.Add("Mul", []string{std, noise}, []string{"spread"})[0]}, []string{"latent_sample"})
	return &onnxpb.Model{Graph: g}
}

// WriteMismatchedUNet writes, at path, a UNet for a 1024-wide text encoder (SD 2.x's), which
// an SD 1.x pipeline must refuse.
func WriteMismatchedUNet(path string) error {
	var g onnxpb.Graph
	g.Inputs = []onnxpb.ValueInfo{
		vi("sample", onnxpb.Float, batch, onnxpb.Fixed(4), height, width),
		vi("timestep", onnxpb.Float, onnxpb.Sym("steps")),
		vi("encoder_hidden_states", onnxpb.Float, batch, onnxpb.Fixed(77), onnxpb.Fixed(1024)),
	}
	g.Outputs = []onnxpb.ValueInfo{vi("out_sample", onnxpb.Float, batch, onnxpb.Fixed(4), height, width)}
	g.Add("Identity", []string{"sample"}, []string{"out_sample"})
	return (&onnxpb.Model{Graph: g}).WriteFile(path)
}

// stepWorkSide is the side of StepWork's matrices: a product takes milliseconds, so that
// StepWork sets a step's time in fine increments.
const stepWorkSide = 512

// addStepWork adds a chain of products matrices long that starts from x's mean and ends as
// a single 0, shaped to broadcast onto any 4-D tensor. The chain depends on the input, so
// ONNX Runtime cannot fold it into a constant when it loads the model, and each product
// needs the one before, so they run one after another.
func addStepWork(g *onnxpb.Graph, x string, products int) string {
	n := int64(stepWorkSide)
	// Zero weights keep every value finite: 0·Inf would be NaN.
	zeros := g.AddInitializer(onnxpb.Float32Tensor("step_work_zeros", []int64{n, n}, make([]float32, n*n)))
	mean := g.Add("ReduceMean", []string{x}, []string{"step_work_mean"}, onnxpb.AttrInt("keepdims", 1))[0]
	h := g.Add("Mul", []string{mean, zeros}, []string{"step_work_0"})[0]
	for i := range products {
		h = g.Add("MatMul", []string{h, zeros}, []string{fmt.Sprintf("step_work_%d", i+1)})[0]
	}
	sum := g.Add("ReduceSum", []string{h}, []string{"step_work_sum"}, onnxpb.AttrInt("keepdims", 1))[0]
	return g.Add("Mul", []string{sum, scalar(g, "step_work_zero", 0)}, []string{"step_work"})[0]
}

// addWorkload adds a branch that enlarges x (with channels channels) by scale, widens it to
// width channels with a 3×3 convolution, narrows it back, and multiplies it by 0: it costs
// working memory and time like a real model's layers and contributes nothing.
func addWorkload(g *onnxpb.Graph, x string, channels, width int, scale float32) string {
	if scale != 1 {
		scales := g.AddInitializer(onnxpb.Float32Tensor("waste_scales", []int64{4}, []float32{1, 1, scale, scale}))
		x = g.Add("Resize", []string{x, "", scales}, []string{"waste_big"}, onnxpb.AttrString("mode", "nearest"))[0]
	}
	c, w := int64(channels), int64(width)
	wide := g.AddInitializer(onnxpb.Float32Tensor("waste_wide", []int64{w, c, 3, 3}, make([]float32, w*c*9)))
	narrow := g.AddInitializer(onnxpb.Float32Tensor("waste_narrow", []int64{c, w, 1, 1}, make([]float32, c*w)))
	h := g.Add("Conv", []string{x, wide}, []string{"waste_wide_out"}, onnxpb.AttrInts("pads", 1, 1, 1, 1))[0]
	h = g.Add("Relu", []string{h}, []string{"waste_relu"})[0]
	h = g.Add("Conv", []string{h, narrow}, []string{"waste_narrow_out"})[0]
	return g.Add("Mul", []string{h, scalar(g, "waste_zero", 0)}, []string{"waste"})[0]
}
