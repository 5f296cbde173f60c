package batch

import (
	"fmt"
	"path/filepath"
	"strings"

	"dream/internal/job"
)

// Entry is one line of a file of lines, or one image of a !fix line that names a folder or a
// pattern.
type Entry struct {
	Job job.Job
	// Err is why the line cannot run: it did not parse, or its folder could not be listed.
	Err error
	// Skip is why an item is skipped without being read (a named pipe in a folder), "" otherwise.
	Skip string
	// Item is the entry's place among the items, counted from 0 across the whole file, or -1
	// for a line that makes nothing (a comment, !help). Shards split the items by this number,
	// so every process must plan the same file the same way: folders are listed once, at the
	// start, in name order, without dream's results (see Listing.LeftOut).
	Item int
}

// Source names the entry in the log: the image a fix reads, or the line as written.
func (e Entry) Source() string {
	if e.Err == nil && e.Job.Kind == job.Fix {
		return LogName(e.Job.Path)
	}
	return strings.TrimSpace(e.Job.Line)
}

// LogName is a file's name as the log shows it: quoted when it has a control character (a
// newline), so that each item keeps one line.
func LogName(name string) string {
	if strings.ContainsFunc(name, isControl) {
		return fmt.Sprintf("%q", name)
	}
	return name
}

// Planned is a run of lines or of one folder, as entries.
type Planned struct {
	Entries []Entry
	// Items counts the entries that are items.
	Items int
	// LeftOut counts the files of the folders and patterns that are dream's results of fixing
	// their neighbours, and are no items.
	LeftOut int
}

// add appends an entry, numbering it when it is an item.
func (p *Planned) add(e Entry, isItem bool) {
	e.Item = -1
	if isItem {
		e.Item = p.Items
		p.Items++
	}
	p.Entries = append(p.Entries, e)
}

// Plan turns lines into entries. outdir gives the output folder of a job, where a relative
// folder or pattern is also looked for.
func Plan(lines []string, outdir func(job.Job) string) Planned {
	var p Planned
	for _, line := range lines {
		j, err := job.Parse(line)
		if err != nil {
			p.add(Entry{Job: job.Job{Line: line}, Err: err}, true)
			continue
		}
		switch j.Kind {
		case job.Generate:
			p.add(Entry{Job: j}, true)
		case job.Fix:
			images, _ := FixEntries(j, outdir(j))
			for _, e := range images.Entries {
				p.add(e, true)
			}
			p.LeftOut += images.LeftOut
		default:
			p.add(Entry{Job: j}, false)
		}
	}
	return p
}

// FixEntries is one entry per image of a !fix line that names a folder or a pattern (isBatch),
// numbered from 0, each written into outdir or, for an image in a subfolder of where the
// pattern starts, into the same subfolder of outdir; or a single entry carrying the error
// when the folder cannot be listed or the pattern matches nothing. A line naming one image is no batch: it gets one entry, with an
// error when the name is a named pipe or a device.
func FixEntries(j job.Job, outdir string) (p Planned, isBatch bool) {
	list, isBatch, err := Expand(j.Path, outdir)
	if !isBatch || err != nil {
		p.add(Entry{Job: j, Err: err}, true)
		p.LeftOut = list.LeftOut
		return p, isBatch
	}
	for _, file := range list.Files {
		one := j
		one.Path = file.Path
		if file.Sub != "" {
			one.Outdir = filepath.Join(outdir, file.Sub) // a/x.jpg → OUTDIR/a/x.fixed.jpg
		}
		one.Line = one.FixLine()
		p.add(Entry{Job: one, Skip: file.Skip}, true)
	}
	p.LeftOut = list.LeftOut
	return p, true
}

func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }
