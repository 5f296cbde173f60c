package shell

import (
	"fmt"
	"os"
	"os/signal"
)

// cancelJobsOnInterrupt makes Ctrl-C (SIGINT) cancel the running job instead of killing the
// process. Between jobs on a terminal, readline sees Ctrl-C as a key; with plain input, an
// interrupt between jobs ends the program, as it would any filter reading a pipe.
func (s *Shell) cancelJobsOnInterrupt() (stop func()) {
	s.signals = make(chan os.Signal, 1)
	signal.Notify(s.signals, os.Interrupt)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-s.signals:
				if !s.cancelRunningJob() && !s.Interactive {
					os.Exit(130) // no job runs, so nothing is half written
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(s.signals)
		close(done)
	}
}

// RestoreInterrupt takes SIGINT back after a library replaced Go's handler (the CUDA
// provider does): resetting and notifying again reinstalls Go's handler.
func (s *Shell) RestoreInterrupt() {
	if s.signals == nil {
		return
	}
	signal.Reset(os.Interrupt)
	signal.Notify(s.signals, os.Interrupt)
}

// cancelRunningJob answers Ctrl-C while work runs. In a batch the first one lets the current
// item finish and stops after it, so no item is half done; the next one cancels the item too.
func (s *Shell) cancelRunningJob() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run != nil && !s.run.stop {
		s.run.stop = true
		s.clearLineLocked()
		fmt.Fprintln(s.Err, "stopping after the current item; press Ctrl-C again to cancel it")
		return true
	}
	if s.cancel == nil {
		return s.run != nil
	}
	s.cancel()
	return true
}
