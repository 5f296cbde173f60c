package job

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Formats lists the file formats --format accepts (jpeg is taken for jpg).
var Formats = []string{"png", "jpg", "webp"}

// The qualities of a JPEG and a WebP result when neither the line nor the launch flag gives
// one. WebP at 100 is lossless.
const (
	DefaultJPEGQuality = 92
	DefaultWebPQuality = 90
	MinQuality         = 1
	MaxQuality         = 100
)

// DefaultQuality is the quality a result in format gets by default; 0 for png, which has none.
func DefaultQuality(format string) int {
	switch format {
	case "jpg":
		return DefaultJPEGQuality
	case "webp":
		return DefaultWebPQuality
	}
	return 0
}

// ParseFormat reads a --format value, for the line's switch and the launch flag alike.
func ParseFormat(name, value string) (string, error) {
	format := strings.ToLower(value)
	if format == "jpeg" {
		format = "jpg"
	}
	if !slices.Contains(Formats, format) {
		return "", fmt.Errorf("%s %s: choose a file format from %s", name, value, strings.Join(Formats, ", "))
	}
	return format, nil
}

// ParseQuality reads a --quality value, for the line's switch and the launch flag alike.
func ParseQuality(name, value string) (int, error) {
	q, err := strconv.Atoi(value)
	if err != nil || q < MinQuality || q > MaxQuality {
		return 0, fmt.Errorf("%s %s: give a quality from %d to %d (jpg and webp; webp at 100 is lossless)",
			name, value, MinQuality, MaxQuality)
	}
	return q, nil
}

func parseFormat(j *Job, name string, vals []string) (int, error) {
	if len(vals) < 1 {
		return 0, fmt.Errorf("%s needs a file format: %s", name, strings.Join(Formats, ", "))
	}
	format, err := ParseFormat(name, vals[0])
	j.Format = format
	return 1, err
}

func parseQuality(j *Job, name string, vals []string) (int, error) {
	if len(vals) < 1 {
		return 0, fmt.Errorf("%s needs a quality from %d to %d", name, MinQuality, MaxQuality)
	}
	q, err := ParseQuality(name, vals[0])
	j.Quality = q
	return 1, err
}

// OutputSwitches spells out --format and --quality where the job sets them. The pipeline
// leaves them unset where they are the defaults, so a stored command names them only for a
// result that needs them to be made again.
func (j Job) OutputSwitches() []string {
	var parts []string
	if j.Format != "" {
		parts = append(parts, "--format", j.Format)
	}
	if j.Quality != 0 {
		parts = append(parts, "--quality", strconv.Itoa(j.Quality))
	}
	return parts
}
