package clip

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// clipTables reads the vocabulary and merges LoadMergesGz builds its tokenizer from.
func clipTables(t *testing.T) (vocab map[string]int32, merges []mergeLine) {
	t.Helper()
	merges, err := readMergesGz(shared("tokenizer", "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	return clipVocab(merges), merges
}

// writeDir writes CLIP's vocabulary as a diffusers tokenizer folder with WriteDir.
func writeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := WriteDir(shared("tokenizer", "bpe_simple_vocab_16e6.txt.gz"), dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func writeVocab(t *testing.T, dir string, vocab map[string]int32) {
	t.Helper()
	data, err := json.Marshal(vocab)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "vocab.json", string(data))
}

func writeFile(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadDir(t *testing.T) {
	tok, err := LoadDir(writeDir(t))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, tok)
}

// TestLoadDirWindowsLineEnds reads a merges.txt saved with CRLF line ends and no final newline.
func TestLoadDirWindowsLineEnds(t *testing.T) {
	dir := writeDir(t)
	data, err := os.ReadFile(filepath.Join(dir, "merges.txt"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(strings.TrimSuffix(string(data), "\n"), "\n", "\r\n")
	writeFile(t, dir, "merges.txt", text)
	tok, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, tok)
}

func TestLoadDirErrors(t *testing.T) {
	vocab, merges := clipTables(t)
	header := "#version: 0.2\n"
	first := merges[0].a + " " + merges[0].b + "\n" // "i n"
	withoutBytes := func() map[string]int32 {
		v := map[string]int32{}
		for k, id := range vocab {
			if k != "a" {
				v[k] = id
			}
		}
		return v
	}
	withoutEnd := func() map[string]int32 {
		v := map[string]int32{}
		for k, id := range vocab {
			if k != endText {
				v[k] = id
			}
		}
		return v
	}
	tests := []struct {
		name   string
		vocab  map[string]int32 // nil: no vocab.json
		json   string           // written instead of vocab when not empty
		merges *string          // nil: no merges.txt
		want   string           // in the error
	}{
		{"missing vocab.json", nil, "", ptr(header + first), "vocab.json: no such file"},
		{"missing merges.txt", vocab, "", nil, "merges.txt: no such file"},
		{"bad JSON", nil, `{"a": 1,`, ptr(header + first), "vocab.json: not a JSON object of token ids"},
		{"JSON array", nil, `["a", "b"]`, ptr(header + first), "vocab.json: not a JSON object of token ids"},
		{"one symbol", vocab, "", ptr(header + first + "ab\n"), "merges.txt: line 3 is not a pair of symbols"},
		{"three symbols", vocab, "", ptr(header + "a b c\n"), "merges.txt: line 2 is not a pair of symbols"},
		{"blank line", vocab, "", ptr(header + "\n" + first), "merges.txt: line 2 is not a pair of symbols"},
		{"result not in vocab", vocab, "", ptr(header + first + "ÿ ÿ\n"), `merges.txt: line 3 merges "ÿ" and "ÿ", but vocab.json lacks "ÿÿ"`},
		{"symbol not in vocab", vocab, "", ptr(header + "qqqzzz x\n"), `merges.txt: line 2 merges "qqqzzz" and "x", but vocab.json lacks "qqqzzz"`},
		{"empty merges.txt", vocab, "", ptr(""), "merges.txt: is empty"},
		{"header only", vocab, "", ptr(header), "merges.txt: has no merges"},
		{"byte symbol missing", withoutBytes(), "", ptr(header + first), "vocab.json: lacks the symbols for byte 0x61"},
		{"special token missing", withoutEnd(), "", ptr(header + first), "vocab.json: lacks the special token <|endoftext|>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			switch {
			case tt.json != "":
				writeFile(t, dir, "vocab.json", tt.json)
			case tt.vocab != nil:
				writeVocab(t, dir, tt.vocab)
			}
			if tt.merges != nil {
				writeFile(t, dir, "merges.txt", *tt.merges)
			}
			_, err := LoadDir(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestLoadMergesGzErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "plain.txt.gz", "#version: 0.2\ni n\nt h\n")
	real, err := os.ReadFile(shared("tokenizer", "bpe_simple_vocab_16e6.txt.gz"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "cut.txt.gz", string(real[:len(real)/10]))
	var short bytes.Buffer
	zw := gzip.NewWriter(&short)
	zw.Write([]byte("#version: 0.2\ni n\nt h\n"))
	zw.Close()
	writeFile(t, dir, "short.txt.gz", short.String())
	var bad bytes.Buffer
	zw = gzip.NewWriter(&bad)
	zw.Write([]byte("#version: 0.2\ni n\nt h x\n"))
	zw.Close()
	writeFile(t, dir, "bad.txt.gz", bad.String())
	path := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name, path, want string
	}{
		{"missing", path("none.txt.gz"), "none.txt.gz: no such file"},
		{"not gzip", path("plain.txt.gz"), "plain.txt.gz: not a gzip file (gzip: invalid header)"},
		{"cut short", path("cut.txt.gz"), "cut.txt.gz: damaged or cut short (unexpected EOF)"},
		{"too few merges", path("short.txt.gz"), "short.txt.gz: has 2 merges, CLIP needs 48894"},
		{"bad line", path("bad.txt.gz"), `bad.txt.gz: line 3 is not a pair of symbols: "t h x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadMergesGz(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestBytesToUnicode checks the byte mapping against values from GPT-2's bytes_to_unicode.
func TestBytesToUnicode(t *testing.T) {
	order, sym := bytesToUnicode()
	checks := []struct {
		b    byte
		sym  rune
		rank int // position in order, and so the symbol's id
	}{
		{'!', '!', 0},
		{'~', '~', 93},
		{0xA1, '¡', 94},
		{0xFF, 'ÿ', 187},
		{0x00, 'Ā', 188},
		{' ', 'Ġ', 188 + 32},
		{0xAD, 'Ń', 255},
	}
	for _, c := range checks {
		if sym[c.b] != c.sym || order[c.rank] != c.b {
			t.Errorf("byte 0x%02x: symbol %q at %d, want %q at %d", c.b, sym[c.b], indexOf(order, c.b), c.sym, c.rank)
		}
	}
	seen := map[rune]bool{}
	for _, r := range sym {
		seen[r] = true
	}
	if len(seen) != 256 {
		t.Errorf("%d distinct symbols, want 256", len(seen))
	}
}

func indexOf(order [256]byte, b byte) int {
	for i, o := range order {
		if o == b {
			return i
		}
	}
	return -1
}

// TestPadToken: SD 2.x's tokenizer config pads with "!" (id 0) after the end token; SD 1.x's
// names the end token or nothing. Both spellings transformers writes are read.
func TestPadToken(t *testing.T) {
	cases := []struct {
		name, file, text string
		want             int32
	}{
		{"none", "", "", EndToken},
		{"sd2 string", "tokenizer_config.json", `{"pad_token": "!"}`, 0},
		{"sd2 object", "tokenizer_config.json", `{"pad_token": {"content": "!", "lstrip": false}}`, 0},
		{"sd1", "special_tokens_map.json", `{"pad_token": "<|endoftext|>"}`, EndToken},
		{"null", "tokenizer_config.json", `{"pad_token": null}`, EndToken},
	}
	// As stabilityai ships SD 2.x: the map says "!", the config the end token; the map wins.
	t.Run("sd2 as shipped", func(t *testing.T) {
		dir := writeDir(t)
		writeFile(t, dir, "special_tokens_map.json", `{"pad_token": "!"}`)
		writeFile(t, dir, "tokenizer_config.json", `{"pad_token": {"content": "<|endoftext|>"}}`)
		tok, err := LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if ids, _ := tok.Pad("a cat"); ids[4] != 0 {
			t.Errorf("padded with %d, want 0 (\"!\")", ids[4])
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeDir(t)
			if c.file != "" {
				writeFile(t, dir, c.file, c.text)
			}
			tok, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			ids, _ := tok.Pad("a cat")
			if ids[3] != EndToken || ids[4] != c.want || ids[76] != c.want {
				t.Errorf("padded ids %v…%v, want the end token then %d", ids[:6], ids[76], c.want)
			}
		})
	}
	dir := writeDir(t)
	writeFile(t, dir, "tokenizer_config.json", `{"pad_token": "<pad-not-in-vocab>"}`)
	if _, err := LoadDir(dir); err == nil || !strings.Contains(err.Error(), "not in vocab.json") {
		t.Errorf("a pad token missing from the vocabulary: %v", err)
	}
}
