package clip

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
)

// TestClean checks the text cleaning against what the reference's Python gives
// (whitespace_clean(basic_clean(text)).lower() without ftfy), mostly where Go's standard
// library would give something else.
func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Hello,\t\tWORLD!! \n", "hello, world!!"},
		{"Fish &amp;amp; Chips", "fish & chips"}, // unescaped twice
		{"&lt;b&gt;", "<b>"},
		{"&#39;&#x27;", "''"},
		{"&#1;a&#x7f;b&#xFFFE;", "ab"}, // references to controls and noncharacters vanish
		{"&#0;", "\uFFFD"},
		{"&#x80;", "€"}, // read as Windows-1252
		{"&#xD800;", "\uFFFD"},
		{"&#99999999;", "\uFFFD"},
		{"&#99999999999999999999999;", "\uFFFD"},
		{"&#x;", "&#x;"}, // no digits: not a reference (Go's html package gives U+FFFD)
		{"&notit;", "¬it;"},
		{"&amp-x", "&-x"},
		{"&nLt;", "\u226A\u20D2"}, // missing from Go's table
		{"a\u00a0\u3000b", "a b"},
		{"a\x1cb", "a\x1cb"}, // not whitespace to the regex module…
		{"\x1c a \x1f", "a"}, // …but to str.strip
		{"ΟΔΥΣΣΕΥΣ", "οδυσσευς"},
		{"ΣΑ ΑΣ. ΑΣ'Α", "σα ας. ασ'α"}, // final sigma; ' is case-ignorable, so not final there
		{"İ", "i\u0307"},
		{"Straße ǅ", "straße ǆ"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.want {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReference compares the tokens of a few hundred prompts with those of CLIP's
// simple_tokenizer.py (without ftfy; Python 3.11, regex 2026.5.9). The prompts were drawn at
// random from English prompt fragments, HTML references of every kind, Greek capitals around
// sigma, and characters of every Unicode category; all 13,000 drawn matched. Checks of every
// code point and every HTML5 entity name found differences only in characters that Go's
// Unicode 15 tables and Python's Unicode 14 (or the regex module's newer one) disagree on.
func TestReference(t *testing.T) {
	f, err := os.Open("testdata/reference.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok := loadCLIP(t)
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		var g goldenPrompt
		if err := json.Unmarshal(sc.Bytes(), &g); err != nil {
			t.Fatalf("testdata/reference.jsonl: line %d: %v", n+1, err)
		}
		n++
		if got := tok.tokens(g.Prompt, math.MaxInt); !slices.Equal(got, g.IDs) {
			t.Errorf("line %d: %q\n want %v\n  got %v", n, g.Prompt, g.IDs, got)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Fatalf("testdata/reference.jsonl: %d prompts, want at least 300", n)
	}
}
