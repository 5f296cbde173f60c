package shell

import (
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

func (s *Shell) cancelRunningJob() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return false
	}
	s.cancel()
	return true
}
