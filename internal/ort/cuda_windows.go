//go:build windows

package ort

import (
	"strconv"

	onnx "github.com/yalue/onnxruntime_go"
)

// appendCUDA adds the CUDA provider with the settings cuda_unix.go explains, through
// onnxruntime_go, for a Windows build of ONNX Runtime with CUDA in its core.
func (d device) appendCUDA(lib string, opts *onnx.SessionOptions) error {
	cuda, err := onnx.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer cuda.Destroy()
	err = cuda.Update(map[string]string{"device_id": strconv.Itoa(d.gpu),
		"cudnn_conv_algo_search": "EXHAUSTIVE", "arena_extend_strategy": "kSameAsRequested"})
	if err != nil {
		return err
	}
	return opts.AppendExecutionProviderCUDA(cuda)
}
