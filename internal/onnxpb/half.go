package onnxpb

import "math"

// IEEE 754 binary16 ("half", ONNX's FLOAT16): 1 sign bit, 5 exponent bits (bias 15), 10
// fraction bits. float32 has 8 exponent bits (bias 127) and 23 fraction bits.
const (
	halfFractionBits  = 10
	floatFractionBits = 23
	halfBias          = 15
	floatBias         = 127
	halfInfinity      = 0x7c00
)

// HalfFromFloat32 is f rounded to the nearest half, ties to even, as IEEE 754 converts:
// values beyond the largest half (65504) round to ±Inf, values below the smallest subnormal
// half (2⁻²⁴) to ±0, NaN stays NaN (quiet, its payload's top bits kept).
func HalfFromFloat32(f float32) uint16 {
	bits := math.Float32bits(f)
	sign := uint16(bits>>16) & 0x8000
	exp := int(bits>>floatFractionBits) & 0xff
	frac := bits & (1<<floatFractionBits - 1)
	switch {
	case exp == 0xff && frac != 0: // NaN: keep it a NaN whatever its payload
		return sign | halfInfinity | 0x200 | uint16(frac>>(floatFractionBits-halfFractionBits))
	case exp == 0xff:
		return sign | halfInfinity
	}
	// The value is 1.frac × 2^(exp−127), or 0.frac × 2^−126 for a float32 subnormal, which is
	// far below the half range and rounds to zero like any value under 2⁻²⁵.
	halfExp := exp - floatBias + halfBias
	if halfExp >= 0x1f {
		return sign | halfInfinity
	}
	mantissa := frac | 1<<floatFractionBits // the leading 1 made explicit, 24 bits
	shift := floatFractionBits - halfFractionBits
	if halfExp <= 0 {
		// A half subnormal: 0.f × 2⁻¹⁴, so the mantissa moves further right by 1 − halfExp.
		shift += 1 - halfExp
		if shift > 24 || exp == 0 {
			return sign // under half the smallest subnormal: ±0
		}
		halfExp = 0
	} else {
		mantissa &^= 1 << floatFractionBits // a normal half keeps the leading 1 implicit
	}
	return sign | roundShift(uint32(halfExp)<<halfFractionBits, mantissa, shift)
}

// roundShift adds mantissa >> shift to base, rounding to nearest with ties to even. A carry out
// of the fraction moves into the exponent, which is what rounding up 1.111… to 10.0 means; a
// carry out of the largest exponent lands on the infinity pattern, as IEEE 754 wants.
func roundShift(base, mantissa uint32, shift int) uint16 {
	kept := mantissa >> shift
	rest := mantissa & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rest > half || (rest == half && kept&1 == 1) {
		kept++
	}
	return uint16(base + kept)
}

// Float32FromHalf is the half h as a float32, which holds every half exactly.
func Float32FromHalf(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := int(h>>halfFractionBits) & 0x1f
	frac := uint32(h) & (1<<halfFractionBits - 1)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<floatFractionBits | frac<<(floatFractionBits-halfFractionBits))
	case exp == 0 && frac == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: 0.frac × 2⁻¹⁴, exact in float32
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | uint32(exp-halfBias+floatBias)<<floatFractionBits | frac<<(floatFractionBits-halfFractionBits))
}
