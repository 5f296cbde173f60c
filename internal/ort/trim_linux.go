//go:build linux && cgo

package ort

// #include <malloc.h>
import "C"

// trimHeap hands the C heap's free pages back to the system. Without ONNX Runtime's arena, a
// run's buffers are freed to glibc's malloc, which keeps the smaller ones in its heap for
// later; trimming makes the memory a run needed leave the process's RSS when it ends.
func trimHeap() { C.malloc_trim(0) }
