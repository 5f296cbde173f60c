package sd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"dream/internal/sd/sdtest"
)

func TestSpans(t *testing.T) {
	tests := []struct {
		n, tile, overlap int
		want             []span
	}{
		{64, 64, 16, []span{{0, 64}}},
		{40, 64, 16, []span{{0, 40}}},
		{65, 64, 16, []span{{0, 64}, {1, 64}}},
		{112, 64, 16, []span{{0, 64}, {48, 64}}},
		{113, 64, 16, []span{{0, 64}, {25, 64}, {49, 64}}},
		{128, 64, 16, []span{{0, 64}, {32, 64}, {64, 64}}},
		{40, 32, 8, []span{{0, 32}, {8, 32}}},
	}
	for _, tt := range tests {
		got := spans(tt.n, tt.tile, tt.overlap)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("spans(%d, %d, %d) = %v, want %v", tt.n, tt.tile, tt.overlap, got, tt.want)
		}
		// Neighbours overlap by at least the overlap, and the last tile ends at the end.
		for i := 1; i < len(got); i++ {
			if shared := got[i-1].start + got[i-1].size - got[i].start; shared < tt.overlap {
				t.Errorf("spans(%d): tiles %d and %d share %d pixels", tt.n, i-1, i, shared)
			}
		}
		if last := got[len(got)-1]; last.start+last.size != tt.n {
			t.Errorf("spans(%d) ends at %d", tt.n, last.start+last.size)
		}
	}
}

// The test decoder works pixel by pixel, so decoding in tiles must give exactly the image
// decoding whole gives: any mistake in cutting, placing or weighing the tiles shows.
func TestTiledDecodeEqualsWhole(t *testing.T) {
	for _, size := range []struct {
		h, w   int
		forced bool
	}{{40, 40, true}, {24, 72, true}, {72, 100, false}, {130, 65, false}} {
		t.Run(fmt.Sprintf("%dx%d forced=%v", size.h, size.w, size.forced), func(t *testing.T) {
			m := openExport(t, sdtest.Export{Mean: oneLatent})
			rng := rand.New(rand.NewPCG(1, 2))
			latent := make([]float32, 4*size.h*size.w)
			for i := range latent {
				latent[i] = float32(rng.NormFloat64())
			}
			whole, err := m.decodeWhole(context.Background(), latent, size.h, size.w)
			if err != nil {
				t.Fatal(err)
			}
			m.policy.TiledDecode = size.forced
			if _, _, tiled := m.decodeTiling(size.h, size.w); !tiled {
				t.Fatal("the latent was not cut into tiles")
			}
			tiled, err := m.decode(context.Background(), latent, size.h, size.w, FullVAE)
			if err != nil {
				t.Fatal(err)
			}
			differ := 0
			for i := range whole.Pix {
				if whole.Pix[i] != tiled.Pix[i] {
					differ++
				}
			}
			if differ > 0 || tiled.W != whole.W || tiled.H != whole.H {
				t.Errorf("%d of %d samples differ between tiled and whole decoding", differ, len(whole.Pix))
			}
		})
	}
}
