package shell

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"dream/internal/batch"
	"dream/internal/job"
)

// resumed is how a batch resumes (--resume, the launch flag or the !fix switch): the items
// skipped before it starts, and the claims by which processes resuming the same folder at
// once share the other items (see batch.Claims).
type resumed struct {
	resume *batch.Resume
	claims *batch.Claims
	// skip says why an entry (by its index) is skipped before it starts: "OUT holds its
	// result", or that it failed before as undecodable.
	skip map[int]string
	// wanted are the items of this shard that resume, by entry index, for asking again once
	// they are claimed.
	wanted map[int]batch.Wanted
	// deferred are the entries another process held when this one came to them, and their
	// holders; they are asked about again at the end.
	deferred []int
	holders  map[int]batch.Holder
	// failedBefore are the inputs skipped as undecodable before, and the lists naming them.
	failedBefore []string
	failedLists  map[string]bool
}

// resuming tells whether the entry's run skips what is done: dream --resume, or --resume on
// its !fix line.
func (s *Shell) resuming(e batch.Entry) bool {
	return s.Resume || e.Err == nil && e.Job.Resume
}

// planResume finds the items whose results exist, and the inputs that failed before as
// undecodable. Every item is asked about in order, not only this shard's, so that all shards
// credit a result to the same item.
func (s *Shell) planResume(entries []batch.Entry, shard batch.Shard) *resumed {
	r := &resumed{resume: batch.NewResume(), skip: map[int]string{}, wanted: map[int]batch.Wanted{},
		holders: map[int]batch.Holder{}, failedLists: map[string]bool{}}
	failedLists := map[string]batch.FailedList{}
	for i, e := range entries {
		if e.Item < 0 || e.Err != nil || e.Skip != "" || !s.resuming(e) {
			continue
		}
		commands, seeded, err := s.Pipeline.ResultCommands(e.Job)
		if err != nil {
			continue // the item fails when it runs, with this error
		}
		dir := s.Pipeline.Outdir(e.Job)
		w, done, example := r.resume.Want(dir, batch.Expected{Commands: commands, Seeded: seeded})
		if !shard.Owns(e.Item) {
			continue
		}
		if done {
			r.skip[i] = example + " holds its result"
			continue
		}
		r.wanted[i] = w
		if e.Job.Kind != job.Fix {
			continue
		}
		if _, ok := failedLists[dir]; !ok {
			failedLists[dir] = batch.ReadFailed(dir)
		}
		if why, ok := failedLists[dir].FailedBefore(e.Job.Path); ok {
			r.skip[i] = r.failedReason(dir, e, why)
		}
	}
	if len(r.wanted) > 0 {
		r.claims = batch.NewClaims()
	}
	return r
}

// failedReason is why an input that failed before is skipped, noted for the summary.
func (r *resumed) failedReason(dir string, e batch.Entry, why string) string {
	r.failedBefore = append(r.failedBefore, e.Source())
	r.failedLists[filepath.Join(dir, batch.FailedListName)] = true
	return "failed before as undecodable (" + why + ")"
}

// claimStatus is what claiming an item came to.
type claimStatus int

const (
	claimedToRun claimStatus = iota // this process runs it (claimed, or unclaimable)
	claimSkipped                    // done meanwhile, or failed elsewhere as undecodable
	claimHeld                       // another live process has it
)

// claim claims a resuming item before it runs, and asks again whether it is done: another
// process may have finished it since the batch started. An item that is skipped gets its line
// here. The claim is nil for an item that does not resume, or whose claim could not be
// written (it runs unclaimed: doing it twice loses nothing).
func (s *Shell) claim(r *resumed, i int, e batch.Entry, run *batchRun) (*batch.Claim, claimStatus) {
	w, ok := r.wanted[i]
	if !ok {
		return nil, claimedToRun
	}
	claim, holder, err := r.claims.Take(w.Dir(), w.ClaimKey(), e.Job.Line)
	if err == nil && claim == nil {
		r.holders[i] = holder
		return nil, claimHeld
	}
	reason := ""
	if done, example := r.resume.DoneNow(w); done {
		reason = example + " holds its result"
	} else if e.Job.Kind == job.Fix {
		if why, failed := batch.ReadFailed(w.Dir()).FailedBefore(e.Job.Path); failed {
			reason = r.failedReason(w.Dir(), e, why)
		}
	}
	if reason == "" {
		return claim, claimedToRun
	}
	claim.Release()
	s.skipItem(run, e, reason)
	return nil, claimSkipped
}

// skipItem counts an item as skipped and prints its line.
func (s *Shell) skipItem(run *batchRun, e batch.Entry, reason string) {
	s.mu.Lock()
	run.Skipped++
	s.mu.Unlock()
	s.logItem(s.Out, "skipped %s: %s", e.Source(), reason)
}

// pollHeld is how often a run that has nothing left but items other processes hold looks at
// them again.
const pollHeld = 500 * time.Millisecond

// finishDeferred comes back to the items other processes held: each is skipped once its
// result exists, and run here when its claim was given up (the item failed there) or went
// stale (its process was killed). The run waits while others still hold some, so that when it
// ends the batch is done, by one process or another; Ctrl-C stops the wait.
func (s *Shell) finishDeferred(ctx context.Context, r *resumed, entries []batch.Entry, shard batch.Shard, run *batchRun) {
	noted := false
	for len(r.deferred) > 0 && !s.stopping() {
		var still []int
		for _, i := range r.deferred {
			if s.stopping() {
				still = append(still, i)
				continue
			}
			claim, status := s.claim(r, i, entries[i], run)
			switch status {
			case claimHeld:
				still = append(still, i)
			case claimedToRun:
				s.runItem(ctx, entries[i], shard, run, claim)
			}
		}
		r.deferred = still
		if len(still) == 0 || s.stopping() {
			break
		}
		s.Pipeline.WaitSaves() // this process's own claims go before it waits on others'
		if !noted {
			s.logItem(s.Err, "note: waiting for %s that other processes are on (%s)", batch.Count(len(still), run.Unit), r.holderNames(still))
			noted = true
		}
		time.Sleep(pollHeld)
	}
	for _, i := range r.deferred { // stopped while waiting: their holders do them
		s.skipItem(run, entries[i], r.holders[i].String()+" is on it")
	}
	r.deferred = nil
}

// holderNames names the processes that hold the entries, each once.
func (r *resumed) holderNames(entries []int) string {
	var names []string
	seen := map[string]bool{}
	for _, i := range entries {
		if name := r.holders[i].String(); !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}

// close waits for the results being saved, whose claims end with them, then gives up any
// claim left.
func (r *resumed) close(s *Shell) {
	if r.claims != nil {
		s.Pipeline.WaitSaves()
		r.claims.Close()
	}
}

// noteFailedBefore says, in one line, which inputs were skipped as undecodable before and how
// to retry them.
func (s *Shell) noteFailedBefore(r *resumed) {
	if len(r.failedBefore) == 0 {
		return
	}
	lists := slices.Sorted(maps.Keys(r.failedLists))
	it := "it"
	if len(r.failedBefore) > 1 {
		it = "them"
	}
	fmt.Fprintf(s.Err, "note: skipped %s that failed before as undecodable: %s; remove %s from %s to retry\n",
		batch.Count(len(r.failedBefore), "input"), strings.Join(r.failedBefore, ", "), it, strings.Join(lists, ", "))
}
