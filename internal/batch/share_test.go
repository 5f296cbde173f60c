package batch

import (
	"path/filepath"
	"testing"
)

// Items asked about again once other processes may have made their results: an item is done
// when the folder holds its results besides those every item before it expects, so a line
// given twice needs two results; every process names an item's claim alike, and the second
// of two equal lines differently.
func TestDoneNowCountsEarlierItems(t *testing.T) {
	dir := tempDir(t)
	fixA := Expected{Commands: []string{`!fix "in/a.png" -U 2 0.75`}, Seeded: true}
	fixB := Expected{Commands: []string{`!fix "in/b.png" -U 2 0.75`}, Seeded: true}
	dogs := Expected{Commands: []string{`"a dog" -s 5 -S 1 -W 512 -H 512 -C 7.5 -A k_lms`}} // random seed
	plan := func() (*Resume, []Wanted) {
		r := NewResume()
		var items []Wanted
		for _, want := range []Expected{fixA, fixA, fixB, dogs, dogs} {
			w, done, _ := r.Want(dir, want)
			if done {
				t.Fatal("an item was done before any result was written")
			}
			items = append(items, w)
		}
		return r, items
	}
	r, items := plan()
	_, again := plan()
	for i := range items {
		if items[i].ClaimKey() != again[i].ClaimKey() {
			t.Errorf("item %d: two plans name its claim %s and %s", i, items[i].ClaimKey(), again[i].ClaimKey())
		}
		for j := range i {
			if items[i].ClaimKey() == items[j].ClaimKey() {
				t.Errorf("items %d and %d share a claim", j, i)
			}
		}
	}
	steps := []struct {
		write string // a result another process writes, with the command
		cmd   string
		done  []bool // each item, asked again
	}{
		{"", "", []bool{false, false, false, false, false}},
		{"a.fixed.png", `!fix "in/a.png" -U 2 0.75`, []bool{true, false, false, false, false}},
		{"000001.5.png", `"a dog" -s 5 -S 5 -W 512 -H 512 -C 7.5 -A k_lms`, []bool{true, false, false, true, false}},
		{"a.fixed-01.png", `!fix "in/a.png" -U 2 0.75`, []bool{true, true, false, true, false}},
		{"b.fixed.png", `!fix "in/b.png" -U 4 0.75`, []bool{true, true, false, true, false}}, // other switches
		{"000002.9.png", `"a dog" -s 5 -S 9 -W 512 -H 512 -C 7.5 -A k_lms`, []bool{true, true, false, true, true}},
	}
	for _, step := range steps {
		if step.write != "" {
			writeResult(t, dir, step.write, step.cmd)
		}
		for i, w := range items {
			done, example := r.DoneNow(w)
			if done != step.done[i] {
				t.Errorf("after %q: item %d done %v, want %v", step.write, i, done, step.done[i])
			}
			if done && filepath.Dir(example) != dir {
				t.Errorf("item %d names %s", i, example)
			}
		}
	}
}
