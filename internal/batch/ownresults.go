package batch

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"dream/internal/imageio"
	"dream/internal/pngmeta"
)

// neighbours are the names in one folder, for telling dream's results of fixing an image of
// the folder from the images themselves.
type neighbours struct {
	dir string
	// byStem finds a source by the stem its results are named after: "scan" gives
	// ["scan.png"], "scan.fixed" gives ["scan.fixed.png"].
	byStem map[string][]string
}

func newNeighbours(dir string, entries []fs.DirEntry) *neighbours {
	n := &neighbours{dir: dir, byStem: map[string][]string{}}
	for _, e := range entries {
		if !e.IsDir() {
			stem := sourceStem(e.Name())
			n.byStem[stem] = append(n.byStem[stem], e.Name())
		}
	}
	return n
}

// fixedName is the name !fix gives a result: NAME.fixed.png, or NAME.fixed-01.png … -99.
var fixedName = regexp.MustCompile(`^(.+)\.fixed(?:-\d\d)?\.png$`)

// isOwnResult tells whether the file name in the folder is dream's result of fixing another
// file of the same folder: it has a result's name, the source it is named after is there, and
// its sd-metadata record lists the post-processing !fix did and names that source (or none:
// a generated image's record keeps its generation instead). A user's own photo.fixed.png,
// without that record, stays an image to fix.
func (n *neighbours) isOwnResult(name string) bool {
	m := fixedName.FindStringSubmatch(name)
	if m == nil {
		return false
	}
	sources := n.byStem[m[1]]
	if len(sources) == 0 {
		return false
	}
	record, ok := readRecord(filepath.Join(n.dir, name))
	if !ok || len(record.Image.Postprocessing) == 0 {
		return false
	}
	return record.Image.Source == "" || slices.Contains(sources, record.Image.Source)
}

// fixRecord is the part of an sd-metadata record that says where an image came from.
type fixRecord struct {
	Image struct {
		Source         string            `json:"source"`
		Postprocessing []json.RawMessage `json:"postprocessing"`
	} `json:"image"`
}

// readRecord reads the sd-metadata record of a PNG; ok is false when it has none.
func readRecord(path string) (record fixRecord, ok bool) {
	info, err := readInfo(path)
	if err != nil {
		return record, false
	}
	text, found := info.Text[pngmeta.KeySDMetadata]
	return record, found && json.Unmarshal([]byte(text), &record) == nil
}

// readInfo reads the metadata of a PNG, refusing at once anything but a regular file.
func readInfo(path string) (pngmeta.Info, error) {
	f, err := imageio.OpenRegular(path)
	if err != nil {
		return pngmeta.Info{}, err
	}
	defer f.Close()
	return pngmeta.Read(f)
}

// sourceStem is the name a result of fixing the file is named after: the file name without
// its image extension (see imageio.FixedNames).
func sourceStem(name string) string {
	ext := filepath.Ext(name)
	if hasImageExtension(name) {
		if stem := strings.TrimSuffix(name, ext); stem != "" {
			return stem
		}
	}
	return name
}
