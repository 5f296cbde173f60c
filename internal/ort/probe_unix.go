//go:build !windows

package ort

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// The first two members of OrtApiBase, stable across every ONNX Runtime release.
typedef struct {
	const void *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} dream_api_base;

typedef const dream_api_base *(*dream_get_base)(void);

// dream_library_version loads the library and copies its version string into buf. It returns
// 0 on success, 1 when the library cannot be loaded, 2 when it is not ONNX Runtime. The
// library stays loaded: onnxruntime_go opens the same file next and shares the handle.
static int dream_library_version(const char *path, char *buf, size_t size) {
	void *handle = dlopen(path, RTLD_LAZY);
	if (!handle) return 1;
	dream_get_base get_base = (dream_get_base) dlsym(handle, "OrtGetApiBase");
	if (!get_base) return 2;
	const dream_api_base *base = get_base();
	if (!base || !base->GetVersionString) return 2;
	strncpy(buf, base->GetVersionString(), size - 1);
	buf[size - 1] = 0;
	return 0;
}

static const char *dream_dlerror(void) {
	const char *msg = dlerror();
	return msg ? msg : "unknown error";
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// libraryVersion asks the library for its version before onnxruntime_go initialises it: the
// wrapper reports an old library only as "error setting ORT API base", and we want to say which
// version was found.
func libraryVersion(path string) (string, error) {
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	var buf [64]C.char
	switch C.dream_library_version(cPath, &buf[0], C.size_t(len(buf))) {
	case 0:
		return C.GoString(&buf[0]), nil
	case 1:
		return "", fmt.Errorf("cannot load ONNX Runtime library %s: %s", path, C.GoString(C.dream_dlerror()))
	default:
		return "", fmt.Errorf("%s is not an ONNX Runtime library (it has no OrtGetApiBase): %s", path, installHint)
	}
}
