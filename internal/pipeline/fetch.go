package pipeline

import (
	"fmt"

	"dream/internal/imageio"
	"dream/internal/job"
)

// StoredCommand returns the command kept in the Dream metadata of an image dream wrote.
func (p *Pipeline) StoredCommand(j job.Job) (string, error) {
	path, err := p.Resolve(j.Path, j)
	if err != nil {
		return "", err
	}
	return imageio.ReadCommand(path)
}

// ResultCommands are the commands the Dream metadata of j's results will hold, one per image,
// worked out without running anything, so --resume can recognise results made before. A
// generation with a random seed gives its commands without the seed (seeded is false).
func (p *Pipeline) ResultCommands(j job.Job) (commands []string, seeded bool, err error) {
	switch j.Kind {
	case job.Fix:
		src, err := p.Resolve(j.Path, j)
		if err != nil {
			return nil, false, err
		}
		format := sourceFormat(src)
		j = withOutput(j, p.outputFor(j, format))
		return []string{fixCommand(src, format, sourceCommand(src), nil, j)}, true, nil
	case job.Generate:
		if j.InitImage != "" {
			if j.InitImage, err = p.Resolve(j.InitImage, j); err != nil {
				return nil, false, fmt.Errorf("-I: %w", err)
			}
		}
		j, _ = p.generationOutput(j)
		for i := range j.Iterations {
			if j.Seed.Set {
				commands = append(commands, j.Command(j.Seed.Value+uint32(i)))
			} else {
				commands = append(commands, j.SeedlessCommand())
			}
		}
		return commands, j.Seed.Set, nil
	}
	return nil, false, fmt.Errorf("%s makes no image", j.Line)
}

// sourceCommand is the Dream text of an image, or "" when it has none (a photo).
func sourceCommand(path string) string {
	command, _ := imageio.ReadCommand(path)
	return command
}
