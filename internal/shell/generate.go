package shell

import (
	"context"
	"errors"
	"fmt"
	"time"

	"dream/internal/batch"
	"dream/internal/job"
	"dream/internal/pipeline"
)

// generate runs a prompt line: references to earlier seeds and images are resolved, every
// file checked, and the pipeline generates. Images finished before a cancel or a failure are
// kept, and listed.
func (s *Shell) generate(parent context.Context, j job.Job) {
	if err := s.resolveReferences(&j); err != nil {
		s.fail(err)
		return
	}
	err := s.withJobContext(parent, j.Line, func(ctx context.Context) error {
		start := time.Now()
		results, err := s.Pipeline.Generate(ctx, j)
		s.endProgress()
		for _, res := range results {
			s.report(res)
		}
		if err != nil && len(results) > 0 && errors.Is(err, context.Canceled) {
			fmt.Fprintln(s.Err, "cancelled; nothing more was written")
			return err
		}
		if s.finished(err) && len(results) > 1 {
			fmt.Fprintf(s.Out, "%d images in %.1fs\n", len(results), time.Since(start).Seconds())
		}
		return err
	})
	if errors.Is(err, errNotStarted) {
		s.finished(err)
	}
}

// report prints one generated image and remembers its seed and file for -S -N and -I -N.
func (s *Shell) report(res pipeline.Result) {
	for _, note := range res.Notes {
		fmt.Fprintln(s.Err, "note:", note)
	}
	s.seeds = append(s.seeds, res.Seed)
	s.outputs = append(s.outputs, res.Path)
	fmt.Fprintf(s.Out, "wrote %s (%dx%d, seed %d)", res.Path, res.W, res.H, res.Seed)
	if res.Original != "" {
		fmt.Fprintf(s.Out, "; original kept as %s", res.Original)
	}
	fmt.Fprintln(s.Out)
}

// resolveReferences turns -S -N and -I -N into the seed and image they point back to.
func (s *Shell) resolveReferences(j *job.Job) error {
	if back := j.Seed.Back; back > 0 {
		if back > len(s.seeds) {
			return fmt.Errorf("-S -%d: this session has used %s so far", back, batch.Count(len(s.seeds), "seed"))
		}
		j.Seed = job.Seed{Value: s.seeds[len(s.seeds)-back], Set: true}
	}
	if back := j.InitBack; back > 0 {
		if back > len(s.outputs) {
			return fmt.Errorf("-I -%d: this session has written %s so far", back, batch.Count(len(s.outputs), "image"))
		}
		j.InitImage, j.InitBack = s.outputs[len(s.outputs)-back], 0
	}
	return nil
}
