package batch

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

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
	n.addSources(entries)
	return n
}

// addSources takes entries as possible sources of the folder's results.
func (n *neighbours) addSources(entries []fs.DirEntry) {
	for _, e := range entries {
		if !e.IsDir() {
			stem := imageio.SourceStem(e.Name())
			n.byStem[stem] = append(n.byStem[stem], e.Name())
		}
	}
}

// mirror knows where the sources of results are when a pattern's matches in subfolders have
// their results in the same subfolders of the output folder (see File.Sub): the results in
// OUTDIR/a/ are of the sources in ROOT/a/. A pattern such as 'album/**/*.jpg' with the output
// folder inside the album meets them there, and must not fix them again.
type mirror struct {
	root, outdir string // absolute, links resolved; outdir "" when there is none
}

func newMirror(root, outdir string) mirror {
	if outdir == "" {
		return mirror{}
	}
	return mirror{root: canonicalPath(root, ""), outdir: canonicalPath(outdir, "")}
}

// neighbours are the names of dir, and of the folder its results' sources are in when dir is
// in the output folder.
func (m mirror) neighbours(dir string) *neighbours {
	entries, _ := os.ReadDir(dir) // it was just listed
	n := newNeighbours(dir, entries)
	if m.outdir == "" {
		return n
	}
	here := canonicalPath(dir, "")
	if rel := subfolder(m.outdir, here); rel != "" || here == m.outdir {
		if src := filepath.Join(m.root, rel); src != here {
			more, _ := os.ReadDir(src)
			n.addSources(more)
		}
	}
	return n
}

// isOwnResult tells whether the file name in the folder is dream's result of fixing another
// file of the same folder: it has a result's name, the source it is named after is there, and
// its sd-metadata record lists the post-processing !fix did and names that source (or none:
// a generated image's record keeps its generation instead). A user's own photo.fixed.png,
// without that record, stays an image to fix.
func (n *neighbours) isOwnResult(name string) bool {
	stem, ok := imageio.FixedStem(name)
	if !ok {
		return false
	}
	sources := n.byStem[stem]
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

// readRecord reads the sd-metadata record of a PNG, JPEG or WebP; ok is false when it has
// none. A named pipe is refused at once, never opened.
func readRecord(path string) (record fixRecord, ok bool) {
	texts, err := imageio.ReadTexts(path)
	if err != nil {
		return record, false
	}
	text, found := texts[pngmeta.KeySDMetadata]
	return record, found && json.Unmarshal([]byte(text), &record) == nil
}
