package sd

import (
	"context"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/ort"
)

// encodePrompt returns the text embeddings of the batch [unconditional, conditional]: the
// empty prompt, then the prompt. truncated says the prompt was longer than the encoder takes.
func (m *Model) encodePrompt(ctx context.Context, prompt string) (embeddings []float32, truncated bool, err error) {
	uncond, _ := m.tokenizer.Pad("")
	cond, truncated := m.tokenizer.Pad(prompt)
	ids, err := onnx.NewTensor(onnx.NewShape(2, ContextLength), append(uncond, cond...))
	if err != nil {
		return nil, false, err
	}
	defer ids.Destroy()
	hidden, err := onnx.NewEmptyTensor[float32](onnx.NewShape(2, ContextLength, HiddenSize))
	if err != nil {
		return nil, false, err
	}
	defer hidden.Destroy()
	pooled, err := onnx.NewEmptyTensor[float32](onnx.NewShape(2, HiddenSize))
	if err != nil {
		return nil, false, err
	}
	defer pooled.Destroy()

	s, err := m.rt.Session(m.path(TextEncoderFile), textEncoderContract)
	if err != nil {
		return nil, false, err
	}
	defer m.releaseUnlessKept(s)
	if err := s.Run(ctx, []ort.Value{ids}, []ort.Value{hidden, pooled}); err != nil {
		return nil, false, err
	}
	return append([]float32(nil), hidden.GetData()...), truncated, nil
}
