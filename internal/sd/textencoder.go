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
	s, err := m.openTextEncoder()
	if err != nil {
		return nil, false, err
	}
	defer m.releaseUnlessKept(s)
	outputs := []ort.Value{hidden}
	if len(s.Outputs) == 2 {
		pooled, err := onnx.NewEmptyTensor[float32](onnx.NewShape(2, HiddenSize))
		if err != nil {
			return nil, false, err
		}
		defer pooled.Destroy()
		outputs = append(outputs, pooled)
	}
	if err := s.Run(ctx, []ort.Value{ids}, outputs); err != nil {
		return nil, false, err
	}
	return append([]float32(nil), hidden.GetData()...), truncated, nil
}

// openTextEncoder opens the text encoder. diffusers' export also outputs the pooled
// embedding, which SD 1.x does not use; exports without it are accepted too. The model is
// described once, not every time the policy reopens it.
func (m *Model) openTextEncoder() (*ort.Session, error) {
	path := m.path(TextEncoderFile)
	if m.textEncoderOutputs == 0 {
		_, outs, err := m.rt.Describe(path)
		if err != nil {
			return nil, err
		}
		m.textEncoderOutputs = len(outs)
	}
	contract := textEncoderContract
	if m.textEncoderOutputs == 1 {
		contract.Outputs = contract.Outputs[:1]
	}
	return m.rt.Session(path, contract)
}
