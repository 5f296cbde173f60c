# dream — see README.md. Every target installs what it needs first.
GO      ?= go
BIN     := bin/dream
ARGS    ?=
# CUDA=1 makes `make ort` install ONNX Runtime's CUDA build too (see README, GPU).
CUDA    ?=

# The version a release or cross-build stamps into dream (dream --version, every PNG's
# sd-metadata); a plain `go build` takes it from the commit instead (internal/version).
VERSION ?= 0.1.0-$(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(if $(shell git status --porcelain --untracked-files=no 2>/dev/null),-dirty)
# The other platforms dream is built for here (scripts/cross_build says how).
CROSS   := windows/amd64 linux/arm64 darwin/arm64 darwin/amd64

.PHONY: run build test bench ort models vet clean cross vet-cross release

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
	@scripts/install_cross_tools >/dev/null
	@scripts/wine/setup >/dev/null
	@scripts/fetch_upscayl_models >/dev/null
	@test -z "$$(gofmt -l cmd internal)" || { echo "gofmt would change:"; gofmt -l cmd internal; exit 1; }
	$(GO) vet ./...
	@$(MAKE) --no-print-directory vet-cross cross
	$(GO) test -count=1 -timeout 30m ./...
	WINEPREFIX=$$(scripts/wine/setup) WINEDEBUG=-all CGO_ENABLED=1 GOOS=windows CC=x86_64-w64-mingw32-gcc \
	  $(GO) test -count=1 -exec wine ./internal/imageio ./internal/pngmeta ./internal/batch ./internal/job
	$(GO) test -count=1 -race -timeout 30m ./internal/shell/ ./internal/ort/ ./internal/imageio/ ./internal/pipeline/ ./internal/upscale/ ./internal/face/ ./internal/models/ ./internal/clip/ ./internal/sd/ ./internal/sampler/ ./internal/queue/ ./internal/web/ ./internal/progress/

# Builds dream for every other platform into bin/cross (Go's build cache keeps it quick).
cross:
	@mkdir -p bin/cross
	@for t in $(CROSS); do \
	  out=bin/cross/dream_$$(echo $$t | tr / _)$$(case $$t in windows/*) echo .exe;; esac); \
	  start=$$(date +%s); \
	  scripts/cross_build $$t $$out "-ldflags=-X dream/internal/version.Version=$(VERSION)" || exit 1; \
	  echo "built $$out in $$(( $$(date +%s) - start )) s"; \
	done

# go vet for every other platform, cgo included.
vet-cross:
	@for t in $(CROSS); do scripts/cross_build --vet $$t || { echo "go vet failed for $$t"; exit 1; }; done

# dist/dream_VERSION_OS_ARCH.{zip,tar.gz} and dist/SHA256SUMS (scripts/release).
release:
	@scripts/install_cross_tools >/dev/null
	scripts/release $(VERSION)

bench: ort build
	$(GO) run ./cmd/dream-bench

clean:
	rm -rf bin dist
