package shell

import (
	"context"
	"errors"
	"fmt"
	"time"

	"dream/internal/batch"
	"dream/internal/job"
)

// fix runs !fix: post-process an existing image into NAME.fixed.EXT, EXT the source's
// format unless --format says otherwise.
// A path that names a folder or a pattern fixes every image in it, as a batch.
func (s *Shell) fix(parent context.Context, j job.Job) {
	plan, isBatch := batch.FixEntries(j, s.Pipeline.Outdir(j))
	if len(plan.Entries) == 1 && plan.Entries[0].Err != nil {
		s.fail(plan.Entries[0].Err) // the folder or pattern gave no images, or a named pipe was named
		return
	}
	if isBatch || j.Resume { // one image with --resume is a batch of one: skipped when done
		s.runEntries(parent, plan, batch.All)
		return
	}
	err := s.withJobContext(parent, j.Line, func(ctx context.Context) error {
		start := time.Now()
		res, err := s.Pipeline.Fix(ctx, j)
		s.endProgress()
		if !s.finished(err) {
			return err
		}
		for _, note := range res.Notes {
			fmt.Fprintln(s.Err, "note:", note)
		}
		s.outputs = append(s.outputs, res.Path)
		fmt.Fprintf(s.Out, "wrote %s (%dx%d) in %.1fs\n", res.Path, res.W, res.H, time.Since(start).Seconds())
		return nil
	})
	if errors.Is(err, errNotStarted) {
		s.finished(err)
	}
}
