package ncnn

import (
	"context"
	"encoding/binary"
	"math"
	"path/filepath"
	"testing"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/ort"
)

// opsParam exercises the layers the real models leave out or use in only one form: fp16
// weights with a fused LeakyReLU, ReLU with a slope, a single-slope PReLU, a weighted
// Eltwise sum, BinaryOp with a scalar, Concat and PixelShuffle.
const opsParam = `7767517
9 11
Input        in   0 1 data
Split        sp   1 3 data a b c
Convolution  conv 1 1 a c1 0=3 1=1 5=1 6=9 9=2 -23310=1,5.000000e-01
ReLU         relu 1 1 b r1 0=1.000000e-01
PReLU        pr   1 1 c p1 0=1
Eltwise      sum  3 1 c1 r1 p1 e1 0=1 -23301=3,1.0,2.0,1.0
BinaryOp     sub  1 1 e1 s1 0=1 1=1 2=5.000000e-01
Concat       cat  4 1 s1 s1 s1 s1 cat 0=0
PixelShuffle ps   1 1 cat out 0=2
`

// Conv weights [out][in], as fp16 bit patterns of exactly representable values.
var (
	opsWeights = [3][3]float32{{0.5, -1, 0.25}, {1, 0, 2}, {-0.5, 0.5, 1}}
	opsHalf    = map[float32]uint16{0: 0, 0.5: 0x3800, -1: 0xbc00, 0.25: 0x3400, 1: 0x3c00, 2: 0x4000, -0.5: 0xb800}
	opsBias    = [3]float32{0.1, -0.2, 0.3}
	opsSlope   = float32(0.25)
)

func opsBin() []byte {
	b := binary.LittleEndian.AppendUint32(nil, tagFP16)
	for _, row := range opsWeights {
		for _, w := range row {
			b = binary.LittleEndian.AppendUint16(b, opsHalf[w])
		}
	}
	b = append(b, 0, 0) // 9 halves = 18 bytes, padded to 20
	for _, v := range append(opsBias[:], opsSlope) {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// opsReference computes opsParam's output for x [3][h][w] the long way.
func opsReference(x [][][]float32) [][][]float32 {
	h, w := len(x[0]), len(x[0][0])
	leaky := func(v, s float32) float32 {
		if v > 0 {
			return v
		}
		return v * s
	}
	s1 := make([][][]float32, 3)
	for o := range 3 {
		s1[o] = make([][]float32, h)
		for y := range h {
			s1[o][y] = make([]float32, w)
			for xx := range w {
				conv := opsBias[o]
				for i := range 3 {
					conv += opsWeights[o][i] * x[i][y][xx]
				}
				v := x[o][y][xx]
				s1[o][y][xx] = leaky(conv, 0.5) + 2*leaky(v, 0.1) + leaky(v, opsSlope) - 0.5
			}
		}
	}
	// Concat of four copies, then DepthToSpace CRD: out[c][2y+i][2x+j] = in[4c+2i+j].
	out := make([][][]float32, 3)
	for c := range 3 {
		out[c] = make([][]float32, 2*h)
		for y := range 2 * h {
			out[c][y] = make([]float32, 2*w)
			for xx := range 2 * w {
				out[c][y][xx] = s1[(4*c+2*(y%2)+xx%2)%3][y/2][xx/2]
			}
		}
	}
	return out
}

func TestOpsMatchReference(t *testing.T) {
	p, b := writePair(t, opsParam, opsBin())
	onnxPath := filepath.Join(t.TempDir(), "ops.onnx")
	if err := ImportFile(p, b, onnxPath); err != nil {
		t.Fatal(err)
	}
	const h, w = 2, 3
	x := make([][][]float32, 3)
	var flat []float32
	for c := range 3 {
		x[c] = make([][]float32, h)
		for y := range h {
			x[c][y] = make([]float32, w)
			for xx := range w {
				x[c][y][xx] = float32(c*h*w+y*w+xx)/4 - 2 // negatives exercise the slopes
				flat = append(flat, x[c][y][xx])
			}
		}
	}
	got := runOps(t, onnxPath, flat, h, w)
	want := opsReference(x)
	i := 0
	for c := range 3 {
		for y := range 2 * h {
			for xx := range 2 * w {
				if d := math.Abs(float64(got[i] - want[c][y][xx])); d > 1e-5 {
					t.Errorf("out[%d][%d][%d] = %g, want %g", c, y, xx, got[i], want[c][y][xx])
				}
				i++
			}
		}
	}
}

// runOps runs the model once on a [1,3,h,w] input and returns the [1,3,2h,2w] output.
func runOps(t *testing.T, path string, in []float32, h, w int64) []float32 {
	t.Helper()
	s, err := testRuntime.Session(path, ort.Contract{
		Inputs:  []ort.Tensor{{Name: InputName, Type: ort.Float32, Dims: []int64{1, 3, ort.Any, ort.Any}}},
		Outputs: []ort.Tensor{{Name: OutputName, Type: ort.Float32, Dims: []int64{1, 3, ort.Any, ort.Any}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	inT, err := onnx.NewTensor(onnx.NewShape(1, 3, h, w), in)
	if err != nil {
		t.Fatal(err)
	}
	defer inT.Destroy()
	outT, err := onnx.NewEmptyTensor[float32](onnx.NewShape(1, 3, 2*h, 2*w))
	if err != nil {
		t.Fatal(err)
	}
	defer outT.Destroy()
	if err := s.Run(context.Background(), []ort.Value{inT}, []ort.Value{outT}); err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), outT.GetData()...)
}
