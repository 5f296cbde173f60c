package shell

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// ExitTerminated is the exit status after SIGTERM: 143, 128 + the signal's number, as the
// shells report it.
const ExitTerminated = 143

// cancelJobsOnInterrupt makes Ctrl-C (SIGINT) cancel the running job instead of killing the
// process. Between jobs on a terminal, readline sees Ctrl-C as a key; with plain input, an
// interrupt between jobs ends the program, as it would any filter reading a pipe. SIGTERM
// (scancel, a time limit, Kubernetes) is Ctrl-C twice and then the end: the running item is
// cancelled and its temporary file removed, a batch prints its summary, and the shell reads
// no more lines (see Terminated).
func (s *Shell) cancelJobsOnInterrupt() (stop func()) {
	s.signals = make(chan os.Signal, 1)
	signal.Notify(s.signals, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-s.signals:
				if sig == syscall.SIGTERM {
					if !s.terminate() {
						os.Exit(ExitTerminated) // no job runs, so nothing is half written
					}
					continue
				}
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

// terminate answers SIGTERM: it stops a batch and cancels the running job at once. It reports
// whether work was running, whose end the caller then waits for.
func (s *Shell) terminate() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.terminated = true
	if s.run != nil {
		s.run.stop = true
	}
	if s.cancel != nil {
		s.cancel()
	}
	return s.run != nil || s.cancel != nil
}

// Terminated tells whether SIGTERM arrived: the program should exit with ExitTerminated.
func (s *Shell) Terminated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.terminated
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
