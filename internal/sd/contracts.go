package sd

import "dream/internal/ort"

// What dream needs of each model of the export (SPEC §2.3). Batch and image sizes are free;
// the sequence length and hidden size are CLIP ViT-L/14's, which every SD 1.x UNet takes.
var (
	textEncoderContract = ort.Contract{
		Inputs: []ort.Tensor{{Name: "input_ids", Type: ort.Int32, Dims: []int64{ort.Any, ContextLength}}},
		Outputs: []ort.Tensor{
			{Name: "last_hidden_state", Type: ort.Float32, Dims: []int64{ort.Any, ContextLength, HiddenSize}},
			{Name: "pooler_output", Type: ort.Float32, Dims: []int64{ort.Any, HiddenSize}},
		},
	}
	unetContract = ort.Contract{
		Inputs: []ort.Tensor{
			{Name: "sample", Type: ort.Float32, Dims: []int64{ort.Any, 4, ort.Any, ort.Any}},
			// The timestep's type differs between exporters, so it is read from the model.
			{Name: "timestep", Types: []ort.DataType{ort.Float32, ort.Int64}, Dims: []int64{ort.Any}},
			{Name: "encoder_hidden_states", Type: ort.Float32, Dims: []int64{ort.Any, ContextLength, HiddenSize}},
		},
		Outputs: []ort.Tensor{{Name: "out_sample", Type: ort.Float32, Dims: []int64{ort.Any, 4, ort.Any, ort.Any}}},
	}
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

// UNetContract is what dream needs of an export's UNet, for tools that open one alone.
func UNetContract() ort.Contract { return unetContract }
