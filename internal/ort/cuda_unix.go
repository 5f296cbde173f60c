//go:build !windows

package ort

/*
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// OrtCUDAProviderOptions of ONNX Runtime's C API (onnxruntime_c_api.h), field for field.
typedef struct {
	int device_id;
	int cudnn_conv_algo_search; // OrtCudnnConvAlgoSearch: 0 exhaustive, 1 heuristic, 2 default
	size_t gpu_mem_limit;
	int arena_extend_strategy; // 0 kNextPowerOfTwo, 1 kSameAsRequested
	int do_copy_in_default_stream;
	int has_user_compute_stream;
	void *user_compute_stream;
	void *default_memory_arena_cfg;
	int tunable_op_enable;
	int tunable_op_tuning_enable;
	int tunable_op_max_tuning_duration_ms;
} dream_cuda_options;

typedef struct {
	const void *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} dream_api_base2;

// Positions in the OrtApi table of the functions used here; the table only ever grows at its
// end, so they hold for every release that serves API version 24.
enum { dream_api_version = 24, dream_get_error_message = 2, dream_release_status = 93, dream_append_cuda_v1 = 152 };

typedef void *(*dream_append_fn)(void *options, const dream_cuda_options *cuda);
typedef const char *(*dream_message_fn)(const void *status);
typedef void (*dream_release_fn)(void *status);

// dream_append_cuda appends the CUDA provider to a session's options through
// SessionOptionsAppendExecutionProvider_CUDA, the form every build with the provider bridge
// serves. It returns 0, or 1 with ONNX Runtime's message in err.
static int dream_append_cuda(const char *lib, void *options, const dream_cuda_options *cuda, char *err, size_t err_len) {
	void *handle = dlopen(lib, RTLD_NOW | RTLD_NOLOAD);
	if (!handle) {
		snprintf(err, err_len, "%s is not loaded", lib);
		return 1;
	}
	const dream_api_base2 *(*get_base)(void) = (const dream_api_base2 *(*)(void)) dlsym(handle, "OrtGetApiBase");
	dlclose(handle); // the library stays loaded: onnxruntime_go holds it
	void *const *api = get_base ? (void *const *) get_base()->GetApi(dream_api_version) : NULL;
	if (!api) {
		snprintf(err, err_len, "%s does not serve the ONNX Runtime API version %d", lib, dream_api_version);
		return 1;
	}
	void *status = ((dream_append_fn) api[dream_append_cuda_v1])(options, cuda);
	if (status) {
		snprintf(err, err_len, "%s", ((dream_message_fn) api[dream_get_error_message])(status));
		((dream_release_fn) api[dream_release_status])(status);
		return 1;
	}
	return 0;
}
*/
import "C"

import (
	"errors"
	"path/filepath"
	"reflect"
	"unsafe"

	onnx "github.com/yalue/onnxruntime_go"
)

// appendCUDA adds the CUDA provider to a session's options. onnxruntime_go appends it through
// CreateCUDAProviderOptions, which only a library built with CUDA in its core serves; the CUDA
// build from npm has a CPU core that loads the provider beside it, and answers that call with
// "CUDA execution provider is not enabled in this build". The older
// SessionOptionsAppendExecutionProvider_CUDA loads the provider in both kinds of build, so
// dream calls it itself, with the options the C struct carries.
func (d device) appendCUDA(lib string, opts *onnx.SessionOptions) error {
	cuda := C.dream_cuda_options{
		device_id: C.int(d.gpu),
		// cuDNN tries every convolution algorithm on the first run of each input shape and
		// keeps the fastest for the session (EXHAUSTIVE). The upscaler runs one window shape
		// per job and Stable Diffusion one latent shape per line, so the search is paid once,
		// then every tile and step gets the fastest kernel rather than a heuristic's guess.
		cudnn_conv_algo_search: 0,
		gpu_mem_limit:          C.size_t(^uint(0)), // no limit but the card's
		// The arena grows by what is asked (kSameAsRequested), not to the next power of two,
		// so a model does not hold far more of the card than it uses, and the tile budget
		// taken from the GPU's free memory stays true for the next model.
		arena_extend_strategy:     1,
		do_copy_in_default_stream: 1, // ONNX Runtime's default
	}
	cLib := C.CString(lib)
	defer C.free(unsafe.Pointer(cLib))
	var errBuf [1024]C.char
	if C.dream_append_cuda(cLib, sessionOptionsPointer(opts), &cuda, &errBuf[0], C.size_t(len(errBuf))) != 0 {
		return loaderReason(lib, errors.New(C.GoString(&errBuf[0])))
	}
	return nil
}

// loaderReason replaces the bare "Failed to load shared library" that appending the CUDA
// provider answers with the dynamic loader's own reason, which ONNX Runtime gives when the
// provider is registered as a library of its own: "… libcublasLt.so.13: cannot open shared
// object file". A provider that loads that way is unregistered again at once.
func loaderReason(lib string, err error) error {
	provider := filepath.Join(filepath.Dir(lib), cudaProviderFile)
	const name = "dream-cuda-check"
	if regErr := onnx.RegisterExecutionProviderLibrary(name, provider); regErr != nil {
		return regErr
	}
	onnx.UnregisterExecutionProviderLibrary(name)
	return err
}

// sessionOptionsPointer is the OrtSessionOptions that onnxruntime_go's SessionOptions wraps,
// its only field (onnxruntime_go v1.27.0; TestAppendCUDAReachesTheProvider fails if that
// changes).
func sessionOptionsPointer(opts *onnx.SessionOptions) unsafe.Pointer {
	return reflect.ValueOf(opts).Elem().Field(0).UnsafePointer()
}
