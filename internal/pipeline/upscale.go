package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"

	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/pngmeta"
	"dream/internal/upscale"
)

// -U makes any size from 1 to 8 times the image's (a factor, or !fix's -W/-H). The network
// runs at its own scale, ×2 or ×4, and a Lanczos filter resizes its output to the exact size,
// as Real-ESRGAN's --outscale does. Beyond the network's scale it runs twice: ×8 is ×4, then ×2
// (or ×4 and a shrink) on the result. Each pass takes the ×2 model when what is left is ×2 or
// less and one is installed (it is made for ×2, where a ×4 model's output is shrunk), else the
// ×4 model. The strength blend is always made from the original image.

// planUpscale finds the model files -U needs, before any work starts: main, the ×4 model
// (or --esrgan_model_path's file, whatever its scale), and twoTimes, a ×2 model when one is
// installed. A factor of 2 or less needs only the ×2 model when it is there; main is then the
// ×2 model too. A line that names its network (--esrgan_model, lineModel) gets that one for
// every pass: whoever picks general-x4v3 for speed does not want x2plus's slower passes.
func (p *Pipeline) planUpscale(u job.Upscale, lineModel string) (main, twoTimes string, err error) {
	name := cmp.Or(lineModel, p.cfg.Upscaler)
	if p.cfg.UpscalerPath != "" && name == p.cfg.Upscaler {
		if _, err := os.Stat(p.cfg.UpscalerPath); err != nil {
			return "", "", fmt.Errorf("model %s (from --esrgan_model_path) not found", p.cfg.UpscalerPath)
		}
		return p.cfg.UpscalerPath, "", nil
	}
	file, ok := models.Upscalers[name]
	if !ok {
		return "", "", fmt.Errorf("unknown upscaler %q: use x4plus or general-x4v3", name)
	}
	if lineModel != "" {
		main, err = models.LocateOrImport(p.cfg.ModelDir, file)
		return main, "", err
	}
	twoTimes, _ = models.LocateOrImport(p.cfg.ModelDir, models.RealESRGANx2plus)
	if twoTimes != "" && !u.Targets() && u.Factor <= 2 {
		return twoTimes, twoTimes, nil
	}
	main, err = models.LocateOrImport(p.cfg.ModelDir, file)
	return main, twoTimes, err
}

// checkUpscaleSize refuses, before any work, a -U whose result would break a limit: each side
// 1 to 8 times the image's (job.Upscale.Size), at most imageio.MaxPixels (what dream can read
// back), and, with -G, the image's aspect ratio kept, since faces are found on the original
// and pasted at one scale. It returns the result's size.
func checkUpscaleSize(j job.Job, w, h int) (outW, outH int, err error) {
	if outW, outH, err = j.Upscale.Size(w, h); err != nil {
		return 0, 0, err
	}
	if int64(outW)*int64(outH) > imageio.MaxPixels {
		return 0, 0, fmt.Errorf("upscaling %d×%d to %d×%d would make %d megapixels, over dream's limit of %d: ask for a smaller size",
			w, h, outW, outH, int64(outW)*int64(outH)/1_000_000, imageio.MaxPixels/1_000_000)
	}
	if j.Restores() && stretched(w, h, outW, outH) {
		return 0, 0, errors.New("-G needs the image's aspect ratio kept, and -W with -H changes it: give one of them, or leave -G out")
	}
	return outW, outH, nil
}

// stretched reports whether w×h enlarged to outW×outH changes its aspect ratio by more than
// the rounding of one side.
func stretched(w, h, outW, outH int) bool {
	wide := float64(outW) / float64(w) * float64(h) // the height that keeps the aspect ratio
	tall := float64(outH) / float64(h) * float64(w)
	return max(wide-float64(outH), float64(outH)-wide) > 1 && max(tall-float64(outW), float64(outW)-tall) > 1
}

// upscaleStep runs -U when the job asks for it, in one or two passes of the network.
func (p *Pipeline) upscaleStep(ctx context.Context, img *imageio.Image, j job.Job, plan postprocessing) (*imageio.Image, []pngmeta.Step, error) {
	if plan.upscaler == "" {
		return img, nil, nil
	}
	outW, outH, err := checkUpscaleSize(j, img.W, img.H)
	if err != nil {
		return nil, nil, err
	}
	passes := upscalePasses(img.W, img.H, outW, outH)
	if err := checkUpscaleMemory(img.W, img.H, img.Channels, img.Depth, outW, outH, AvailableMemory(),
		p.upscaleWorkingSet(plan, img, outW, outH, passes)); err != nil {
		return nil, nil, err
	}
	original := img
	var first string
	for pass := 1; ; pass++ {
		path := plan.network(img.W, img.H, outW, outH)
		if first == "" {
			first = path
		}
		opts := upscale.Options{Strength: 1, Tile: p.cfg.Tile, Budget: p.ramBudget}
		p.showUpscale(&opts, path, img, j.Upscale, outW, outH, pass, passes)
		m, err := p.upscaler(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		final := max(float64(outW)/float64(img.W), float64(outH)/float64(img.H)) <= float64(m.Scale)
		if final {
			opts.Width, opts.Height, opts.Strength = outW, outH, j.Upscale.Strength
			if img != original {
				opts.Plain = original
			}
		} else {
			opts.Factor = float64(m.Scale)
		}
		opts.Budget = p.budgetFor(m.Session)
		if img, err = m.Upscale(ctx, img, opts); err != nil {
			return nil, nil, err
		}
		if final {
			break
		}
	}
	step := pngmeta.Step{Type: "esrgan", Strength: j.Upscale.Strength, Model: p.modelRef(first)}
	if j.Upscale.Targets() {
		step.Width, step.Height = outW, outH
	} else {
		step.Scale = j.Upscale.Factor
	}
	return img, []pngmeta.Step{step}, nil
}

// network is the model file that runs the next pass of w×h to outW×outH: the ×2 one, when
// there is one, where ×2 is all that is left to do.
func (plan postprocessing) network(w, h, outW, outH int) string {
	need := max(float64(outW)/float64(w), float64(outH)/float64(h))
	if plan.twoTimes != "" && need <= 2 {
		return plan.twoTimes
	}
	return plan.upscaler
}

// upscaleWorkingSet is the memory the network takes beside the images of an upscale: for one
// pass, its window for this image, which for a small image is far less than --max_memory;
// for two, the budget, as the second pass runs on the ×4 image.
func (p *Pipeline) upscaleWorkingSet(plan postprocessing, img *imageio.Image, outW, outH, passes int) int64 {
	if passes > 1 {
		return p.ramBudget
	}
	opts := upscale.Options{Tile: p.cfg.Tile, Budget: p.ramBudget}
	return min(p.ramBudget, upscale.WorkingSet(plan.network(img.W, img.H, outW, outH), img.W, img.H, opts))
}

// upscalePasses is how many times the network runs for w×h to outW×outH, counted for a ×4
// network: once up to ×4, twice beyond. (A ×2 model alone, from --esrgan_model_path, takes
// more; the bar then counts on.)
func upscalePasses(w, h, outW, outH int) int {
	if outW > 4*w || outH > 4*h {
		return 2
	}
	return 1
}

// showUpscale gives opts a progress callback for pass of passes, and shows the bar before the
// model loads, which takes a second or more the first time.
func (p *Pipeline) showUpscale(opts *upscale.Options, path string, img *imageio.Image, u *job.Upscale, outW, outH, pass, passes int) {
	if p.cfg.Progress == nil {
		return
	}
	name := fmt.Sprintf("upscaling ×%g", u.Factor)
	if u.Targets() {
		name = fmt.Sprintf("upscaling to %d×%d", outW, outH)
	}
	if passes > 1 {
		name += fmt.Sprintf(", pass %d of %d", pass, max(pass, passes))
	}
	task := Task{Name: name, Unit: "tiles", PerUnit: upscale.ProgressPerTile}
	opts.Progress = func(done, total int) { p.cfg.Progress(task, done, total) }
	opts.Progress(0, upscale.ProgressPerTile*upscale.Tiles(path, img.W, img.H, *opts))
}
