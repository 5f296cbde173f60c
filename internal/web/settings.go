package web

import (
	"bytes"
	"net/http"

	"dream/internal/job"
	"dream/internal/models"
)

// settings tells the page the shell's defaults and choices, so that its forms start where
// a bare prompt line does.
func (s *Server) settings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"defaults": map[string]any{
			"steps":           job.DefaultSteps,
			"iterations":      1,
			"width":           job.DefaultSize,
			"height":          job.DefaultSize,
			"cfg":             job.DefaultCFGScale,
			"sampler":         job.DefaultSampler,
			"vae":             job.DefaultVAE,
			"strength":        job.DefaultStrength,
			"upscaleStrength": job.DefaultUpscaleStrength,
			"faceTool":        job.DefaultFaceTool,
			"fidelity":        job.DefaultFidelity,
			"faceColor":       job.FaceColours[0],
		},
		"samplers":        job.Samplers,
		"samplerDefaults": samplerDefaults(),
		"vaes":            job.VAEs,
		"faceTools":       job.FaceTools,
		"upscalers":       job.Upscalers,
		"faceColors":      job.FaceColours,
		"formats":         job.Formats,
		"qualities":       map[string]int{"jpg": job.DefaultJPEGQuality, "webp": job.DefaultWebPQuality},
		"limits": map[string][2]float64{"steps": {job.MinSteps, job.MaxSteps}, "size": {job.MinSize, job.MaxSize},
			"cfg": {job.MinCFGScale, job.MaxCFGScale}},
		"maxUploadBytes": s.cfg.MaxUpload,
		"outdir":         s.cfg.Outdir,
	})
}

// samplerDefaults are the steps and guidance each sampler gets from a line that leaves them
// out (lcm has its own), so that the page's fields follow the sampler as the shell's
// defaults do.
func samplerDefaults() map[string]map[string]float64 {
	out := make(map[string]map[string]float64, len(job.Samplers))
	for _, name := range job.Samplers {
		steps, cfgScale := job.SamplerDefaults(name)
		out[name] = map[string]float64{"steps": float64(steps), "cfg": cfgScale}
	}
	return out
}

// models is what !models prints: each model, installed or missing, and where it goes, as the
// pipeline resolves it (a launch flag's file counts); and what the page may offer (see
// offer.go).
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	var text bytes.Buffer
	models.WriteList(&text, s.cfg.ModelDir, s.cfg.Pipeline.Models())
	writeJSON(w, http.StatusOK, map[string]any{"text": text.String(), "offer": s.offer()})
}
