package sd

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/fuse"
	"dream/internal/ort"
	"dream/internal/sampler"
)

// openUNet opens the UNet and reads how it wants its timestep.
func (m *Model) openUNet() error {
	if m.unet != nil {
		return nil
	}
	if _, err := m.describeUNet(); err != nil {
		return err
	}
	s, err := m.loadUNet()
	if err != nil {
		return err
	}
	ts := s.Inputs[1]
	m.timestepType = ts.DataType
	m.timestepLen = 1
	if dims := ts.Dimensions; len(dims) == 1 && dims[0] > 1 {
		m.timestepLen = int(dims[0]) // an export that fixed the batch of timesteps
	}
	m.unet = s
	return nil
}

// closeUNet closes the UNet session; openUNet opens it again when needed.
func (m *Model) closeUNet() {
	if m.unet != nil {
		m.rt.Release(m.unet)
		m.unet = nil
	}
}

// loadUNet opens the UNet with its attention blocks fused into ONNX Runtime's
// MultiHeadAttention (see fuse.Attention), one node each instead of a dozen plus their shape
// arithmetic; on a real-size SD 1.5 UNet a 512×512 step on CPU took about 6% less time and
// the process 2 GB less memory. The graph is rewritten in memory at every load, in about
// 0.1 s as the weights stay in weights.pb, so nothing is written into the export's folder,
// which may be read-only or shared, and nothing can go stale.
//
// The UNet loads as exported when the policy says so, when no block matches, when CoreML
// is the provider to try first (it does not run ONNX Runtime's own operators, so the graph
// would be split between it and the CPU), and when the fused model does not open: the
// fusion is only ever a speed-up.
func (m *Model) loadUNet() (*ort.Session, error) {
	path := m.path(UNetFile)
	m.fusedAttention = 0
	if !m.fusesAttention() {
		return m.rt.Session(path, unetContract(m.shape))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return m.rt.Session(path, unetContract(m.shape)) // which says what is wrong with the file
	}
	fused, n, err := fuse.Attention(data)
	if err != nil || n == 0 {
		return m.rt.Session(path, unetContract(m.shape))
	}
	if s, err := m.rt.SessionFromData(path, fused, unetContract(m.shape)); err == nil {
		m.fusedAttention = n
		return s, nil
	}
	return m.rt.Session(path, unetContract(m.shape))
}

// fusesAttention tells whether loadUNet tries to fuse: unless the policy says not to, on
// the providers that run MultiHeadAttention.
func (m *Model) fusesAttention() bool {
	first := m.rt.Providers()[0]
	return !m.policy.PlainAttention && (first == "cpu" || first == "cuda")
}

// FusedAttention is the number of attention blocks the loaded UNet runs fused (see
// loadUNet); 0 before it is loaded.
func (m *Model) FusedAttention() int { return m.fusedAttention }

// guidedUNet predicts noise for the sampler. With classifier-free guidance (a scale C above
// 1, and a UNet without a guidance embedding) each call runs the UNet on the unconditional
// and the conditional text embeddings and combines the two predictions as
// ε = ε_u + C·(ε_c − ε_u). Both go through the UNet as one batch of two, or, when split, as
// two runs of one: the same arithmetic for each image (the CPU kernels compute every batch
// item alike) with half the working memory, which the lean policy uses. With C at 1 or less
// that combination is ε_c itself, so the UNet runs once, on the prompt alone; an
// LCM-distilled UNet always runs once and is told C through its guidance embedding. Its
// tensors are allocated once per image and reused every step.
type guidedUNet struct {
	session *ort.Session
	scale   float64 // C, the -C switch
	guided  bool    // runs the empty prompt too and combines (see above)
	split   bool
	// vPrediction says the UNet predicts v = sqrt(ᾱ)·ε − sqrt(1−ᾱ)·x0 (SD 2.x at 768), which
	// predict turns into ε.
	vPrediction bool
	sample      *onnx.Tensor[float32] // [batch,4,h,w]
	batch       int
	timestep    onnx.Value
	setTime     func(t float64)
	// contexts are the text embeddings: [uncond; cond] in one tensor, one each when split,
	// or the prompt's alone.
	contexts []*onnx.Tensor[float32]
	outs     []*onnx.Tensor[float32] // the predictions, in the same layout as contexts
	// guidance is an LCM-distilled UNet's timestep_cond, the embedding of C − 1; nil for others.
	guidance *onnx.Tensor[float32]
	n        int // elements of one latent
	runs     int // UNet runs so far, for tests
	owned    []onnx.Value
}

// guides tells whether a run at guidance scale C needs the empty prompt's prediction too.
func (m *Model) guides(scale float64) bool {
	return scale > 1 && m.shape.timestepCond == 0
}

// newGuidedUNet sets up the UNet's inputs for a latent of h×w. embeddings are the prompt's,
// after the empty prompt's when m.guides(scale) (see encodePrompt).
func (m *Model) newGuidedUNet(embeddings []float32, scale float64, h, w int) (*guidedUNet, error) {
	return m.newUNetRun(embeddings, scale, m.guides(scale), h, w)
}

// newUNetRun is newGuidedUNet with the choice of guidance made by the caller: tests compare
// the one-pass prediction with the two-pass one it replaces.
func (m *Model) newUNetRun(embeddings []float32, scale float64, guided bool, h, w int) (*guidedUNet, error) {
	g := &guidedUNet{session: m.unet, scale: scale, guided: guided, n: 4 * h * w,
		vPrediction: m.scheduler.PredictionType == "v_prediction"}
	perPrompt := ContextLength * m.shape.hidden
	prompts := 1
	if g.guided {
		prompts = 2
	}
	if len(embeddings) != prompts*perPrompt {
		return nil, fmt.Errorf("the UNet was given %d text embedding values, it needs %d", len(embeddings), prompts*perPrompt)
	}
	// An export that fixed its batch of timesteps gets that batch, the prompt repeated.
	g.split = g.guided && !m.policy.KeepAll && m.timestepLen <= 1
	g.batch = prompts
	parts := 1
	switch {
	case g.split:
		g.batch, parts = 1, 2
	case !g.guided && m.timestepLen > 1:
		g.batch = m.timestepLen
		embeddings = slices.Repeat(embeddings, g.batch)
	}
	latent := onnx.NewShape(int64(g.batch), 4, int64(h), int64(w))
	var err error
	if g.sample, err = onnx.NewEmptyTensor[float32](latent); err != nil {
		return nil, err
	}
	g.owned = append(g.owned, g.sample)
	per := len(embeddings) / parts
	for i := range parts {
		var context, out *onnx.Tensor[float32]
		context, err = onnx.NewTensor(onnx.NewShape(int64(g.batch), ContextLength, int64(m.shape.hidden)), embeddings[i*per:(i+1)*per])
		if err == nil {
			g.owned = append(g.owned, context)
			out, err = onnx.NewEmptyTensor[float32](latent)
		}
		if err != nil {
			g.destroy()
			return nil, err
		}
		g.owned = append(g.owned, out)
		g.contexts, g.outs = append(g.contexts, context), append(g.outs, out)
	}
	if err := g.newTimestep(m.timestepType, m.timestepLen); err != nil {
		g.destroy()
		return nil, err
	}
	if m.shape.timestepCond > 0 {
		emb := slices.Repeat(GuidanceEmbedding(scale-1, m.shape.timestepCond), g.batch)
		if g.guidance, err = onnx.NewTensor(onnx.NewShape(int64(g.batch), int64(m.shape.timestepCond)), emb); err != nil {
			g.destroy()
			return nil, err
		}
		g.owned = append(g.owned, g.guidance)
	}
	return g, nil
}

// GuidanceEmbedding is the timestep_cond an LCM-distilled UNet takes for guidance weight w
// (C − 1): VDM's sinusoidal embedding of 1000·w, sines then cosines at the frequencies
// 10000^(−i/(dim/2−1)), as diffusers' get_guidance_scale_embedding computes it, in float32
// step by step so that the large arguments (7500 at C = 8.5) round as they do there.
func GuidanceEmbedding(w float64, dim int) []float32 {
	half := dim / 2
	emb := make([]float32, dim)
	scaled := float32(w) * 1000
	step := float32(math.Log(10000)) / float32(half-1)
	for i := range half {
		freq := float32(math.Exp(float64(float32(i) * -step)))
		arg := float64(scaled * freq)
		emb[i] = float32(math.Sin(arg))
		emb[half+i] = float32(math.Cos(arg))
	}
	return emb // an odd dim keeps its last value 0, as diffusers pads it
}

// newTimestep makes the timestep tensor in the model's own type. An integer model gets the
// nearest integer; the sampler asks integer models only about integer timesteps anyway.
func (g *guidedUNet) newTimestep(typ ort.DataType, n int) error {
	shape := onnx.NewShape(int64(n))
	if typ == ort.Int64 {
		t, err := onnx.NewEmptyTensor[int64](shape)
		if err != nil {
			return err
		}
		g.timestep, g.setTime = t, func(v float64) { fill(t.GetData(), int64(math.Round(v))) }
	} else {
		t, err := onnx.NewEmptyTensor[float32](shape)
		if err != nil {
			return err
		}
		g.timestep, g.setTime = t, func(v float64) { fill(t.GetData(), float32(v)) }
	}
	g.owned = append(g.owned, g.timestep)
	return nil
}

func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}

// predict is a sampler.Denoiser. The UNet sees x scaled by 1/sqrt(σ²+1), the variance of
// the training data at that noise level, as k-diffusion's CompVis wrapper does.
func (g *guidedUNet) predict(ctx context.Context, x []float32, sigma, timestep float64) ([]float32, error) {
	if len(x) != g.n {
		return nil, fmt.Errorf("latent has %d values, the UNet was set up for %d", len(x), g.n)
	}
	cIn := float32(1 / math.Sqrt(sigma*sigma+1))
	sample := g.sample.GetData()
	for i, v := range x {
		sample[i] = v * cIn
	}
	for b := 1; b < g.batch; b++ {
		copy(sample[b*g.n:], sample[:g.n])
	}
	g.setTime(timestep)
	for i := range g.outs {
		inputs := []ort.Value{g.sample, g.timestep, g.contexts[i]}
		if g.guidance != nil {
			inputs = append(inputs, g.guidance)
		}
		if err := g.session.Run(ctx, inputs, []ort.Value{g.outs[i]}); err != nil {
			return nil, err
		}
		g.runs++
	}
	// A fresh slice each step: multistep samplers keep earlier predictions.
	eps := make([]float32, g.n)
	switch {
	case !g.guided:
		copy(eps, g.outs[0].GetData())
	case g.split:
		combine(eps, g.outs[0].GetData(), g.outs[1].GetData(), float32(g.scale))
	default:
		out := g.outs[0].GetData()
		combine(eps, out[:g.n], out[g.n:], float32(g.scale))
	}
	if g.vPrediction {
		vToEps(eps, sample[:g.n], sigma)
	}
	return eps, nil
}

// combine sets eps to classifier-free guidance's uncond + c·(cond − uncond).
func combine(eps, uncond, cond []float32, c float32) {
	for i := range eps {
		eps[i] = uncond[i] + c*(cond[i]-uncond[i])
	}
}

// vToEps turns a v-prediction into ε in place. With the UNet's input x_t = x/sqrt(1+σ²),
// sqrt(ᾱ) = 1/sqrt(1+σ²) and sqrt(1−ᾱ) = σ/sqrt(1+σ²), v = sqrt(ᾱ)·ε − sqrt(1−ᾱ)·x0 and
// x_t = sqrt(ᾱ)·x0 + sqrt(1−ᾱ)·ε give ε = sqrt(ᾱ)·v + sqrt(1−ᾱ)·x_t (k-diffusion's
// CompVisVDenoiser says the same through its c_skip and c_out).
func vToEps(v, xt []float32, sigma float64) {
	a := 1 / math.Sqrt(1+sigma*sigma)
	b := sigma * a
	for i := range v {
		v[i] = float32(a*float64(v[i]) + b*float64(xt[i]))
	}
}

var _ sampler.Denoiser = (*guidedUNet)(nil).predict

func (g *guidedUNet) destroy() {
	for _, v := range g.owned {
		v.Destroy()
	}
}
