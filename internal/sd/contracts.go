package sd

import "dream/internal/ort"

// What dream needs of each model of the export (SPEC §2.3). Batch and image sizes are free;
// the sequence length is CLIP's 77, and the width of the text embeddings is the one the
// UNet declares (768 for SD 1.x's CLIP ViT-L/14, 1024 for SD 2.x's OpenCLIP ViT-H/14).

// textEncoderContract is the text encoder's, for embeddings hidden wide.
func textEncoderContract(hidden int) ort.Contract {
	h := int64(hidden)
	return ort.Contract{
		Inputs: []ort.Tensor{{Name: "input_ids", Type: ort.Int32, Dims: []int64{ort.Any, ContextLength}}},
		Outputs: []ort.Tensor{
			{Name: "last_hidden_state", Type: ort.Float32, Dims: []int64{ort.Any, ContextLength, h}},
			{Name: "pooler_output", Type: ort.Float32, Dims: []int64{ort.Any, h}},
		},
	}
}

// unetContract is the UNet's; an LCM-distilled UNet also takes its guidance embedding.
func unetContract(shape unetShape) ort.Contract {
	c := ort.Contract{
		Inputs: []ort.Tensor{
			{Name: "sample", Type: ort.Float32, Dims: []int64{ort.Any, 4, ort.Any, ort.Any}},
			// The timestep's type differs between exporters, so it is read from the model.
			{Name: "timestep", Types: []ort.DataType{ort.Float32, ort.Int64}, Dims: []int64{ort.Any}},
			{Name: "encoder_hidden_states", Type: ort.Float32, Dims: []int64{ort.Any, ContextLength, int64(shape.hidden)}},
		},
		Outputs: []ort.Tensor{{Name: "out_sample", Type: ort.Float32, Dims: []int64{ort.Any, 4, ort.Any, ort.Any}}},
	}
	if shape.timestepCond > 0 {
		c.Inputs = append(c.Inputs, ort.Tensor{Name: TimestepCondInput, Type: ort.Float32, Dims: []int64{ort.Any, int64(shape.timestepCond)}})
	}
	return c
}

var (
	decoderContract = ort.Contract{
		Inputs:  []ort.Tensor{{Name: "latent_sample", Type: ort.Float32, Dims: []int64{ort.Any, 4, ort.Any, ort.Any}}},
		Outputs: []ort.Tensor{{Name: "sample", Type: ort.Float32, Dims: []int64{ort.Any, 3, ort.Any, ort.Any}}},
	}
	encoderContract = ort.Contract{
		Inputs:  []ort.Tensor{{Name: "sample", Type: ort.Float32, Dims: []int64{ort.Any, 3, ort.Any, ort.Any}}},
		Outputs: []ort.Tensor{{Name: "latent_sample", Type: ort.Float32, Dims: []int64{ort.Any, 4, ort.Any, ort.Any}}},
	}
)

// ContextLength is the number of token ids the text encoder takes.
const ContextLength = 77

// UNetContract is what dream needs of an SD 1.x export's UNet, for tools that open one alone.
func UNetContract() ort.Contract { return unetContract(unetShape{hidden: HiddenSize}) }
