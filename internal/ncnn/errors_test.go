package ncnn

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyParam is a valid one-convolution model: 3→3 channels, 1×1 kernel, with bias.
const tinyParam = `7767517
2 2
Input            in0   0 1 data
Convolution      conv0 1 1 data out 0=3 1=1 5=1 6=9
`

// tinyBin is tinyParam's weights: fp32 tag, 9 weights, 3 biases.
func tinyBin() []byte {
	b := binary.LittleEndian.AppendUint32(nil, tagFP32)
	for i := range 12 {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(i)))
	}
	return b
}

// writePair writes a .param/.bin pair to a temporary directory.
func writePair(t *testing.T, param string, bin []byte) (string, string) {
	t.Helper()
	dir := t.TempDir()
	p, b := filepath.Join(dir, "m.param"), filepath.Join(dir, "m.bin")
	if err := os.WriteFile(p, []byte(param), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b, bin, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

func TestTinyImports(t *testing.T) {
	p, b := writePair(t, tinyParam, tinyBin())
	_, stats, err := Import(p, b)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Params != 12 || stats.Layers != 2 {
		t.Errorf("stats = %+v, want 12 params, 2 layers", stats)
	}
}

// Every import error is one line that names the file and says what is wrong.
func TestImportErrors(t *testing.T) {
	bin := tinyBin()
	cases := []struct {
		name, param string
		bin         []byte
		file        string // "param" or "bin": the file the message must name
		want        string
	}{
		{"wrong magic", strings.Replace(tinyParam, "7767517", "7767518", 1), bin, "param", "not an ncnn text .param file"},
		{"truncated bin", tinyParam, bin[:len(bin)-5], "bin", "truncated"},
		{"truncated before tag", tinyParam, nil, "bin", "truncated"},
		{"trailing data", tinyParam, append(bin, 0, 0, 0, 0), "bin", "trailing data"},
		{"unknown layer", strings.Replace(tinyParam, "Convolution      conv0", "Deconvolution    deconv0", 1), bin, "param",
			`layer Deconvolution deconv0: unsupported layer type "Deconvolution"`},
		{"malformed line", strings.Replace(tinyParam, "0 1 data", "0 x data", 1), bin, "param", "bad blob counts"},
		{"missing blobs", strings.Replace(tinyParam, "1 1 data out", "1 3 data out", 1), bin, "param", "declares 1 inputs and 3 outputs"},
		{"bad key", tinyParam[:len(tinyParam)-1] + " zz\n", bin, "param", `bad parameter "zz"`},
		{"layer count", strings.Replace(tinyParam, "2 2", "3 2", 1), bin, "param", "header declares 3 layers, file has 2"},
		{"sigmoid activation", strings.Replace(tinyParam, "6=9", "6=9 9=4", 1), bin, "param", "fused activation 4 (sigmoid) is not supported"},
		{"int8 weights", tinyParam, append(binary.LittleEndian.AppendUint32(nil, tagInt8), bin[4:]...), "bin", "int8-quantized"},
		{"unknown tag", tinyParam, append(binary.LittleEndian.AppendUint32(nil, 0x12345678), bin[4:]...), "bin", "unsupported weight tag 0x12345678"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, b := writePair(t, c.param, c.bin)
			_, _, err := Import(p, b)
			if err == nil {
				t.Fatal("imported without error")
			}
			msg := err.Error()
			t.Log(msg)
			file := map[string]string{"param": p, "bin": b}[c.file]
			if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, file+": ") || !strings.Contains(msg, c.want) {
				t.Errorf("error %q: want one line starting %q and containing %q", msg, file+": ", c.want)
			}
		})
	}
}

func TestHalfToFloat(t *testing.T) {
	cases := map[uint16]float32{
		0x0000: 0, 0x3c00: 1, 0xc000: -2, 0x3555: 0.333251953125, 0x7bff: 65504,
		0x0001: 1.0 / (1 << 24), 0x8400: -1.0 / (1 << 14),
	}
	for h, want := range cases {
		if got := halfToFloat(h); got != want {
			t.Errorf("halfToFloat(%#04x) = %g, want %g", h, got, want)
		}
	}
	if !math.IsInf(float64(halfToFloat(0x7c00)), 1) || !math.IsNaN(float64(halfToFloat(0x7e00))) {
		t.Error("inf/NaN not preserved")
	}
}

func TestArrayKeys(t *testing.T) {
	l, err := parseLayer("Eltwise e 2 1 a b c 0=1 -23301=2,2.000000e-01,1.000000e+00")
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.floatsParam(1)
	if err != nil || len(got) != 2 || got[0] != 0.2 || got[1] != 1 {
		t.Errorf("key 1 = %v, %v; want [0.2 1]", got, err)
	}
	if _, err := parseLayer("Eltwise e 2 1 a b c -23301=3,1,2"); err == nil {
		t.Error("array with wrong count parsed")
	}
}

// FuzzParseParam: no .param text may panic the parser (run with -fuzz=FuzzParseParam).
func FuzzParseParam(f *testing.F) {
	f.Add([]byte(tinyParam))
	f.Add([]byte("7767517\n1 1\nEltwise e 2 1 a b c 0=1 -23301=2,2.0e-01,1.0\n"))
	f.Add([]byte("7767517\n"))
	f.Add([]byte("7767517\n1 1\nX y -1 99999999999 a\n"))
	if data, err := os.ReadFile(filepath.Join(upscaylDir(), "realesrgan-x4fast.param")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		layers, err := parseParam(data, "fuzz.param")
		if err != nil {
			return
		}
		for i := range layers { // the typed accessors must not panic either
			l := &layers[i]
			for k := range l.Params {
				_, _ = l.intParam(k, 0)
				_, _ = l.floatParam(k, 0)
				_, _ = l.floatsParam(k)
			}
		}
	})
}
