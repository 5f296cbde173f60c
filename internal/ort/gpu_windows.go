//go:build windows

package ort

import "errors"

// gpuInfo is not asked on Windows, where dream does not install the CUDA build.
func gpuInfo(n int) (GPU, error) {
	return GPU{}, errors.New("dream cannot ask the NVIDIA driver about a GPU on Windows")
}
