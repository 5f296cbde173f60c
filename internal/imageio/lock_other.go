//go:build !unix && !windows

package imageio

import "os"

// lockFile does nothing where flock does not exist; RemoveStaleTemps then removes nothing.
func lockFile(*os.File) error { return nil }

// tryLockFile never claims a temp file is stale where nothing can tell a live writer from
// a dead one.
func tryLockFile(*os.File) (bool, error) { return false, nil }
