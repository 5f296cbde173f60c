package pipeline

import (
	"runtime/debug"

	"dream/internal/ort"
)

// upscaleRuntime opens the upscalers' sessions on a runtime whose sessions give their working
// memory back after each run, as Stable Diffusion's do (sd.Open). ONNX Runtime's arena
// would keep the largest window's working set, gigabytes for x4plus, for as long as the
// model stays loaded: after a large job, cancelled or done, dream held it while idle (issue
// 25: 12.3 GB after a 20000² ×2 was cancelled). Allocating it again for each window costs
// little next to the window's run, which takes seconds.
func (p *Pipeline) upscaleRuntime() (*ort.Runtime, error) {
	if p.lean != nil {
		return p.lean, nil
	}
	rt, err := p.runtime()
	if err != nil {
		return nil, err
	}
	if p.lean, err = rt.ReturningMemory(); err != nil {
		return nil, err
	}
	return p.lean, nil
}

// ReleaseMemory gives the memory of a job that ended, done, failed or cancelled, back to the
// system: its decoded image and output buffers are garbage once the job returns, and Go
// would otherwise hand their pages back only over minutes. The front ends call it after each
// job; it costs a garbage collection of what is left, a few milliseconds between jobs.
func (p *Pipeline) ReleaseMemory() {
	debug.FreeOSMemory()
}
