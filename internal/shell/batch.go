package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"dream/internal/batch"
	"dream/internal/imageio"
	"dream/internal/job"
	"dream/internal/pipeline"
	"dream/internal/queue"
)

// batchRun is the state of a run of many items: a file of lines (--from_file) or a !fix line
// that names a folder or a pattern.
type batchRun struct {
	// Tally counts the items this process does, as package batch writes them, for the web
	// page's batches too.
	batch.Tally
	// stop is set by the first Ctrl-C: the run ends after the current item.
	stop bool
	// writeErr is the error that stopped the run because no result can be written (a full
	// disk, a folder that refuses writes): every later item would compute in vain.
	writeErr error
	// leftOut counts dream's own results in the folders listed, which are no items.
	leftOut int
	// undecodable are the inputs that failed as no image or a damaged one, which fail again
	// on every run: the output folder's list of them (batch.RecordFailed) lets --resume skip
	// them, as the summary says.
	undecodable []string
	// failedLists are the lists that name them; unlisted counts those no list could take.
	failedLists map[string]bool
	unlisted    int
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
		fmt.Fprintf(s.Err, "shard %s (from %s): %s of %d\n", shard, shard.From, batch.Count(owned(plan.Entries, shard), "item"), plan.Items)
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
	run := &batchRun{Tally: batch.Tally{Verb: "running", Unit: "item", Total: owned(entries, shard), Start: time.Now()},
		leftOut: plan.LeftOut}
	if allFixes(entries) {
		run.Verb, run.Unit = "fixing", "image"
	}
	resume := s.planResume(entries, shard)
	defer resume.close(s)
	s.setRun(run)
	defer s.setRun(nil)
	if err := s.checkOutdirs(entries, shard, resume.skip); err != nil {
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
		case resume.skip[i] != "":
			s.skipItem(run, e, resume.skip[i])
		case e.Skip != "":
			s.skipItem(run, e, e.Skip)
		default:
			claim, status := s.claim(resume, i, e, run)
			switch status {
			case claimHeld:
				resume.deferred = append(resume.deferred, i)
			case claimedToRun:
				s.runItem(ctx, e, shard, run, claim)
			}
		}
	}
	s.finishDeferred(ctx, resume, entries, shard, run)
	s.Pipeline.WaitSaves()
	s.endProgress()
	s.noteFailedBefore(resume)
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

// runItem runs one item and prints one line for it: ok, with what it wrote, or failed, with
// why. A fix's image is saved while the next item runs (see Pipeline.FixThenSave), so its
// line may come a little later; any other item first waits for that save. The item's claim,
// if any, is released once it ended.
//
// Each item is a job of the queue, whose ticket gets the item's line and results when the
// item ends (see itemEnded): a fix ends after its job's turn, and meanwhile the next item's
// turn may have begun.
func (s *Shell) runItem(ctx context.Context, e batch.Entry, shard batch.Shard, run *batchRun, claim *batch.Claim) {
	start := time.Now()
	if e.Err == nil && e.Job.Kind == job.Fix {
		var ticket *queue.Ticket // nil when the item never got its turn
		err := s.withTicket(ctx, e.Job.FixLine(), func(ctx context.Context, t *queue.Ticket) ([]queue.Result, error) {
			ticket = t
			return nil, s.Pipeline.FixThenSave(ctx, e.Job, func(res pipeline.Result, err error) {
				s.itemEnded(run, e, start, []pipeline.Result{res}, asWriteError(err), claim, t)
			})
		})
		if err != nil {
			s.itemEnded(run, e, start, nil, err, claim, ticket)
		}
		return
	}
	s.Pipeline.WaitSaves()
	results, ticket, err := s.itemResults(ctx, e, shard)
	s.itemEnded(run, e, start, results, err, claim, ticket)
}

// itemEnded counts an item, prints its line, and logs it with the item's results on the
// item's ticket, if it got one. An input that is no image, or a damaged one, is listed in its
// output folder first (batch.RecordFailed), and only then is the item's claim released: a
// process that takes the claim next finds it listed.
func (s *Shell) itemEnded(run *batchRun, e batch.Entry, start time.Time, results []pipeline.Result, err error,
	claim *batch.Claim, ticket *queue.Ticket) {
	defer claim.Release()
	listed := s.listFailure(e, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	run.LastEnd = time.Now()
	for _, res := range results {
		if res.Path != "" {
			s.rememberLocked(res, e.Job.Kind == job.Generate)
		}
	}
	if err != nil {
		if run.writeErr != nil && errors.Is(err, context.Canceled) {
			return // cancelled by the write error that stopped the run: not started, in effect
		}
		run.Failed++
		s.Failures++
		if errors.Is(err, context.Canceled) {
			err = errors.New("cancelled; nothing more was written")
		}
		line := batch.ItemFailed(e.Source(), oneLine(err))
		s.logLocked(s.Err, "%s", line)
		logOn(ticket, line, results)
		if undecodable(err) {
			run.undecodable = append(run.undecodable, e.Source())
			if listed != "" {
				run.listedIn(listed)
			} else {
				run.unlisted++
			}
		}
		if run.writeErr == nil && batch.StopsBatch(err) {
			s.stopAtWriteErrorLocked(run, err)
		}
		return
	}
	run.Done++
	var outputs []string
	for _, res := range results {
		outputs = append(outputs, res.Path)
	}
	line := batch.ItemOK(e.Source(), outputs, time.Since(start))
	s.logLocked(s.Out, "%s", line)
	logOn(ticket, line, results)
}

// logOn logs an item's line on its ticket, with the images it wrote and their notes; an item
// that never got a ticket (an error found before its turn) has none to log on.
func logOn(ticket *queue.Ticket, line string, results []pipeline.Result) {
	if ticket == nil {
		return
	}
	var written []queue.Result
	var notes []string
	for _, res := range results {
		if res.Path != "" {
			written = append(written, queueResult(res.Path))
		}
		notes = append(notes, res.Notes...)
	}
	ticket.Logged(line, written, notes)
}

// undecodable tells the error of an input that is no image, or a damaged one.
func undecodable(err error) bool {
	return errors.Is(err, imageio.ErrNotImage) || errors.Is(err, imageio.ErrDamaged)
}

// listFailure lists a fix's input that failed as undecodable in its output folder, and
// returns the list's path, or "" when it is not listed; a write that fails only costs the
// skip on the next --resume. An input the list names that was fixed now (it was repaired) is
// taken off it.
func (s *Shell) listFailure(e batch.Entry, err error) string {
	if e.Err != nil || e.Job.Kind != job.Fix {
		return ""
	}
	dir := s.Pipeline.Outdir(e.Job)
	switch {
	case err == nil && batch.ReadFailed(dir).Names(e.Job.Path):
		batch.ForgetFailed(dir, e.Job.Path)
	case undecodable(err) && batch.RecordFailed(dir, e.Job.Path, oneLine(err)) == nil:
		return filepath.Join(dir, batch.FailedListName)
	}
	return ""
}

func (run *batchRun) listedIn(list string) {
	if run.failedLists == nil {
		run.failedLists = map[string]bool{}
	}
	run.failedLists[list] = true
}

// itemResults runs a prompt line (or reports the error of an entry that cannot run), and
// returns its ticket, nil when it never got its turn. The ticket lists the results once the
// item ended (see itemEnded), when they are remembered for -I -N.
func (s *Shell) itemResults(parent context.Context, e batch.Entry, shard batch.Shard) ([]pipeline.Result, *queue.Ticket, error) {
	if e.Err != nil {
		return nil, nil, e.Err
	}
	j := e.Job
	if shard.Count > 1 && (j.Seed.Back > 0 || j.InitBack > 0) {
		return nil, nil, errors.New("-S -N and -I -N refer to earlier lines, which other shards run: give the seed or the image itself")
	}
	if err := s.resolveReferences(&j); err != nil {
		return nil, nil, err
	}
	var results []pipeline.Result
	var ticket *queue.Ticket
	err := s.withTicket(parent, j.Line, func(ctx context.Context, t *queue.Ticket) ([]queue.Result, error) {
		ticket = t
		var err error
		results, err = s.Pipeline.Generate(ctx, j)
		return nil, err
	})
	return results, ticket, err
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
	text := run.Summary(time.Now())
	if left := run.Left(); left > 0 && run.writeErr == nil {
		s.NotStarted += left // stopped by Ctrl-C or SIGTERM; a write error counts as a failure
	}
	if run.leftOut > 0 {
		text += fmt.Sprintf("; left out %s of earlier fixes", batch.Count(run.leftOut, "result"))
	}
	s.noteUndecodable(run)
	fmt.Fprintln(s.Out, text)
}

// noteUndecodable says which inputs could not be decoded, and that --resume skips them from
// now on: without that a resubmitted job would meet them again and exit 1 again.
func (s *Shell) noteUndecodable(run *batchRun) {
	n := len(run.undecodable)
	if n == 0 {
		return
	}
	them := "them"
	if n == 1 {
		them = "it"
	}
	what := fmt.Sprintf("note: %s cannot be decoded (%s)", batch.Count(n, "input"), strings.Join(run.undecodable, ", "))
	if run.unlisted == 0 {
		lists := slices.Sorted(maps.Keys(run.failedLists))
		fmt.Fprintf(s.Err, "%s: listed in %s, so --resume skips %s until %s changed; repair or move %s away\n",
			what, strings.Join(lists, ", "), them, plural(n, "it is", "they are"), them)
		return
	}
	fmt.Fprintf(s.Err, "%s and will fail on every run: repair or move %s away\n", what, them)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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

// checkOutdirs makes sure the output folders of the items this shard will run can be written,
// before the first one is computed; skip holds the items skipped as done.
func (s *Shell) checkOutdirs(entries []batch.Entry, shard batch.Shard, skip map[int]string) error {
	checked := map[string]bool{}
	for i, e := range entries {
		if e.Item < 0 || !shard.Owns(e.Item) || skip[i] != "" || e.Err != nil || e.Skip != "" {
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
	s.logLocked(s.Err, "error: stopped, as no result can be written (%s): %d of %d done, %d not started; once that is fixed, finish with: %s",
		oneLine(err), run.Done+run.Skipped, run.Total, run.Left(), finish)
}
