package onnxpb

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestHalfFromFloat32(t *testing.T) {
	tests := []struct {
		name string
		f    float32
		want uint16
	}{
		{"zero", 0, 0x0000},
		{"negative zero", float32(math.Copysign(0, -1)), 0x8000},
		{"one", 1, 0x3c00},
		{"minus two", -2, 0xc000},
		{"a third", 1.0 / 3, 0x3555},
		{"largest half", 65504, 0x7bff},
		{"just under the rounding point to Inf", 65519.996, 0x7bff},
		{"overflow at 65520 (ties away from 65504's odd fraction)", 65520, 0x7c00},
		{"overflow", 1e6, 0x7c00},
		{"negative overflow", -1e6, 0xfc00},
		{"+Inf", float32(math.Inf(1)), 0x7c00},
		{"-Inf", float32(math.Inf(-1)), 0xfc00},
		{"smallest normal 2^-14", 1.0 / (1 << 14), 0x0400},
		{"largest subnormal", 1023.0 / (1 << 24), 0x03ff},
		{"smallest subnormal 2^-24", 1.0 / (1 << 24), 0x0001},
		{"negative smallest subnormal", -1.0 / (1 << 24), 0x8001},
		{"2^-25 is a tie between 0 and 2^-24: even is 0", 1.0 / (1 << 25), 0x0000},
		{"just above 2^-25 rounds up", 1.0/(1<<25) + 1.0/(1<<40), 0x0001},
		{"3·2^-25 ties between 1 and 2 subnormal steps: even is 2", 3.0 / (1 << 25), 0x0002},
		{"float32 subnormal", math.Float32frombits(1), 0x0000},
		{"subnormal carries into the smallest normal", 1023.5 / (1 << 24), 0x0400},
		// 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: even (1) wins; 1 + 3·2^-11
		// halfway between odd 1 + 2^-10 and even 1 + 2^-9: the latter.
		{"tie to even, down", 1 + 1.0/(1<<11), 0x3c00},
		{"tie to even, up", 1 + 3.0/(1<<11), 0x3c02},
		{"above the tie rounds up", 1 + 1.0/(1<<11) + 1.0/(1<<20), 0x3c01},
		{"carry into the exponent", 2 - 1.0/(1<<12), 0x4000},
	}
	for _, tt := range tests {
		if got := HalfFromFloat32(tt.f); got != tt.want {
			t.Errorf("%s: HalfFromFloat32(%g) = %#04x, want %#04x", tt.name, tt.f, got, tt.want)
		}
	}
}

func TestHalfNaN(t *testing.T) {
	for _, bits := range []uint32{0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff} {
		f := math.Float32frombits(bits)
		h := HalfFromFloat32(f)
		if h&0x7c00 != 0x7c00 || h&0x3ff == 0 || h>>15 != uint16(bits>>31) {
			t.Errorf("HalfFromFloat32(NaN %#08x) = %#04x, not a NaN of the same sign", bits, h)
		}
		if back := Float32FromHalf(h); !math.IsNaN(float64(back)) {
			t.Errorf("Float32FromHalf(%#04x) = %g, want NaN", h, back)
		}
	}
}

func TestFloat32FromHalf(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x0000, 0},
		{0x3c00, 1},
		{0xc000, -2},
		{0x7bff, 65504},
		{0x0400, 1.0 / (1 << 14)},
		{0x03ff, 1023.0 / (1 << 24)},
		{0x0001, 1.0 / (1 << 24)},
		{0x8001, -1.0 / (1 << 24)},
		{0x3555, 0.333251953125},
		{0x7c00, float32(math.Inf(1))},
		{0xfc00, float32(math.Inf(-1))},
	}
	for _, tt := range tests {
		if got := Float32FromHalf(tt.h); got != tt.want {
			t.Errorf("Float32FromHalf(%#04x) = %g, want %g", tt.h, got, tt.want)
		}
	}
	if got := Float32FromHalf(0x8000); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("Float32FromHalf(0x8000) = %g, want -0", got)
	}
}

// TestHalfRoundTrip checks every half: widened to float32 and narrowed again, it comes back
// as itself (NaNs as a NaN).
func TestHalfRoundTrip(t *testing.T) {
	for h := range 1 << 16 {
		f := Float32FromHalf(uint16(h))
		got := HalfFromFloat32(f)
		if math.IsNaN(float64(f)) {
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("%#04x → %g → %#04x", h, f, got)
		}
	}
}

// TestHalfNearest checks random float32 values across the half range against the definition:
// no half is nearer than the one chosen, and of two equally near the even one is chosen.
func TestHalfNearest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		// Exponents from far below the subnormals to past the overflow point.
		f := float32(math.Ldexp(rng.Float64()+1, rng.IntN(48)-30))
		if rng.IntN(2) == 0 {
			f = -f
		}
		h := HalfFromFloat32(f)
		if h&0x7fff == halfInfinity {
			if math.Abs(float64(f)) < 65520 {
				t.Fatalf("%g rounded to Inf", f)
			}
			continue
		}
		d := math.Abs(float64(f) - float64(Float32FromHalf(h)))
		for _, n := range []uint16{h - 1, h + 1} {
			if n&0x7fff >= halfInfinity || n&0x7fff == 0x7fff {
				continue
			}
			dn := math.Abs(float64(f) - float64(Float32FromHalf(n)))
			if dn < d || (dn == d && h&1 == 1) {
				t.Fatalf("HalfFromFloat32(%g) = %#04x (%g), but %#04x (%g) is nearer or as near and even",
					f, h, Float32FromHalf(h), n, Float32FromHalf(n))
			}
		}
	}
}
