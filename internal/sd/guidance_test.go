package sd

import (
	"context"
	"fmt"
	"math"
	"testing"

	"dream/internal/sd/sdtest"
)

// With Guidance γ the test UNet returns ε_data + γ·mean(embedding of its batch element), so
// its two halves differ by exactly γ·(m_c − m_u). The pipeline must combine them as
// ε = ε_u + C·(ε_c − ε_u).
func TestGuidanceCombinesTheHalves(t *testing.T) {
	const gamma = 3
	m := openExport(t, sdtest.Export{Mean: oneLatent, Guidance: gamma})
	const h, w = 2, 3
	for _, scale := range []float64{1.5, 3, 7.5, 12, 20} {
		t.Run(fmt.Sprintf("C=%g", scale), func(t *testing.T) {
			unet, emb := guided(t, m, "superman dancing with a panda bear", scale, h, w)
			half := len(emb) / 2
			mu, mc := mean(emb[:half]), mean(emb[half:])
			if math.Abs(mc-mu) < 1e-4 {
				t.Fatalf("the prompt's embedding mean %g is too close to the empty prompt's %g to test guidance", mc, mu)
			}
			x := make([]float32, unet.n)
			for i := range x {
				x[i] = float32(i%5) - 2
			}
			const sigma = 2.0
			timestep := sigmaToTimestep(t, sigma)
			got, err := unet.predict(context.Background(), x, sigma, timestep)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]float64, len(x))
			plain := make([]float64, len(x)) // what ε_c alone would give: the mistake to rule out
			for i, xi := range x {
				data := (float64(xi) - float64(oneLatent[i/(h*w)])) / sigma
				want[i] = data + gamma*(mu+scale*(mc-mu))
				plain[i] = data + gamma*mc
			}
			// float32 throughout: ε is O(10), so a few ulps are 1e-5.
			if d := maxAbsDiff(got, want); d > 1e-4 {
				t.Errorf("guided ε is %.3g from ε_u + C·(ε_c − ε_u)", d)
			}
			if d := maxAbsDiff(got, plain); scale != 1 && d < 1e-2 {
				t.Errorf("guided ε equals the conditional half alone (difference %.3g)", d)
			}
		})
	}
}

// sigmaToTimestep finds the fractional timestep of sigma on the test UNet's own table.
func sigmaToTimestep(t *testing.T, sigma float64) float64 {
	sigmas := sdtest.Sigmas()
	for i := 0; i+1 < len(sigmas); i++ {
		if sigmas[i] <= sigma && sigma <= sigmas[i+1] {
			lo, hi := math.Log(sigmas[i]), math.Log(sigmas[i+1])
			return float64(i) + (math.Log(sigma)-lo)/(hi-lo)
		}
	}
	t.Fatalf("σ %g is outside the schedule", sigma)
	return 0
}

func mean(v []float32) float64 {
	sum := 0.0
	for _, x := range v {
		sum += float64(x)
	}
	return sum / float64(len(v))
}

// The text encoder gets the tokenizer's ids for [empty prompt, prompt], padded to 77.
// Exports with and without the pooled output both work.
func TestPromptReachesTheTextEncoder(t *testing.T) {
	for _, noPooled := range []bool{false, true} {
		t.Run(fmt.Sprintf("without pooled output %v", noPooled), func(t *testing.T) {
			m := openExport(t, sdtest.Export{Mean: oneLatent, NoPooled: noPooled})
			checkPromptEmbedding(t, m)
		})
	}
}

func checkPromptEmbedding(t *testing.T, m *Model) {
	emb, truncated, err := m.encodePrompt(context.Background(), "a photo of a cat", true)
	if err != nil || truncated {
		t.Fatalf("encodePrompt: %v, truncated %v", err, truncated)
	}
	want := []int32{49406, 320, 1125, 539, 320, 2368, 49407}
	for i := 0; i < ContextLength; i++ {
		id := int32(49407)
		if i < len(want) {
			id = want[i]
		}
		got := emb[(ContextLength+i)*HiddenSize] // element 0 of token i of the prompt's half
		if w := float64(id) / (768 * 49408); math.Abs(float64(got)-w) > 1e-6 {
			t.Fatalf("token %d: embedding %g, want %g (id %d)", i, got, w, id)
		}
	}
	if got := emb[1*HiddenSize]; math.Abs(float64(got)-49407.0/(768*49408)) > 1e-6 {
		t.Errorf("the unconditional half is not the empty prompt: token 1 gives %g", got)
	}
}
