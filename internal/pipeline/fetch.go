package pipeline

import (
	"fmt"
	"os"

	"dream/internal/job"
	"dream/internal/pngmeta"
)

// StoredCommand returns the command kept in the Dream metadata of an image dream wrote.
func (p *Pipeline) StoredCommand(j job.Job) (string, error) {
	path, err := p.Resolve(j.Path, j)
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %v", path, err)
	}
	defer f.Close()
	info, err := pngmeta.Read(f)
	if err != nil {
		return "", fmt.Errorf("%s: %v", path, err)
	}
	command, ok := info.Text[pngmeta.KeyDream]
	if !ok {
		return "", fmt.Errorf("%s holds no dream command (it was not written by dream)", path)
	}
	return command, nil
}
