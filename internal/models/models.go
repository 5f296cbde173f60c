// Package models knows where model files live and what they are called, and says exactly
// which file it expected where when one is missing.
package models

import (
	"fmt"
	"os"
	"path/filepath"

	"dream/internal/ncnn"
	"dream/internal/ort"
)

// EnvDir names the environment variable that sets the model directory.
const EnvDir = "DREAM_MODELS"

// File names of the upscaling models in the model directory.
const (
	RealESRGANx4plus = "realesrgan-x4plus.onnx"
	RealESRGANx2plus = "realesrgan-x2plus.onnx"
	GeneralX4v3      = "realesr-general-x4v3.onnx"
)

// Upscaler choices for the --esrgan_model launch flag: quality (RRDBNet x4plus, the reference
// tool's model) or speed (the compact realesr-general-x4v3, about 20 times faster).
var Upscalers = map[string]string{
	"x4plus":       RealESRGANx4plus,
	"general-x4v3": GeneralX4v3,
}

// DefaultUpscaler is the --esrgan_model default.
const DefaultUpscaler = "x4plus"

// Dir resolves the model directory: the --models flag, else $DREAM_MODELS, else the cache.
func Dir(flag string) string {
	if flag != "" {
		return flag
	}
	if env := os.Getenv(EnvDir); env != "" {
		return env
	}
	return filepath.Join(ort.CacheDir(), "models")
}

// Locate returns the path of a model file in dir, or an error that names the file, the place
// it was expected and how to get it.
func Locate(dir, file string) (string, error) {
	path := filepath.Join(dir, file)
	if info, err := os.Stat(path); err == nil && !info.IsDir() {
		return path, nil
	}
	return "", fmt.Errorf("model %s not found in %s: run 'make models' (scripts/preload_models) or copy the file to %s",
		file, dir, path)
}

// Exists reports whether dir holds file.
func Exists(dir, file string) bool {
	_, err := Locate(dir, file)
	return err == nil
}

// YuNet is the face detector's file: OpenCV Zoo's dynamic-input YuNet export (MIT), which
// ships with dream (see bundled.go).
const YuNet = "face_detection_yunet.onnx"

// FaceRestorers maps each -ft name to its default model file.
var FaceRestorers = map[string]string{
	"gfpgan":     "gfpgan_1.4.onnx",
	"codeformer": "codeformer.onnx",
}

// StableDiffusion is the folder, inside the model directory, that holds a diffusers ONNX
// export of Stable Diffusion 1.x.
const StableDiffusion = "stable-diffusion-v1-5"

// ncnnNames are the ncnn pairs that stand in for a model file when it is missing: upscayl
// and realesrgan-ncnn-vulkan ship Real-ESRGAN as NAME.param + NAME.bin.
var ncnnNames = map[string][]string{
	RealESRGANx4plus: {"realesrgan-x4plus"},
	GeneralX4v3:      {"realesr-general-x4v3", "realesrgan-x4fast"},
	RealESRGANx2plus: {"realesrgan-x2plus"},
}

// LocateOrImport is Locate, except that a missing upscaler whose ncnn pair lies in dir is
// converted to ONNX there first, so a pair dropped into the model directory is usable by name.
func LocateOrImport(dir, file string) (string, error) {
	path, err := Locate(dir, file)
	if err == nil {
		return path, nil
	}
	for _, name := range ncnnNames[file] {
		param, bin := filepath.Join(dir, name+".param"), filepath.Join(dir, name+".bin")
		if !fileExists(param) || !fileExists(bin) {
			continue
		}
		out := filepath.Join(dir, file)
		if importErr := ncnn.ImportFile(param, bin, out); importErr != nil {
			return "", importErr
		}
		return out, nil
	}
	return "", err
}
