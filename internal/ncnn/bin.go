package ncnn

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tags that open a tagged weight block in a .bin file (ncnn src/modelbin.cpp).
const (
	tagFP32       = 0x00000000
	tagFP16       = 0x01306B47
	tagInt8       = 0x000D4B38
	tagFP32Scaled = 0x0002C056 // raw fp32, written by ncnn's own tools; same layout as tagFP32
)

// binReader hands out a .bin file's weight blocks in layer order.
type binReader struct {
	name string
	data []byte
	off  int
}

func (r *binReader) need(n int, what string) error {
	if n < 0 || n > len(r.data)-r.off {
		return fmt.Errorf("%s: truncated: %s needs %d bytes at offset %d, file has %d",
			r.name, what, n, r.off, len(r.data))
	}
	return nil
}

// tagged reads a weight block: a 4-byte tag, then n values, padded to 4 bytes.
func (r *binReader) tagged(n int, what string) ([]float32, error) {
	if err := r.need(4, what); err != nil {
		return nil, err
	}
	tag := binary.LittleEndian.Uint32(r.data[r.off:])
	at := r.off
	r.off += 4
	switch tag {
	case tagFP16:
		size := (2*n + 3) &^ 3
		if err := r.need(size, what); err != nil {
			return nil, err
		}
		out := make([]float32, n)
		for i := range out {
			out[i] = halfToFloat(binary.LittleEndian.Uint16(r.data[r.off+2*i:]))
		}
		r.off += size
		return out, nil
	case tagFP32, tagFP32Scaled:
		return r.raw(n, what)
	case tagInt8:
		return nil, fmt.Errorf("%s: %s at offset %d is int8-quantized; only fp32/fp16 weights are supported", r.name, what, at)
	default:
		return nil, fmt.Errorf("%s: %s at offset %d has unsupported weight tag 0x%08X (table-quantized or corrupt)", r.name, what, at, tag)
	}
}

// raw reads n untagged little-endian fp32 values (biases, PReLU slopes).
func (r *binReader) raw(n int, what string) ([]float32, error) {
	if n > math.MaxInt/4 {
		return nil, r.need(-1, what)
	}
	if err := r.need(4*n, what); err != nil {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.data[r.off+4*i:]))
	}
	r.off += 4 * n
	return out, nil
}

// halfToFloat converts an IEEE 754 binary16 value exactly.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | frac<<13)
	case frac == 0: // ±0
		return math.Float32frombits(sign)
	default: // subnormal: value = frac × 2^−24
		f := float32(frac) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
}
