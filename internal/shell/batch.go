package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"dream/internal/batch"
	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pipeline"
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
	// writeErr is the error that stopped the run because no result can be written (a full
	// disk, a folder that refuses writes): every later item would compute in vain.
	writeErr error
	// leftOut counts dream's own results in the folders listed, which are no items.
	leftOut int
	// undecodable are the inputs that failed as no image or a damaged one: they fail again on
	// every run, --resume included, which the summary says.
	undecodable []string
}

// RunLines runs the lines of a file (--from_file): every line that makes images is an item,
// and a !fix line naming a folder or a pattern is one item per image. This process does the
// items shard owns; with Resume, items whose results exist are skipped. Each item prints one
// line, and a summary ends the run.
func (s *Shell) RunLines(ctx context.Context, lines []string, shard batch.Shard) {
	stop := s.cancelJobsOnInterrupt()
	defer stop()
	plan := batch.Plan(lines, s.Pipeline.Outdir)
	if shard.Count > 1 || shard.From != "" {
		fmt.Fprintf(s.Err, "shard %s (from %s): %s of %d\n", shard, shard.From, count(owned(plan.Entries, shard), "item"), plan.Items)
	}
	s.runEntries(ctx, plan, shard)
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
func (s *Shell) runEntries(ctx context.Context, plan batch.Planned, shard batch.Shard) {
	entries := plan.Entries
	run := &batchRun{verb: "running", unit: "item", total: owned(entries, shard), start: time.Now(), leftOut: plan.LeftOut}
	if allFixes(entries) {
		run.verb, run.unit = "fixing", "image"
	}
	done := s.alreadyDone(entries, shard)
	s.setRun(run)
	defer s.setRun(nil)
	if err := s.checkOutdirs(entries, shard, done); err != nil {
		run.writeErr = err
		s.countFailure()
		fmt.Fprintf(s.Err, "error: %s\n", oneLine(err))
		s.summarise(run)
		return
	}
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
		case e.Skip != "":
			run.skipped++
			s.logItem(s.Out, "skipped %s: %s", e.Source(), e.Skip)
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
		if e.Item < 0 || e.Err != nil || e.Skip != "" {
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
				s.itemEnded(run, e, start, []pipeline.Result{res}, asWriteError(err))
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
		if run.writeErr != nil && errors.Is(err, context.Canceled) {
			return // cancelled by the write error that stopped the run: not started, in effect
		}
		run.failed++
		s.Failures++
		if errors.Is(err, context.Canceled) {
			err = errors.New("cancelled; nothing more was written")
		}
		s.logLocked(s.Err, "%s", batch.ItemFailed(e.Source(), oneLine(err)))
		if errors.Is(err, imageio.ErrNotImage) || errors.Is(err, imageio.ErrDamaged) {
			run.undecodable = append(run.undecodable, e.Source())
		}
		if run.writeErr == nil && batch.StopsBatch(err) {
			s.stopAtWriteErrorLocked(run, err)
		}
		return
	}
	run.done++
	var outputs []string
	for _, res := range results {
		outputs = append(outputs, res.Path)
	}
	s.logLocked(s.Out, "%s", batch.ItemOK(e.Source(), outputs, time.Since(start)))
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
	text := run.tally().Summary(time.Now())
	if left := run.tally().Left(); left > 0 && run.writeErr == nil {
		s.NotStarted += left // stopped by Ctrl-C or SIGTERM; a write error counts as a failure
	}
	if run.leftOut > 0 {
		text += fmt.Sprintf("; left out %s of earlier fixes", count(run.leftOut, "result"))
	}
	if n := len(run.undecodable); n > 0 {
		// Nothing records the failure, so a resubmitted job meets it again and exits 1 again.
		them := "them"
		if n == 1 {
			them = "it"
		}
		fmt.Fprintf(s.Err, "note: %s cannot be decoded and will fail on every run, --resume too (%s): repair or move %s away\n",
			count(n, "input"), strings.Join(run.undecodable, ", "), them)
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
func (run *batchRun) status() string { return run.tally().Status() }

// tally is the run's count as package batch writes it, for the web page's batches too.
func (run *batchRun) tally() batch.Tally {
	return batch.Tally{Verb: run.verb, Unit: run.unit, Total: run.total, Done: run.done, Skipped: run.skipped,
		Failed: run.failed, Start: run.start, LastEnd: run.lastEnd}
}

// checkOutdirs makes sure the output folders of the items this shard will run can be written,
// before the first one is computed.
func (s *Shell) checkOutdirs(entries []batch.Entry, shard batch.Shard, done map[int]string) error {
	checked := map[string]bool{}
	for i, e := range entries {
		if e.Item < 0 || !shard.Owns(e.Item) || done[i] != "" || e.Err != nil || e.Skip != "" {
			continue
		}
		dir := s.Pipeline.Outdir(e.Job)
		if checked[dir] {
			continue
		}
		checked[dir] = true
		if err := batch.CheckWritable(dir); err != nil {
			return err
		}
	}
	return nil
}

// asWriteError marks the error of saving a result (see batch.StopsBatch).
func asWriteError(err error) error { return batch.AsWriteError(err) }

// stopAtWriteErrorLocked stops a run whose results cannot be written (a full disk): the item
// running is cancelled, no other starts, and one line says how far the run came and how to
// finish it. The caller holds s.mu.
func (s *Shell) stopAtWriteErrorLocked(run *batchRun, err error) {
	run.writeErr = err
	run.stop = true
	if s.cancel != nil {
		s.cancel()
	}
	finish := "run the same batch again with --resume"
	if s.ResumeCommand != "" {
		finish = s.ResumeCommand
	}
	left := run.total - run.done - run.skipped - run.failed
	s.logLocked(s.Err, "error: stopped, as no result can be written (%s): %d of %d done, %d not started; once that is fixed, finish with: %s",
		oneLine(err), run.done+run.skipped, run.total, left, finish)
}
