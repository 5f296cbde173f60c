package sd

import (
	"context"
	"fmt"
	"math"
	"os"

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
		return m.rt.Session(path, unetContract)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return m.rt.Session(path, unetContract) // which says what is wrong with the file
	}
	fused, n, err := fuse.Attention(data)
	if err != nil || n == 0 {
		return m.rt.Session(path, unetContract)
	}
	if s, err := m.rt.SessionFromData(path, fused, unetContract); err == nil {
		m.fusedAttention = n
		return s, nil
	}
	return m.rt.Session(path, unetContract)
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

// guidedUNet predicts noise with classifier-free guidance: each call runs the UNet on the
// unconditional and the conditional text embeddings and combines the two predictions as
// ε = ε_u + C·(ε_c − ε_u). Both go through the UNet as one batch of two, or, when split, as
// two runs of one: the same arithmetic for each image (the CPU kernels compute every batch
// item alike) with half the working memory, which the lean policy uses. Its tensors are
// allocated once per image and reused every step.
type guidedUNet struct {
	session  *ort.Session
	scale    float64 // C, the -C switch
	split    bool
	sample   *onnx.Tensor[float32] // [2,4,h,w], or [1,4,h,w] when split
	timestep onnx.Value
	setTime  func(t float64)
	// contexts are the text embeddings: [uncond; cond] in one tensor, or one each when split.
	contexts []*onnx.Tensor[float32]
	outs     []*onnx.Tensor[float32] // the predictions, in the same layout as contexts
	n        int                     // elements of one latent
	owned    []onnx.Value
}

func (m *Model) newGuidedUNet(embeddings []float32, scale float64, h, w int) (*guidedUNet, error) {
	split := !m.policy.KeepAll && m.timestepLen <= 1
	g := &guidedUNet{session: m.unet, scale: scale, split: split, n: 4 * h * w}
	batch, parts := int64(2), 1
	if split {
		batch, parts = 1, 2
	}
	latent := onnx.NewShape(batch, 4, int64(h), int64(w))
	var err error
	if g.sample, err = onnx.NewEmptyTensor[float32](latent); err != nil {
		return nil, err
	}
	g.owned = append(g.owned, g.sample)
	per := len(embeddings) / parts
	for i := range parts {
		var context, out *onnx.Tensor[float32]
		context, err = onnx.NewTensor(onnx.NewShape(batch, ContextLength, HiddenSize), embeddings[i*per:(i+1)*per])
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
	return g, nil
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
	if !g.split {
		copy(sample[g.n:], sample[:g.n])
	}
	g.setTime(timestep)
	for i := range g.outs {
		if err := g.session.Run(ctx, []ort.Value{g.sample, g.timestep, g.contexts[i]}, []ort.Value{g.outs[i]}); err != nil {
			return nil, err
		}
	}
	var uncond, cond []float32
	if g.split {
		uncond, cond = g.outs[0].GetData(), g.outs[1].GetData()
	} else {
		out := g.outs[0].GetData()
		uncond, cond = out[:g.n], out[g.n:]
	}
	c := float32(g.scale)
	// A fresh slice each step: multistep samplers keep earlier predictions.
	eps := make([]float32, g.n)
	for i := range eps {
		eps[i] = uncond[i] + c*(cond[i]-uncond[i])
	}
	return eps, nil
}

var _ sampler.Denoiser = (*guidedUNet)(nil).predict

func (g *guidedUNet) destroy() {
	for _, v := range g.owned {
		v.Destroy()
	}
}
