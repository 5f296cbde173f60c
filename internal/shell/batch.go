package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"dream/internal/batch"
	"dream/internal/job"
	"dream/internal/pipeline"
	"dream/internal/progress"
)

// batchRun is the state of a run of many items: a file of lines (--from_file) or a !fix line
// that names a folder or a pattern.
type batchRun struct {
	verb, unit            string // "fixing", "images"
	total                 int    // the items this process does
	done, skipped, failed int
	start, lastEnd        time.Time
	// stop is set by the first Ctrl-C: the run ends after the current item.
	stop bool
}

// RunLines runs the lines of a file (--from_file): every line that makes images is an item,
// and a !fix line naming a folder or a pattern is one item per image. This process does the
// items shard owns; with Resume, items whose results exist are skipped. Each item prints one
// line, and a summary ends the run.
func (s *Shell) RunLines(ctx context.Context, lines []string, shard batch.Shard) {
	stop := s.cancelJobsOnInterrupt()
	defer stop()
	entries, items := batch.Plan(lines, s.Pipeline.Outdir)
	if shard.Count > 1 || shard.From != "" {
		fmt.Fprintf(s.Err, "shard %s (from %s): %s of %d\n", shard, shard.From, count(owned(entries, shard), "item"), items)
	}
	s.runEntries(ctx, entries, shard)
}

// owned counts the items shard does.
func owned(entries []batch.Entry, shard batch.Shard) int {
	n := 0
	for _, e := range entries {
		if e.Item >= 0 && shard.Owns(e.Item) {
			n++
		}
	}
	return n
}

// runEntries runs the entries in order: lines that make nothing (comments, !help) as typed,
// the items this shard owns one by one, with one progress line for the whole run.
func (s *Shell) runEntries(ctx context.Context, entries []batch.Entry, shard batch.Shard) {
	run := &batchRun{verb: "running", unit: "item", total: owned(entries, shard), start: time.Now()}
	if allFixes(entries) {
		run.verb, run.unit = "fixing", "image"
	}
	done := s.alreadyDone(entries, shard)
	s.setRun(run)
	defer s.setRun(nil)
	s.drawRun()
	for i, e := range entries {
		if s.stopping() {
			break
		}
		switch {
		case e.Item < 0:
			if quit := s.Handle(ctx, e.Job.Line); quit {
				return
			}
		case !shard.Owns(e.Item):
		case done[i] != "":
			run.skipped++
			s.logItem(s.Out, "skipped %s: %s holds its result", e.Source(), done[i])
		default:
			s.runItem(ctx, e, shard, run)
		}
	}
	s.Pipeline.WaitSaves()
	s.endProgress()
	s.summarise(run)
}

func allFixes(entries []batch.Entry) bool {
	for _, e := range entries {
		if e.Item >= 0 && (e.Err != nil || e.Job.Kind != job.Fix) {
			return false
		}
	}
	return true
}

// alreadyDone finds, with --resume, the items whose results exist, naming one result of each.
// Every item is asked about in order, not only this shard's, so that all shards credit a
// result to the same item.
func (s *Shell) alreadyDone(entries []batch.Entry, shard batch.Shard) map[int]string {
	done := map[int]string{}
	if !s.Resume {
		return done
	}
	resume := batch.NewResume()
	for i, e := range entries {
		if e.Item < 0 || e.Err != nil {
			continue
		}
		commands, seeded, err := s.Pipeline.ResultCommands(e.Job)
		if err != nil {
			continue // the item fails when it runs, with this error
		}
		want := batch.Expected{Commands: commands, Seeded: seeded}
		if ok, example := resume.Done(s.Pipeline.Outdir(e.Job), want); ok && shard.Owns(e.Item) {
			done[i] = example
		}
	}
	return done
}

// runItem runs one item and prints one line for it: ok, with what it wrote, or failed, with
// why. A fix's image is saved while the next item runs (see Pipeline.FixThenSave), so its
// line may come a little later; any other item first waits for that save.
func (s *Shell) runItem(ctx context.Context, e batch.Entry, shard batch.Shard, run *batchRun) {
	start := time.Now()
	if e.Err == nil && e.Job.Kind == job.Fix {
		err := s.withJobContext(ctx, e.Job.FixLine(), func(ctx context.Context) error {
			return s.Pipeline.FixThenSave(ctx, e.Job, func(res pipeline.Result, err error) {
				s.itemEnded(run, e, start, []pipeline.Result{res}, err)
			})
		})
		if err != nil {
			s.itemEnded(run, e, start, nil, err)
		}
		return
	}
	s.Pipeline.WaitSaves()
	results, err := s.itemResults(ctx, e, shard)
	s.itemEnded(run, e, start, results, err)
}

// itemEnded counts an item and prints its line.
func (s *Shell) itemEnded(run *batchRun, e batch.Entry, start time.Time, results []pipeline.Result, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	run.lastEnd = time.Now()
	for _, res := range results {
		if res.Path != "" {
			s.rememberLocked(res, e.Job.Kind == job.Generate)
		}
	}
	if err != nil {
		run.failed++
		s.Failures++
		if errors.Is(err, context.Canceled) {
			err = errors.New("cancelled; nothing more was written")
		}
		s.logLocked(s.Err, "failed %s: %s", e.Source(), oneLine(err))
		return
	}
	run.done++
	var outputs []string
	for _, res := range results {
		outputs = append(outputs, res.Path)
	}
	s.logLocked(s.Out, "ok %s -> %s (%.1f s)", e.Source(), strings.Join(outputs, ", "), time.Since(start).Seconds())
}

// itemResults runs a prompt line (or reports the error of an entry that cannot run).
func (s *Shell) itemResults(parent context.Context, e batch.Entry, shard batch.Shard) ([]pipeline.Result, error) {
	if e.Err != nil {
		return nil, e.Err
	}
	j := e.Job
	if shard.Count > 1 && (j.Seed.Back > 0 || j.InitBack > 0) {
		return nil, errors.New("-S -N and -I -N refer to earlier lines, which other shards run: give the seed or the image itself")
	}
	if err := s.resolveReferences(&j); err != nil {
		return nil, err
	}
	var results []pipeline.Result
	err := s.withJobContext(parent, j.Line, func(ctx context.Context) error {
		var err error
		results, err = s.Pipeline.Generate(ctx, j)
		return err
	})
	return results, err
}

// rememberLocked keeps a result's file for -I -N, and a generated image's seed for -S -N, and
// prints its notes; the caller holds s.mu.
func (s *Shell) rememberLocked(res pipeline.Result, generated bool) {
	for _, note := range res.Notes {
		s.clearLineLocked()
		fmt.Fprintln(s.Err, "note:", note)
	}
	if generated {
		s.seeds = append(s.seeds, res.Seed)
	}
	s.outputs = append(s.outputs, res.Path)
}

// logItem prints a line above the progress line, which is drawn again below it.
func (s *Shell) logItem(w io.Writer, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.logLocked(w, format, args...)
}

func (s *Shell) logLocked(w io.Writer, format string, args ...any) {
	s.clearLineLocked()
	fmt.Fprintf(w, format+"\n", args...)
	s.drawRunLocked()
}

// summarise prints the run's counts: "fixed 18 of 20 images, skipped 0, failed 2 (1m12s)".
func (s *Shell) summarise(run *batchRun) {
	text := fmt.Sprintf("done %d, skipped %d, failed %d of %s in %s",
		run.done, run.skipped, run.failed, count(run.total, run.unit), progress.RoughDuration(time.Since(run.start)))
	if left := run.total - run.done - run.skipped - run.failed; left > 0 {
		text += fmt.Sprintf("; stopped with %d not started", left)
		s.NotStarted += left
	}
	fmt.Fprintln(s.Out, text)
}

// oneLine joins a message's lines, so that each item has exactly one line in the log.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func (s *Shell) setRun(run *batchRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.run = run
}

func (s *Shell) stopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.run != nil && s.run.stop
}

// status is the run's part of the progress line: "fixing 12/340, ETA 20m05s".
func (run *batchRun) status() string {
	finished := run.done + run.skipped + run.failed
	text := fmt.Sprintf("%s %d/%d", run.verb, finished, run.total)
	worked := run.done + run.failed
	if worked > 0 && finished < run.total {
		perItem := run.lastEnd.Sub(run.start) / time.Duration(worked)
		text += ", ETA " + progress.RoughDuration(perItem*time.Duration(run.total-finished))
	}
	return text
}
