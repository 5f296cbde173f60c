//go:build !windows

package ort

/*
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>

// The few CUDA driver API calls dream needs, by their stable versioned names (cuda.h).
typedef int (*cu_init)(unsigned int);
typedef int (*cu_device_get)(int *, int);
typedef int (*cu_device_get_name)(char *, int, int);
typedef int (*cu_device_total_mem)(size_t *, int);
typedef int (*cu_primary_ctx_retain)(void **, int);
typedef int (*cu_primary_ctx_release)(int);
typedef int (*cu_ctx_push)(void *);
typedef int (*cu_ctx_pop)(void **);
typedef int (*cu_mem_get_info)(size_t *, size_t *);

// dream_gpu_info fills in the name, total and free memory of CUDA device ordinal. It returns
// 0 on success; otherwise err holds the reason. Free memory needs a context: the device's
// primary context, the one ONNX Runtime's CUDA provider works in, is retained for the query
// and released after, so it is not created and torn down again when ONNX Runtime holds it.
static int dream_gpu_info(int ordinal, char *name, int name_len, size_t *total, size_t *free_mem,
                          char *err, int err_len) {
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(err, err_len, "%s", dlerror());
		return 1;
	}
	cu_init init = (cu_init) dlsym(h, "cuInit");
	cu_device_get device_get = (cu_device_get) dlsym(h, "cuDeviceGet");
	cu_device_get_name get_name = (cu_device_get_name) dlsym(h, "cuDeviceGetName");
	cu_device_total_mem total_mem = (cu_device_total_mem) dlsym(h, "cuDeviceTotalMem_v2");
	cu_primary_ctx_retain retain = (cu_primary_ctx_retain) dlsym(h, "cuDevicePrimaryCtxRetain");
	cu_primary_ctx_release release = (cu_primary_ctx_release) dlsym(h, "cuDevicePrimaryCtxRelease_v2");
	cu_ctx_push push = (cu_ctx_push) dlsym(h, "cuCtxPushCurrent_v2");
	cu_ctx_pop pop = (cu_ctx_pop) dlsym(h, "cuCtxPopCurrent_v2");
	cu_mem_get_info mem_info = (cu_mem_get_info) dlsym(h, "cuMemGetInfo_v2");
	if (!init || !device_get || !get_name || !total_mem || !retain || !release || !push || !pop || !mem_info) {
		snprintf(err, err_len, "libcuda.so.1 lacks a driver API function dream needs; update the NVIDIA driver");
		return 1;
	}
	int dev, rc;
	if ((rc = init(0)) != 0 || (rc = device_get(&dev, ordinal)) != 0 || (rc = get_name(name, name_len, dev)) != 0 ||
	    (rc = total_mem(total, dev)) != 0) {
		snprintf(err, err_len, "the CUDA driver answered error %d", rc);
		return 1;
	}
	void *ctx = NULL, *popped = NULL;
	if ((rc = retain(&ctx, dev)) != 0) {
		snprintf(err, err_len, "the CUDA driver answered error %d", rc);
		return 1;
	}
	size_t total_again = 0;
	rc = push(ctx);
	if (rc == 0) {
		rc = mem_info(free_mem, &total_again);
		pop(&popped);
	}
	release(dev);
	if (rc != 0) {
		snprintf(err, err_len, "the CUDA driver answered error %d", rc);
		return 1;
	}
	return 0;
}
*/
import "C"

import (
	"fmt"
)

// gpuInfo asks the NVIDIA driver (libcuda.so.1, through its C API) for the name and memory of
// CUDA device number n. The driver numbers devices as the CUDA runtime and so ONNX Runtime
// do, CUDA_VISIBLE_DEVICES included, which nvidia-smi's numbers need not follow.
func gpuInfo(n int) (GPU, error) {
	var name [256]C.char
	var errBuf [512]C.char
	var total, free C.size_t
	if C.dream_gpu_info(C.int(n), &name[0], C.int(len(name)), &total, &free, &errBuf[0], C.int(len(errBuf))) != 0 {
		return GPU{}, fmt.Errorf("cannot ask the NVIDIA driver about GPU %d: %s", n, C.GoString(&errBuf[0]))
	}
	return GPU{Number: n, Name: C.GoString(&name[0]), Total: uint64(total), Free: uint64(free)}, nil
}
