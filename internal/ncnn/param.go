// Package ncnn imports ncnn models (a .param text file plus a .bin weight file) as ONNX, so that
// the Real-ESRGAN family published in ncnn format can run on the same ONNX Runtime path as the
// native exports.
package ncnn

import (
	"fmt"
	"strconv"
	"strings"
)

// paramMagic opens every text .param file.
const paramMagic = "7767517"

// arrayKeyBase: a key ≤ −23300 holds an array for key −(k+23300), as "count,v1,v2,…".
const arrayKeyBase = -23300

// maxBlobs bounds a layer's input/output counts so a corrupt line cannot make us allocate
// without limit; real models use a handful.
const maxBlobs = 1 << 16

// layer is one line of a .param file.
type layer struct {
	Type, Name      string
	Inputs, Outputs []string
	Params          map[int]value
	Line            int // 1-based line in the .param file, for messages
}

// value is one k=v entry: a scalar or an array, kept as text until a layer asks for a type,
// because the .param syntax does not say whether a number is an int or a float.
type value struct {
	Scalar string
	Array  []string
	IsArr  bool
}

// parseParam reads a text .param file. name is used in messages only.
func parseParam(data []byte, name string) ([]layer, error) {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) != paramMagic {
		return nil, fmt.Errorf("%s: not an ncnn text .param file (first line must be %s)", name, paramMagic)
	}
	if len(lines) < 2 {
		return nil, fmt.Errorf("%s: line 2: missing \"layer_count blob_count\"", name)
	}
	count, err := parseHeader(lines[1])
	if err != nil {
		return nil, fmt.Errorf("%s: line 2: %v", name, err)
	}
	var layers []layer
	for i := 2; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == "" {
			continue
		}
		l, err := parseLayer(lines[i])
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", name, i+1, err)
		}
		l.Line = i + 1
		layers = append(layers, l)
	}
	if len(layers) != count {
		return nil, fmt.Errorf("%s: header declares %d layers, file has %d", name, count, len(layers))
	}
	return layers, nil
}

func parseHeader(line string) (layers int, err error) {
	f := strings.Fields(line)
	if len(f) != 2 {
		return 0, fmt.Errorf("want \"layer_count blob_count\", got %q", line)
	}
	layers, err1 := strconv.Atoi(f[0])
	blobs, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || layers < 0 || blobs < 0 {
		return 0, fmt.Errorf("want two counts, got %q", line)
	}
	return layers, nil
}

// parseLayer reads "Type Name nIn nOut in… out… k=v…".
func parseLayer(line string) (layer, error) {
	f := strings.Fields(line)
	if len(f) < 4 {
		return layer{}, fmt.Errorf("want \"Type Name nIn nOut …\", got %q", truncate(line))
	}
	l := layer{Type: f[0], Name: f[1], Params: map[int]value{}}
	nIn, err1 := strconv.Atoi(f[2])
	nOut, err2 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || nIn < 0 || nOut < 0 || nIn > maxBlobs || nOut > maxBlobs {
		return layer{}, fmt.Errorf("layer %s %s: bad blob counts %q %q", l.Type, l.Name, f[2], f[3])
	}
	rest := f[4:]
	// Blob names come before the first k=v; counting them catches a count that would
	// otherwise silently swallow parameters as blob names.
	blobs := len(rest)
	for i, tok := range rest {
		if strings.Contains(tok, "=") {
			blobs = i
			break
		}
	}
	if blobs != nIn+nOut {
		return layer{}, fmt.Errorf("layer %s %s: declares %d inputs and %d outputs but names %d blobs",
			l.Type, l.Name, nIn, nOut, blobs)
	}
	l.Inputs, l.Outputs = rest[:nIn], rest[nIn:nIn+nOut]
	for _, kv := range rest[nIn+nOut:] {
		if err := l.addParam(kv); err != nil {
			return layer{}, fmt.Errorf("layer %s %s: %v", l.Type, l.Name, err)
		}
	}
	return l, nil
}

func (l *layer) addParam(kv string) error {
	k, v, ok := strings.Cut(kv, "=")
	key, err := strconv.Atoi(k)
	if !ok || err != nil || v == "" {
		return fmt.Errorf("bad parameter %q (want key=value)", truncate(kv))
	}
	if key > arrayKeyBase {
		l.Params[key] = value{Scalar: v}
		return nil
	}
	items := strings.Split(v, ",")
	n, err := strconv.Atoi(items[0])
	if err != nil || n != len(items)-1 {
		return fmt.Errorf("bad array parameter %q (want count,v1,v2,…)", truncate(kv))
	}
	l.Params[arrayKeyBase-key] = value{Array: items[1:], IsArr: true}
	return nil
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// intParam returns key k as an int, or def when absent.
func (l *layer) intParam(k, def int) (int, error) {
	v, ok := l.Params[k]
	if !ok {
		return def, nil
	}
	if v.IsArr {
		return 0, l.errorf("parameter %d is an array, want an integer", k)
	}
	n, err := strconv.Atoi(v.Scalar)
	if err != nil {
		return 0, l.errorf("parameter %d=%s is not an integer", k, v.Scalar)
	}
	return n, nil
}

// floatParam returns key k as a float, or def when absent.
func (l *layer) floatParam(k int, def float32) (float32, error) {
	v, ok := l.Params[k]
	if !ok {
		return def, nil
	}
	if v.IsArr {
		return 0, l.errorf("parameter %d is an array, want a number", k)
	}
	f, err := strconv.ParseFloat(v.Scalar, 32)
	if err != nil {
		return 0, l.errorf("parameter %d=%s is not a number", k, v.Scalar)
	}
	return float32(f), nil
}

// floatsParam returns array key k, or nil when absent.
func (l *layer) floatsParam(k int) ([]float32, error) {
	v, ok := l.Params[k]
	if !ok {
		return nil, nil
	}
	if !v.IsArr {
		return nil, l.errorf("parameter %d is not an array", k)
	}
	out := make([]float32, len(v.Array))
	for i, s := range v.Array {
		f, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return nil, l.errorf("parameter %d item %d=%s is not a number", k, i, s)
		}
		out[i] = float32(f)
	}
	return out, nil
}

// errorf names the layer, so every message points at the line to look at.
func (l *layer) errorf(format string, args ...any) error {
	return fmt.Errorf("line %d: layer %s %s: %s", l.Line, l.Type, l.Name, fmt.Sprintf(format, args...))
}
