//go:build !linux || !cgo

package ort

// trimHeap does nothing where glibc's malloc_trim does not exist: the allocator there returns
// memory on its own terms.
func trimHeap() {}
