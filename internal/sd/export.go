package sd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// SchedulerConfigFile is the scheduler's config of a diffusers export. dream reads two of its
// fields: how the UNet's output is to be read, and SD-Turbo's timestep spacing.
const SchedulerConfigFile = "scheduler/scheduler_config.json"

// schedulerConfig is what dream uses of SchedulerConfigFile.
type schedulerConfig struct {
	// PredictionType is "epsilon" (SD 1.x, SD 2.x base, SD-Turbo, LCM) or "v_prediction"
	// (SD 2.x at 768).
	PredictionType string `json:"prediction_type"`
	// TimestepSpacing "trailing" (SD-Turbo) puts the k-samplers on trailing timesteps.
	TimestepSpacing string `json:"timestep_spacing"`
}

// readSchedulerConfig reads the export's scheduler config. An export without one is an SD 1.x
// export as dream has always read them: ε-prediction, k-diffusion's spacing.
func readSchedulerConfig(dir string) (schedulerConfig, error) {
	path := filepath.Join(dir, SchedulerConfigFile)
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return schedulerConfig{PredictionType: "epsilon"}, nil
	}
	if err != nil {
		return schedulerConfig{}, err
	}
	var c schedulerConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return schedulerConfig{}, fmt.Errorf("%s: not valid JSON (%v)", path, err)
	}
	switch c.PredictionType {
	case "":
		c.PredictionType = "epsilon" // diffusers' default
	case "epsilon", "v_prediction":
	default:
		return schedulerConfig{}, fmt.Errorf("%s: prediction_type %q: dream runs epsilon and v_prediction UNets", path, c.PredictionType)
	}
	return c, nil
}

// unetShape is what the UNet's declared inputs say about the export: the width of the text
// embeddings it takes (768 for SD 1.x, 1024 for SD 2.x) and, for LCM-distilled UNets, the
// width of the guidance embedding it takes as timestep_cond (0 when it has none).
type unetShape struct {
	hidden       int
	timestepCond int
}

// TimestepCondInput is the name of the guidance-embedding input of LCM-distilled UNets.
const TimestepCondInput = "timestep_cond"

// describeUNet reads the UNet's declared inputs (from the file, in milliseconds) once, and
// checks that the text encoder gives embeddings of the width the UNet takes.
func (m *Model) describeUNet() (unetShape, error) {
	if m.shape.hidden != 0 {
		return m.shape, nil
	}
	ins, _, err := m.rt.Describe(m.path(UNetFile))
	if err != nil {
		return unetShape{}, err
	}
	var shape unetShape
	for _, in := range ins {
		dims := in.Dimensions
		switch {
		case in.Name == "encoder_hidden_states" && len(dims) == 3:
			shape.hidden = int(dims[2])
		case in.Name == TimestepCondInput && len(dims) == 2:
			shape.timestepCond = int(dims[1])
		}
	}
	if shape.hidden <= 0 {
		return unetShape{}, fmt.Errorf("%s: the UNet has no encoder_hidden_states input of a fixed width [batch, 77, width]", m.path(UNetFile))
	}
	_, outs, err := m.rt.Describe(m.path(TextEncoderFile))
	if err != nil {
		return unetShape{}, err
	}
	if dims := outs[0].Dimensions; len(dims) == 3 && dims[2] > 0 && int(dims[2]) != shape.hidden {
		return unetShape{}, fmt.Errorf("%s takes encoder_hidden_states %d wide, but %s gives %d: the export mixes parts of different Stable Diffusion versions",
			m.path(UNetFile), shape.hidden, m.path(TextEncoderFile), dims[2])
	}
	m.shape = shape
	return shape, nil
}
