# dream — see README.md. Every target installs what it needs first.
GO      ?= go
BIN     := bin/dream
ARGS    ?=
# CUDA=1 makes `make ort` install ONNX Runtime's CUDA build too (see README, GPU).
CUDA    ?=

.PHONY: run build test bench ort models vet clean

run: ort build models
	./$(BIN) $(ARGS)

build:
	$(GO) build -o $(BIN) ./cmd/dream

# ONNX Runtime from the npm package onnxruntime-node, checked by sha256; with CUDA=1 also the
# CUDA build, in a folder of its own, and the NVIDIA libraries it finds or misses.
ort:
	@scripts/install_onnxruntime >/dev/null
ifeq ($(CUDA),1)
	@scripts/install_onnxruntime --cuda >/dev/null
endif

models: build
	@scripts/preload_models

# The tests also need an ONNX Runtime older than dream supports, to check the message for it,
# and the CUDA build, whose install and library search they check without a GPU.
test: ort
	@scripts/install_onnxruntime 1.20.1 >/dev/null
	@scripts/install_onnxruntime --cuda >/dev/null
	@scripts/install_test_tools
	@scripts/fetch_upscayl_models >/dev/null
	@test -z "$$(gofmt -l cmd internal)" || { echo "gofmt would change:"; gofmt -l cmd internal; exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -race -timeout 30m ./internal/shell/ ./internal/ort/ ./internal/imageio/ ./internal/pipeline/ ./internal/upscale/ ./internal/face/ ./internal/models/ ./internal/clip/ ./internal/sd/ ./internal/sampler/ ./internal/queue/ ./internal/web/ ./internal/progress/

bench: ort build
	$(GO) run ./cmd/dream-bench

clean:
	rm -rf bin
