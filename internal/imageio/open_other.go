//go:build !unix && !windows

package imageio

import "os"

// openNoWait is os.Open: where there are no Unix named pipes, opening a file does not wait.
func openNoWait(path string) (*os.File, error) {
	return os.Open(path)
}
