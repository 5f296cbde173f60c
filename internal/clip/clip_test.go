package clip

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// shared returns a path in ../shared beside the repository. testenv.Shared does the same, but
// it links ONNX Runtime into the test binary, which a tokenizer has no need for.
func shared(elem ...string) string {
	return filepath.Join(append([]string{"..", "..", "..", "shared"}, elem...)...)
}

// clipTokenizer loads CLIP's merges file once for the whole test binary.
var clipTokenizer = sync.OnceValues(func() (*Tokenizer, error) {
	return LoadMergesGz(shared("tokenizer", "bpe_simple_vocab_16e6.txt.gz"))
})

func loadCLIP(tb testing.TB) *Tokenizer {
	tb.Helper()
	tok, err := clipTokenizer()
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

type goldenPrompt struct {
	Prompt string  `json:"prompt"`
	IDs    []int32 `json:"ids"`
}

// loadGolden reads the reference ids of CLIP's Python tokenizer for ten prompts.
func loadGolden(tb testing.TB) []goldenPrompt {
	tb.Helper()
	data, err := os.ReadFile(shared("tokenizer", "golden.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var golden []goldenPrompt
	if err := json.Unmarshal(data, &golden); err != nil {
		tb.Fatalf("golden.json: %v", err)
	}
	if len(golden) == 0 {
		tb.Fatal("golden.json: no prompts")
	}
	return golden
}

// checkGolden fails for every golden prompt whose ids tok does not reproduce exactly.
func checkGolden(t *testing.T, tok *Tokenizer) {
	t.Helper()
	for _, g := range loadGolden(t) {
		if got := tok.Encode(g.Prompt); !slices.Equal(got, g.IDs) {
			t.Errorf("Encode(%q)\n want %v\n  got %v", g.Prompt, g.IDs, got)
		}
	}
}

func TestGolden(t *testing.T) {
	checkGolden(t, loadCLIP(t))
}

// TestSpecExample is the example SPEC §2.3 gives, checked on its own so the SPEC and the
// golden file cannot drift apart unnoticed.
func TestSpecExample(t *testing.T) {
	want := []int32{49406, 320, 1125, 539, 320, 2368, 49407}
	if got := loadCLIP(t).Encode("a photo of a cat"); !slices.Equal(got, want) {
		t.Errorf("want %v, got %v", want, got)
	}
}

func TestVocabularySize(t *testing.T) {
	tok := loadCLIP(t)
	if tok.start != StartToken || tok.end != EndToken {
		t.Errorf("start, end = %d, %d; want %d, %d", tok.start, tok.end, StartToken, EndToken)
	}
	if len(tok.merges) != clipMerges {
		t.Errorf("%d merges, want %d (duplicate pairs?)", len(tok.merges), clipMerges)
	}
}

func TestPad(t *testing.T) {
	tok := loadCLIP(t)
	cat := strings.Repeat("a photo of a cat ", MaxTokens/5) // 5 tokens each: exactly 75
	tests := []struct {
		name      string
		prompt    string
		content   int // content tokens kept
		truncated bool
	}{
		{"empty", "", 0, false},
		{"short", "a photo of a cat", 5, false},
		{"exactly 75", cat, MaxTokens, false},
		{"76 tokens", cat + "dog", MaxTokens, true},
		{"far too long", strings.Repeat(cat, 3), MaxTokens, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ids, truncated := tok.Pad(tt.prompt)
			if len(ids) != ContextLength {
				t.Fatalf("%d ids, want %d", len(ids), ContextLength)
			}
			if truncated != tt.truncated {
				t.Errorf("truncated = %v, want %v", truncated, tt.truncated)
			}
			if ids[0] != StartToken {
				t.Errorf("first id %d, want %d", ids[0], StartToken)
			}
			enc := tok.Encode(tt.prompt)
			if len(enc) != tt.content+2 || !slices.Equal(ids[:len(enc)], enc) {
				t.Errorf("Pad does not start with Encode's %d ids:\n Encode %v\n    Pad %v", tt.content+2, enc, ids)
			}
			for i := tt.content + 1; i < ContextLength; i++ {
				if ids[i] != EndToken {
					t.Fatalf("id %d is %d, want the end token %d: %v", i, ids[i], EndToken, ids)
				}
			}
		})
	}
}

// TestTruncationKeepsPrefix checks that a long prompt keeps exactly its first 75 tokens: the
// first 76 ids equal those of the 75-token prefix, and the end token is still last.
func TestTruncationKeepsPrefix(t *testing.T) {
	tok := loadCLIP(t)
	prefix := strings.Repeat("portrait of an astronaut, ", 15) // 5 tokens each
	if n := len(tok.Encode(prefix)); n != ContextLength {
		t.Fatalf("the prefix has %d ids, the test needs %d", n, ContextLength)
	}
	ids, truncated := tok.Pad(prefix + "highly detailed, 8k, trending on artstation")
	if !truncated || len(ids) != ContextLength || ids[0] != StartToken || ids[ContextLength-1] != EndToken {
		t.Fatalf("truncated = %v, %d ids, first %d, last %d", truncated, len(ids), ids[0], ids[len(ids)-1])
	}
	if want := tok.Encode(prefix); !slices.Equal(ids[:ContextLength-1], want[:ContextLength-1]) {
		t.Errorf("want %v\n got %v", want, ids)
	}
}

// TestSplitAndMerge covers behaviour the golden prompts do not reach, with ids from the
// reference (CLIP's simple_tokenizer.py, without ftfy).
func TestSplitAndMerge(t *testing.T) {
	tok := loadCLIP(t)
	tests := []struct {
		prompt string
		want   []int32 // content ids, without start and end
	}{
		{"", nil},
		{" \t\n ", nil},
		{"cat", []int32{2368}},
		{"CAT", []int32{2368}},
		{"Fish &amp;amp; Chips", []int32{2759, 261, 8855}}, // unescaped twice
		{"a<|endoftext|>b", []int32{320, EndToken, 321}},   // a literal special token keeps its id
		{"we'll", []int32{649, 1342}},
		{"😀 cat", []int32{7334, 2368}},
		{"ΟΔΥΣΣΕΥΣ ΣΑ", []int32{138, 123, 138, 112, 139, 227, 139, 225, 139, 225, 138, 113, 139, 227, 139, 480, 139, 225, 138, 365}}, // final sigma
		{"İstanbul", []int32{328, 16384, 11231}}, // İ lowercases to i and a combining dot
		{"a\x1cb", []int32{320, 472, 321}},       // U+001C is not whitespace to the regex module's \s…
		{"\x1ca b\x1c", []int32{320, 321}},       // … but is to Python's str.strip
	}
	for _, tt := range tests {
		got := tok.Encode(tt.prompt)
		want := append(append([]int32{StartToken}, tt.want...), EndToken)
		if !slices.Equal(got, want) {
			t.Errorf("Encode(%q)\n want %v\n  got %v", tt.prompt, want, got)
		}
	}
}

// TestConcurrent encodes from several goroutines at once; run with -race it checks the cache.
func TestConcurrent(t *testing.T) {
	tok := loadCLIP(t)
	golden := loadGolden(t)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, g := range golden {
				if got := tok.Encode(g.Prompt); !slices.Equal(got, g.IDs) {
					t.Errorf("Encode(%q) = %v, want %v", g.Prompt, got, g.IDs)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkEncode(b *testing.B) {
	tok := loadCLIP(b)
	golden := loadGolden(b)
	b.Run("cached", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			tok.Encode(golden[i%len(golden)].Prompt)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			clear(tok.cache) // single goroutine: no lock needed
			tok.Encode(golden[i%len(golden)].Prompt)
		}
	})
}
