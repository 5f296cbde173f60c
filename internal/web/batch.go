package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"dream/internal/batch"
	"dream/internal/job"
	"dream/internal/pipeline"
	"dream/internal/queue"
)

// addBatch queues several !fix lines as one job: the images the page's user dropped
// together. Every line is checked before anything is queued, and one the page cannot run
// refuses the request with its error and the switch it is about, as a single line would.
// The job's line in the queue is the lines, one under the other.
func (s *Server) addBatch(w http.ResponseWriter, lines []string) {
	var jobs []job.Job
	var shown, warnings []string
	for _, line := range lines {
		j, err := s.pageJob(line)
		if err == nil && j.Kind != job.Fix {
			err = errors.New("a job of several lines runs !fix lines only: send a prompt on its own")
		}
		if err != nil {
			refuseLine(w, err)
			return
		}
		jobs = append(jobs, j)
		shown = append(shown, j.Line)
		for _, warning := range j.Warnings { // the lines share their switches, and so their warnings
			if !slices.Contains(warnings, warning) {
				warnings = append(warnings, warning)
			}
		}
	}
	ctx, cancel := context.WithCancel(s.ctx)
	ticket := s.cfg.Queue.Add(strings.Join(shown, "\n"), queue.FromPage, cancel, nil)
	go s.runBatch(ctx, cancel, ticket, jobs)
	s.accepted(w, ticket, warnings)
}

// runBatch waits for the job's turn, then fixes its images one by one as the shell fixes the
// images of a folder, with package batch's count and lines: "fixing 2/12, ETA 4m10s" in the
// queue, a line per image as it ends (its results with it), then the summary. An image that
// fails does not stop the others; the cancel button does, and so does an error every later
// image would meet (a full disk). Each image is saved while the next one runs.
func (s *Server) runBatch(ctx context.Context, cancel context.CancelFunc, ticket *queue.Ticket, jobs []job.Job) {
	defer cancel()
	if ticket.Wait(ctx) != nil {
		return // cancelled while it waited; Wait finished it
	}
	b := &pageBatch{server: s, ticket: ticket, cancel: cancel,
		tally: batch.Tally{Verb: "fixing", Unit: "image", Total: len(jobs), Start: time.Now()}}
	b.count()
	if err := batch.CheckWritable(s.cfg.Outdir); err != nil {
		b.stopped = err
	} else {
		for _, j := range jobs {
			if ctx.Err() != nil {
				break
			}
			b.fix(ctx, j)
		}
		s.cfg.Pipeline.WaitSaves()
	}
	ticket.Finish(nil, nil, b.end(ctx))
	s.cfg.Pipeline.ReleaseMemory() // as run does after a single job
}

// pageBatch is a batch job while it runs. An image's end is told from the goroutine that
// saved it, so the count has a lock.
type pageBatch struct {
	server *Server
	ticket *queue.Ticket
	cancel context.CancelFunc

	mu    sync.Mutex
	tally batch.Tally
	// stopped is the error that stopped the batch because no result can be written.
	stopped error
}

// fix runs one image up to its finished result; the result is saved in the background.
func (b *pageBatch) fix(ctx context.Context, j job.Job) {
	start := time.Now()
	source := batch.LogName(b.server.nameInOutdir(j.Path))
	err := b.server.cfg.Pipeline.FixThenSave(ctx, j, func(res pipeline.Result, err error) {
		b.ended(source, start, res, batch.AsWriteError(err))
	})
	if err != nil {
		b.ended(source, start, pipeline.Result{}, err)
	}
}

// ended counts an image and logs its line with its result, or why it failed.
func (b *pageBatch) ended(source string, start time.Time, res pipeline.Result, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if errors.Is(err, context.Canceled) {
		return // cancelled with the batch: it wrote nothing, and counts as not started
	}
	b.tally.LastEnd = time.Now()
	if err != nil {
		b.tally.Failed++
		b.ticket.Logged(batch.ItemFailed(source, oneLine(err.Error())), nil, nil)
		if b.stopped == nil && batch.StopsBatch(err) {
			b.stopped = err
			b.cancel()
		}
	} else {
		b.tally.Done++
		results := b.server.remember([]pipeline.Result{res}, false)
		b.ticket.Logged(batch.ItemOK(source, []string{results[0].Name}, time.Since(start)), results, res.Notes)
	}
	b.count()
}

// count shows how far the batch has come; the caller holds b.mu, or no save runs yet.
func (b *pageBatch) count() {
	b.ticket.SetBatch(queue.Batch{Done: b.tally.Finished(), Total: b.tally.Total, Text: b.tally.Status()})
}

// end logs the summary and gives the job's end: cancelled by the button, failed when no
// result could be written or no image was fixed, done otherwise (the log names the images
// that failed, as the shell's does).
func (b *pageBatch) end(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	summary := b.tally.Summary(time.Now())
	b.ticket.Logged(summary, nil, nil)
	switch {
	case b.stopped != nil:
		return fmt.Errorf("stopped, as no result can be written (%s): %s", oneLine(b.stopped.Error()), summary)
	case ctx.Err() != nil:
		return ctx.Err()
	case b.tally.Done == 0:
		return fmt.Errorf("none of the %s was fixed: each one's line says why", batch.Count(b.tally.Total, "image"))
	}
	return nil
}
