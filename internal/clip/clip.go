// Package clip turns a prompt into the token ids the Stable Diffusion 1.x text encoder reads:
// OpenAI CLIP's byte-level BPE tokenizer (SPEC §2.3), without padding or with padding to the
// encoder's fixed 77 positions.
//
// The vocabulary comes either from CLIP's own merges file, bpe_simple_vocab_16e6.txt.gz
// (LoadMergesGz), or from the tokenizer/vocab.json and tokenizer/merges.txt of a diffusers
// model folder (LoadDir). Both give the same ids for the real files.
package clip

import (
	"regexp"
	"sync"
)

// The shape of the SD 1.x text encoder's input. A Tokenizer reads its start and end ids from
// its vocabulary; these are their values in CLIP's.
const (
	ContextLength = 77                // positions the text encoder reads, start and end tokens included
	StartToken    = 49406             // <|startoftext|>
	EndToken      = 49407             // <|endoftext|>, also the padding
	MaxTokens     = ContextLength - 2 // prompt tokens that fit between start and end
)

// Special token strings. A prompt that contains one literally gets its id, as in the reference.
const (
	startText = "<|startoftext|>"
	endText   = "<|endoftext|>"
)

// pieceRE splits a cleaned prompt into the pieces BPE runs on: the special tokens, English
// contractions, runs of letters, single digits, and runs of anything else except spaces.
// Go's leftmost-first alternation picks the same piece as the reference's regex module.
//
// The reference compiles its pattern case-insensitively. The prompt is already lowercase, so
// that matters for two characters only (found by trying every code point): the long s ſ
// folds to s, so "'ſ" is a contraction; and U+0345 (combining ypogegrammeni) folds to the
// letter ι, so it falls out of the negated class, yet it is no letter, so no alternative
// matches it and it is dropped. '[sſ] and \x{345} reproduce both.
var pieceRE = regexp.MustCompile(`<\|startoftext\|>|<\|endoftext\|>|'[sſ]|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}\x{345}]+`)

// maxCacheWords bounds the per-word cache so a long-running shell cannot grow it without end;
// prompts repeat a few hundred words, far fewer than this.
const maxCacheWords = 1 << 14

// Tokenizer is a loaded CLIP vocabulary. It is safe for concurrent use.
type Tokenizer struct {
	byteID    [256]int32 // id of each byte's symbol inside a word
	byteEndID [256]int32 // id of the same symbol ending a word (with </w>)
	merges    map[uint64]merge
	special   map[string]int32 // startText and endText
	start     int32
	end       int32
	// pad fills a prompt's ids up to ContextLength: the end token for SD 1.x's tokenizer,
	// "!" (id 0) for SD 2.x's, as their tokenizer configs say.
	pad int32

	mu    sync.Mutex
	cache map[string][]int32 // piece → its BPE ids
}

// merge is what one adjacent pair of symbols turns into, and how early it is applied.
type merge struct {
	rank int32 // line order in the merges file: lower merges first
	id   int32 // the id of the concatenated symbol
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// Encode returns the ids for text: the start token, at most MaxTokens tokens, the end token.
// Tokens past MaxTokens are dropped; Pad reports when that happens.
func (t *Tokenizer) Encode(text string) []int32 {
	ids, _ := t.encode(text)
	return ids
}

// Pad returns exactly ContextLength ids for text: Encode's, then the padding token repeated
// (the end token unless the tokenizer's config names another; see LoadDir).
// truncated is true when the prompt had more than MaxTokens tokens and the rest were dropped,
// so the caller can tell the user that part of the prompt is ignored.
func (t *Tokenizer) Pad(text string) (ids []int32, truncated bool) {
	ids, truncated = t.encode(text)
	for len(ids) < ContextLength {
		ids = append(ids, t.pad)
	}
	return ids, truncated
}

func (t *Tokenizer) encode(text string) (ids []int32, truncated bool) {
	tokens := t.tokens(text, MaxTokens)
	if len(tokens) > MaxTokens {
		tokens, truncated = tokens[:MaxTokens], true
	}
	ids = make([]int32, 0, ContextLength)
	ids = append(ids, t.start)
	ids = append(ids, tokens...)
	return append(ids, t.end), truncated
}

// tokens returns the BPE ids of the prompt, without start and end tokens. It stops once it
// has more than limit, which is enough to know the prompt is truncated, so that a pasted page
// of text neither runs through BPE nor fills the cache past the point where it is cut.
func (t *Tokenizer) tokens(text string, limit int) []int32 {
	var ids []int32
	for _, piece := range pieceRE.FindAllString(clean(text), -1) {
		ids = append(ids, t.piece(piece)...)
		if len(ids) > limit {
			break
		}
	}
	return ids
}

// piece returns the ids of one piece of the split prompt. The result may be shared with the
// cache: callers only copy from it.
func (t *Tokenizer) piece(p string) []int32 {
	if id, ok := t.special[p]; ok {
		return []int32{id}
	}
	t.mu.Lock()
	ids, ok := t.cache[p]
	t.mu.Unlock()
	if ok {
		return ids
	}
	ids = t.bpe(t.symbols(p))
	t.mu.Lock()
	if len(t.cache) >= maxCacheWords {
		clear(t.cache)
	}
	t.cache[p] = ids
	t.mu.Unlock()
	return ids
}

// symbols maps the UTF-8 bytes of a piece to their byte symbols, the last one marked as the
// end of the word, which is how CLIP tells "cat" inside a word from the word "cat".
func (t *Tokenizer) symbols(p string) []int32 {
	ids := make([]int32, len(p))
	for i := 0; i < len(p); i++ {
		ids[i] = t.byteID[p[i]]
	}
	ids[len(p)-1] = t.byteEndID[p[len(p)-1]]
	return ids
}

// bpe merges symbols in place until no adjacent pair is in the merge table. Each round finds
// the pair with the lowest rank and merges every occurrence of it, left to right, exactly as
// the reference does (so "a a a" with the pair "a a" becomes "aa a", never "a aa").
func (t *Tokenizer) bpe(word []int32) []int32 {
	for len(word) > 1 {
		best, a, b, found := merge{}, int32(0), int32(0), false
		for i := 0; i+1 < len(word); i++ {
			m, ok := t.merges[pairKey(word[i], word[i+1])]
			if ok && (!found || m.rank < best.rank) {
				best, a, b, found = m, word[i], word[i+1], true
			}
		}
		if !found {
			break
		}
		// Writing at out's end never overtakes reading at i, so the merge can reuse word.
		out := word[:0]
		for i := 0; i < len(word); i++ {
			if i+1 < len(word) && word[i] == a && word[i+1] == b {
				out = append(out, best.id)
				i++
			} else {
				out = append(out, word[i])
			}
		}
		word = out
	}
	return word
}
