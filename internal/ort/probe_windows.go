//go:build windows

package ort

// libraryVersion is not probed on Windows; onnxruntime_go's own error reports an old library.
func libraryVersion(path string) (string, error) { return "", nil }
