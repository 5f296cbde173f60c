package batch

import (
	"strings"

	"dream/internal/job"
)

// Entry is one line of a file of lines, or one image of a !fix line that names a folder or a
// pattern.
type Entry struct {
	Job job.Job
	// Err is why the line cannot run: it did not parse, or its folder could not be listed.
	Err error
	// Item is the entry's place among the items, counted from 0 across the whole file, or -1
	// for a line that makes nothing (a comment, !help). Shards split the items by this number,
	// so every process must plan the same file the same way: folders are listed once, at the
	// start, in name order.
	Item int
}

// Source names the entry in the log: the image a fix reads, or the line as written.
func (e Entry) Source() string {
	if e.Err == nil && e.Job.Kind == job.Fix {
		return e.Job.Path
	}
	return strings.TrimSpace(e.Job.Line)
}

// Plan turns lines into entries. outdir gives the output folder of a job, where a relative
// folder or pattern is also looked for.
func Plan(lines []string, outdir func(job.Job) string) (entries []Entry, items int) {
	add := func(e Entry, isItem bool) {
		e.Item = -1
		if isItem {
			e.Item = items
			items++
		}
		entries = append(entries, e)
	}
	for _, line := range lines {
		j, err := job.Parse(line)
		if err != nil {
			add(Entry{Job: job.Job{Line: line}, Err: err}, true)
			continue
		}
		switch j.Kind {
		case job.Generate:
			add(Entry{Job: j}, true)
		case job.Fix:
			images, _ := FixEntries(j, outdir(j))
			for _, e := range images {
				add(e, true)
			}
		default:
			add(Entry{Job: j}, false)
		}
	}
	return entries, items
}

// FixEntries is one entry per image of a !fix line that names a folder or a pattern (isBatch),
// numbered from 0, or a single entry carrying the error when the folder cannot be listed or the
// pattern matches nothing. A line naming one image is no batch: it gets one entry.
func FixEntries(j job.Job, outdir string) (entries []Entry, isBatch bool) {
	images, isBatch, err := Expand(j.Path, outdir)
	if !isBatch {
		return []Entry{{Job: j}}, false
	}
	if err != nil {
		return []Entry{{Job: j, Err: err}}, true
	}
	entries = make([]Entry, len(images))
	for i, image := range images {
		one := j
		one.Path = image
		one.Line = one.FixLine()
		entries[i] = Entry{Job: one, Item: i}
	}
	return entries, true
}
