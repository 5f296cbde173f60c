package pipeline

import "dream/internal/models"

// Models is every model of the manifest, installed or missing, as this pipeline resolves it:
// a model that a launch flag names a file for (--gfpgan_model_path, --codeformer_model_path,
// --esrgan_model_path, --sd_model) is listed at that file, the one a job loads, not at the
// model folder's path (!models and the page list it).
func (p *Pipeline) Models() []models.Installed {
	list := models.Status(p.cfg.ModelDir)
	for i, s := range list {
		if path, flag := p.flagFor(s.Entry); path != "" {
			list[i] = models.StatusAt(s.Entry, path)
			list[i].From = flag
		}
	}
	return list
}

// flagFor is the file a launch flag gives in the stead of entry's, and that flag; "" when
// none does. Each follows the lookup its model's loader makes (restorerPath, planUpscale,
// stableDiffusion).
func (p *Pipeline) flagFor(e models.Entry) (path, flag string) {
	switch {
	case e.File == p.restorerFile("gfpgan") && p.cfg.RestorerPaths["gfpgan"] != "":
		return p.cfg.RestorerPaths["gfpgan"], "--gfpgan_model_path"
	case e.File == models.FaceRestorers["codeformer"] && p.cfg.RestorerPaths["codeformer"] != "":
		return p.cfg.RestorerPaths["codeformer"], "--codeformer_model_path"
	case e.File == models.Upscalers[p.cfg.Upscaler] && p.cfg.UpscalerPath != "":
		return p.cfg.UpscalerPath, "--esrgan_model_path"
	case e.File == models.StableDiffusion && p.cfg.SDModel != "":
		return p.cfg.SDModel, "--sd_model"
	}
	return "", ""
}
