package sd

import (
	"context"

	onnx "github.com/yalue/onnxruntime_go"

	"dream/internal/ort"
)

// encodePrompt returns the text embeddings of the prompt, after those of the empty prompt
// when withEmpty (classifier-free guidance needs both: the batch [unconditional,
// conditional]). truncated says the prompt was longer than the encoder takes.
func (m *Model) encodePrompt(ctx context.Context, prompt string, withEmpty bool) (embeddings []float32, truncated bool, err error) {
	shape, err := m.describeUNet()
	if err != nil {
		return nil, false, err
	}
	ids, truncated := m.tokenizer.Pad(prompt)
	if withEmpty {
		empty, _ := m.tokenizer.Pad("")
		ids = append(empty, ids...)
	}
	batch := int64(len(ids) / ContextLength)
	in, err := onnx.NewTensor(onnx.NewShape(batch, ContextLength), ids)
	if err != nil {
		return nil, false, err
	}
	defer in.Destroy()
	hidden, err := onnx.NewEmptyTensor[float32](onnx.NewShape(batch, ContextLength, int64(shape.hidden)))
	if err != nil {
		return nil, false, err
	}
	defer hidden.Destroy()
	s, err := m.openTextEncoder(shape.hidden)
	if err != nil {
		return nil, false, err
	}
	defer m.releaseUnlessKept(s)
	outputs := []ort.Value{hidden}
	if len(s.Outputs) == 2 {
		pooled, err := onnx.NewEmptyTensor[float32](onnx.NewShape(batch, int64(shape.hidden)))
		if err != nil {
			return nil, false, err
		}
		defer pooled.Destroy()
		outputs = append(outputs, pooled)
	}
	if err := s.Run(ctx, []ort.Value{in}, outputs); err != nil {
		return nil, false, err
	}
	return append([]float32(nil), hidden.GetData()...), truncated, nil
}

// openTextEncoder opens the text encoder, for embeddings hidden wide. diffusers' export also
// outputs the pooled embedding, which Stable Diffusion does not use; exports without it are
// accepted too. The model is described once, not every time the policy reopens it.
func (m *Model) openTextEncoder(hidden int) (*ort.Session, error) {
	path := m.path(TextEncoderFile)
	if m.textEncoderOutputs == 0 {
		_, outs, err := m.rt.Describe(path)
		if err != nil {
			return nil, err
		}
		m.textEncoderOutputs = len(outs)
	}
	contract := textEncoderContract(hidden)
	if m.textEncoderOutputs == 1 {
		contract.Outputs = contract.Outputs[:1]
	}
	return m.rt.Session(path, contract)
}
