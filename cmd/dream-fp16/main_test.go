package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dream/internal/onnxpb"
	"dream/internal/testenv"
)

func TestConvert(t *testing.T) {
	in := testenv.Shared("models", "realesr-general-x4v3.onnx")
	out := filepath.Join(t.TempDir(), "general-x4v3.fp16.onnx")
	if err := convert(in, out); err != nil {
		t.Fatal(err)
	}
	ins, outs, err := onnxpb.ReadSignature(out)
	if err != nil {
		t.Fatal(err)
	}
	if ins[0].ElemType != onnxpb.Float16 || outs[0].ElemType != onnxpb.Float16 {
		t.Errorf("converted model's signature %+v → %+v, want float16", ins, outs)
	}
	before, _ := os.Stat(in)
	after, _ := os.Stat(out)
	if ratio := float64(after.Size()) / float64(before.Size()); ratio < 0.45 || ratio > 0.55 {
		t.Errorf("the float16 file is %.2f of the float32 one, want about half", ratio)
	}

	bad := filepath.Join(t.TempDir(), "bad.onnx")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := convert(bad, out); err == nil || !strings.HasPrefix(err.Error(), bad+": ") {
		t.Errorf("converting a text file: %v, want an error naming it", err)
	}
}
