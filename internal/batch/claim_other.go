//go:build !unix

package batch

// processRunning cannot tell here: claims are judged by their age alone.
func processRunning(int, string) (running, known bool) { return false, false }

func processStart(int) string { return "" }

func pidNamespace() string { return "" }
