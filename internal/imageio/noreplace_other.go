//go:build !linux && !darwin && !windows

package imageio

// renameNoReplace has no exclusive rename to fall back on here; a plain rename would
// replace another writer's file, and a check before it would leave a gap for one.
func renameNoReplace(from, to string) error { return errNoExclusiveClaim }
