package clip

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// clipMerges is how many merges of bpe_simple_vocab_16e6.txt.gz CLIP uses: its vocabulary of
// 49,408 ids less the 512 byte symbols and the two special tokens. The file holds many more.
const clipMerges = 49152 - 256 - 2

// endOfWord marks a symbol that ends a word.
const endOfWord = "</w>"

// mergeLine is one merge rule as read from a file, with its line number for error messages.
type mergeLine struct {
	a, b string
	line int
}

// LoadMergesGz loads CLIP's own merges file, bpe_simple_vocab_16e6.txt.gz: a version line,
// then one merge per line. The vocabulary is built from the first 48,894 merges, as CLIP does.
func LoadMergesGz(path string) (*Tokenizer, error) {
	merges, err := readMergesGz(path)
	if err != nil {
		return nil, err
	}
	return newTokenizer(path, path, clipVocab(merges), merges)
}

// LoadDir loads the tokenizer of a diffusers model folder from dir (the folder's tokenizer/):
// vocab.json maps each token to its id, merges.txt lists the merges in rank order after a
// "#version" line, and the pad_token of special_tokens_map.json or tokenizer_config.json,
// when either names one, pads prompts (SD 2.x pads with "!", SD 1.x with the end token).
func LoadDir(dir string) (*Tokenizer, error) {
	vocabPath := filepath.Join(dir, "vocab.json")
	mergesPath := filepath.Join(dir, "merges.txt")
	vocab, err := readVocab(vocabPath)
	if err != nil {
		return nil, err
	}
	merges, err := readMergesTxt(mergesPath)
	if err != nil {
		return nil, err
	}
	t, err := newTokenizer(vocabPath, mergesPath, vocab, merges)
	if err != nil {
		return nil, err
	}
	pad, from, err := readPadToken(dir)
	if err != nil || pad == "" {
		return t, err
	}
	id, ok := vocab[pad]
	if !ok {
		return nil, fmt.Errorf("%s: its pad_token %q is not in vocab.json", from, pad)
	}
	t.pad = id
	return t, nil
}

// readPadToken returns the pad_token the tokenizer's config files name, and the file that
// names it: special_tokens_map.json first, then tokenizer_config.json. SD 2.x ships "!" in the
// map and "<|endoftext|>" in the config, and transformers lets the map win. It writes the
// token as a string or as an object with its content; "" means neither file names one.
func readPadToken(dir string) (token, from string, err error) {
	for _, name := range []string{"special_tokens_map.json", "tokenizer_config.json"} {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return "", path, err
		}
		var config struct {
			Pad json.RawMessage `json:"pad_token"`
		}
		if err := json.Unmarshal(data, &config); err != nil {
			return "", path, fmt.Errorf("%s: not valid JSON (%v)", path, err)
		}
		if len(config.Pad) == 0 || string(config.Pad) == "null" {
			continue
		}
		var plain string
		if json.Unmarshal(config.Pad, &plain) == nil {
			return plain, path, nil
		}
		var added struct {
			Content string `json:"content"`
		}
		if err := json.Unmarshal(config.Pad, &added); err != nil || added.Content == "" {
			return "", path, fmt.Errorf("%s: pad_token is neither a string nor an object with content", path)
		}
		return added.Content, path, nil
	}
	return "", "", nil
}

func readMergesGz(path string) ([]mergeLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a gzip file (%v)", path, err)
	}
	sc := bufio.NewScanner(zr)
	sc.Scan() // the first line is a version header, skipped unread as the reference does
	var merges []mergeLine
	for line := 2; len(merges) < clipMerges && sc.Scan(); line++ {
		if sc.Err() != nil {
			break // the scan returned what was left before a read error: not a whole line
		}
		m, err := parseMerge(path, line, sc.Text())
		if err != nil {
			return nil, err
		}
		merges = append(merges, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: damaged or cut short (%v)", path, err)
	}
	if len(merges) < clipMerges {
		return nil, fmt.Errorf("%s: has %d merges, CLIP needs %d", path, len(merges), clipMerges)
	}
	return merges, nil
}

func readMergesTxt(path string) ([]mergeLine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	text := strings.TrimRight(string(data), "\r\n")
	if text == "" {
		return nil, fmt.Errorf("%s: is empty", path)
	}
	var merges []mergeLine
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if i == 0 && strings.HasPrefix(line, "#version") {
			continue
		}
		m, err := parseMerge(path, i+1, line)
		if err != nil {
			return nil, err
		}
		merges = append(merges, m)
	}
	if len(merges) == 0 {
		return nil, fmt.Errorf("%s: has no merges", path)
	}
	return merges, nil
}

func parseMerge(path string, line int, text string) (mergeLine, error) {
	f := strings.Fields(text)
	if len(f) != 2 {
		return mergeLine{}, fmt.Errorf("%s: line %d is not a pair of symbols: %q", path, line, text)
	}
	return mergeLine{a: f[0], b: f[1], line: line}, nil
}

func readVocab(path string) (map[string]int32, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var vocab map[string]int32
	if err := json.Unmarshal(data, &vocab); err != nil {
		return nil, fmt.Errorf("%s: not a JSON object of token ids: %v", path, err)
	}
	return vocab, nil
}

// clipVocab numbers the tokens as CLIP does: the 256 byte symbols in bytes-to-unicode order,
// the same with the end-of-word mark, one token per merge, then the two special tokens.
func clipVocab(merges []mergeLine) map[string]int32 {
	order, sym := bytesToUnicode()
	vocab := make(map[string]int32, 2*256+len(merges)+2)
	for i, b := range order {
		vocab[string(sym[b])] = int32(i)
		vocab[string(sym[b])+endOfWord] = int32(256 + i)
	}
	for i, m := range merges {
		vocab[m.a+m.b] = int32(2*256 + i)
	}
	vocab[startText] = int32(2*256 + len(merges))
	vocab[endText] = int32(2*256 + len(merges) + 1)
	return vocab
}

// newTokenizer checks that vocab has every symbol the merges and the byte mapping need, and
// turns the merges into a table keyed by pairs of ids. Duplicate merges keep the later rank,
// as the reference's dict does.
func newTokenizer(vocabName, mergesName string, vocab map[string]int32, merges []mergeLine) (*Tokenizer, error) {
	t := &Tokenizer{
		merges:  make(map[uint64]merge, len(merges)),
		special: make(map[string]int32, 2),
		cache:   make(map[string][]int32),
	}
	_, sym := bytesToUnicode()
	for b, r := range sym {
		var ok1, ok2 bool
		t.byteID[b], ok1 = vocab[string(r)]
		t.byteEndID[b], ok2 = vocab[string(r)+endOfWord]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: lacks the symbols for byte 0x%02x (%q and %q)", vocabName, b, string(r), string(r)+endOfWord)
		}
	}
	for _, s := range []string{startText, endText} {
		id, ok := vocab[s]
		if !ok {
			return nil, fmt.Errorf("%s: lacks the special token %s", vocabName, s)
		}
		t.special[s] = id
	}
	t.start, t.end = t.special[startText], t.special[endText]
	t.pad = t.end
	for rank, m := range merges {
		a, okA := vocab[m.a]
		b, okB := vocab[m.b]
		id, okAB := vocab[m.a+m.b]
		if !okA || !okB || !okAB {
			return nil, fmt.Errorf("%s: line %d merges %q and %q, but %s lacks %q",
				mergesName, m.line, m.a, m.b, filepath.Base(vocabName), missing(okA, okB, m))
		}
		t.merges[pairKey(a, b)] = merge{rank: int32(rank), id: id}
	}
	return t, nil
}

// missing names the first symbol of a merge that the vocabulary lacks.
func missing(okA, okB bool, m mergeLine) string {
	switch {
	case !okA:
		return m.a
	case !okB:
		return m.b
	}
	return m.a + m.b
}

// bytesToUnicode is GPT-2's byte mapping, which CLIP reuses so that BPE works on printable
// symbols: printable Latin-1 bytes stand for themselves, the other 68 bytes (controls, space,
// DEL, NBSP, soft hyphen) for U+0100 onwards in byte order. order lists the bytes in the
// mapping's order, which is also the order of their ids in the vocabulary.
func bytesToUnicode() (order [256]byte, sym [256]rune) {
	printable := func(b int) bool {
		return '!' <= b && b <= '~' || '¡' <= b && b <= '¬' || '®' <= b && b <= 'ÿ'
	}
	n, extra := 0, 0
	for b := range 256 {
		if printable(b) {
			order[n], sym[b] = byte(b), rune(b)
			n++
		}
	}
	for b := range 256 {
		if !printable(b) {
			order[n], sym[b] = byte(b), rune(256+extra)
			n++
			extra++
		}
	}
	return order, sym
}
