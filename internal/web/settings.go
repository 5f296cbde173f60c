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
			"strength":        job.DefaultStrength,
			"upscaleStrength": job.DefaultUpscaleStrength,
			"faceTool":        job.DefaultFaceTool,
			"fidelity":        job.DefaultFidelity,
		},
		"samplers":       job.Samplers,
		"faceTools":      job.FaceTools,
		"limits":         map[string][2]float64{"steps": {job.MinSteps, job.MaxSteps}, "size": {job.MinSize, job.MaxSize}, "cfg": {1, job.MaxCFGScale}},
		"maxUploadBytes": s.cfg.MaxUpload,
		"outdir":         s.cfg.Outdir,
	})
}

// models is what !models prints: each model, installed or missing, and where it goes.
func (s *Server) models(w http.ResponseWriter, r *http.Request) {
	var text bytes.Buffer
	models.WriteStatus(&text, s.cfg.ModelDir)
	writeJSON(w, http.StatusOK, map[string]string{"text": text.String()})
}
