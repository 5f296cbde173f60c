// Package pipeline runs a Job: load (or generate) an image, upscale it, restore its faces, and
// save the result with its metadata. It owns the models, loaded once on first use and reused
// by every later job.
package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"dream/internal/face"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/ort"
	"dream/internal/sd"
	"dream/internal/upscale"
)

// Config is what the launch flags decide.
type Config struct {
	Outdir   string // where results go (--outdir)
	ModelDir string // --models / $DREAM_MODELS
	// Upscaler is the key of models.Upscalers used for ×4 (and ×2 without an x2 model).
	Upscaler string
	// UpscalerPath names one model file for every upscale (--esrgan_model_path).
	UpscalerPath string
	// Tile is --esrgan_bg_tile, in input pixels; 0 chooses it from the memory budget.
	Tile int
	// MaxMemory is --max_memory: the bytes a model's working set may take, which sizes the
	// upscaler's tiles. 0 means GPUMaxMemory for a model that runs on CUDA, DefaultMaxMemory
	// for one on the CPU.
	MaxMemory int64
	// RestorerPaths overrides the face restorer's file per -ft name (--gfpgan_model_path,
	// --codeformer_model_path).
	RestorerPaths map[string]string
	// GFPGANVersion picks gfpgan_VERSION.onnx for -ft gfpgan (--gfpgan_version; default 1.4).
	GFPGANVersion string
	// SDModel is the Stable Diffusion export's folder (--sd_model); empty means the one in
	// the model directory.
	SDModel string
	// KeepModels keeps the text encoder and VAE loaded between uses (see sd.Policy).
	KeepModels bool
	// TiledDecode decodes generated images in tiles even up to 512×512 (--tiled_decode).
	TiledDecode bool
	// NoUpscale and NoRestore are --no_upscale and --no_restore: those models are never loaded.
	NoUpscale, NoRestore bool
	// Format and Quality are --format and --quality: the file format of every result whose
	// line gives none ("" for each result's natural one, see outputFor) and the quality of
	// JPEG and WebP results (0 for the format's default).
	Format  string
	Quality int
	// Runtime opens ONNX Runtime; it is called on the first job that needs a model, so the
	// shell starts without loading the library.
	Runtime func() (*ort.Runtime, error)
	// Progress, when set, is told how far long work has come.
	Progress func(task Task, done, total int)
}

// Task names a piece of long work for its progress bar, and what its count counts.
type Task struct {
	Name string // "upscaling ×4", "generating 2/3"
	Unit string // "tiles", "steps"
	// Part and Parts place a task in a series of like tasks done one after another, the
	// images of a -n line, so that a bar can tell the time the whole series has left. Part
	// counts from 0; Parts is 0 for a task on its own.
	Part, Parts int
	// PerUnit, when over 1, says the task counts in fractions of a unit: the upscaler
	// counts upscale.ProgressPerTile to a tile, so that a bar moves within a tile that
	// takes minutes. 0 counts whole units.
	PerUnit int
}

// Pipeline runs jobs one at a time.
type Pipeline struct {
	cfg Config
	// ramBudget is --max_memory, or its default for a model on the CPU, known at start.
	ramBudget int64
	rt        *ort.Runtime
	// lean is rt with sessions that give their memory back after each run (upscaleRuntime).
	lean      *ort.Runtime
	upscalers map[string]*upscale.Model // by model path
	restorers map[string]*face.Restorer // by model path
	detector  face.Detector
	sd        *sd.Model
	hashMu    sync.Mutex
	hashes    map[string]string // sha256 of model files, by path
	saving    sync.WaitGroup    // the save FixThenSave left running
	swept     map[string]bool   // output folders cleared of stale temp files (prepareOutdir)
}

// New returns a pipeline; nothing is loaded until a job needs it.
func New(cfg Config) *Pipeline {
	if cfg.Upscaler == "" {
		cfg.Upscaler = models.DefaultUpscaler
	}
	ram := cfg.MaxMemory
	if ram <= 0 {
		ram = DefaultMaxMemory()
	}
	return &Pipeline{cfg: cfg, ramBudget: ram, upscalers: map[string]*upscale.Model{}, restorers: map[string]*face.Restorer{},
		hashes: map[string]string{}, swept: map[string]bool{}}
}

// Result describes a file the pipeline wrote.
type Result struct {
	Path string
	W, H int
	Seed uint32 // generated images only
	// Original is the unprocessed image kept beside Path (--save_orig).
	Original string
	// Notes are things the user should know that did not stop the job, such as an image
	// without faces under -G.
	Notes []string
}

// ModelDir is the folder the pipeline loads models from.
func (p *Pipeline) ModelDir() string { return p.cfg.ModelDir }

// Outdir is the folder j writes into: its -o, else the launch --outdir.
func (p *Pipeline) Outdir(j job.Job) string { return p.outdir(j) }

func (p *Pipeline) outdir(j job.Job) string {
	if j.Outdir != "" {
		return j.Outdir
	}
	return p.cfg.Outdir
}

// Resolve finds a path as typed: relative to the working directory, then to the job's output
// directory.
func (p *Pipeline) Resolve(path string, j job.Job) (string, error) {
	if _, err := os.Stat(path); err == nil || filepath.IsAbs(path) {
		return path, nil
	}
	inOutdir := filepath.Join(p.outdir(j), path)
	if _, err := os.Stat(inOutdir); err == nil {
		return inOutdir, nil
	}
	return "", fmt.Errorf("no such file: %s (looked in the working directory and in %s)", path, p.outdir(j))
}

func (p *Pipeline) runtime() (*ort.Runtime, error) {
	if p.rt != nil {
		return p.rt, nil
	}
	if p.cfg.Runtime == nil {
		return nil, errors.New("no ONNX Runtime configured")
	}
	rt, err := p.cfg.Runtime()
	if err != nil {
		return nil, err
	}
	p.rt = rt
	return rt, nil
}

// report tells the progress callback, when there is one, how far a task has come.
func (p *Pipeline) report(task Task, done, total int) {
	if p.cfg.Progress != nil {
		p.cfg.Progress(task, done, total)
	}
}
