package clip

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// clean normalises a prompt the way CLIP's reference tokenizer does before splitting it:
// HTML entities unescaped (twice, as the reference calls html.unescape twice, so "&amp;amp;"
// becomes "&"), no space at either end, every run of whitespace one space, lowercase.
//
// The reference first runs ftfy.fix_text, which we skip: it repairs mojibake, NFC-normalises,
// straightens curly quotes and widens full-width letters. Prompts typed as plain text are
// unchanged by it; pasted text with curly apostrophes ("it’s") tokenizes differently here.
func clean(text string) string {
	text = unescape(unescape(text))
	text = strings.TrimFunc(text, pythonSpace)
	text = strings.Join(strings.FieldsFunc(text, unicode.IsSpace), " ")
	return lower(text)
}

// charRefRE finds character references as Python's html.unescape does: numeric ones, and
// anything else up to 32 characters long that could be a name.
var charRefRE = regexp.MustCompile(`&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)`)

// unescape is Python's html.unescape. Go's html.UnescapeString has the same HTML5 table of
// names (but for the two in wideEntities) and the same rules for names without a semicolon,
// so it resolves the named references; numeric ones differ (Python deletes references to
// most control characters, Go keeps them) and are resolved by numericRef.
func unescape(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return charRefRE.ReplaceAllStringFunc(s, func(ref string) string {
		if ref[1] == '#' {
			return numericRef(ref)
		}
		if r, ok := wideEntities[ref]; ok {
			return r
		}
		return html.UnescapeString(ref)
	})
}

// wideEntities are the HTML5 entities Go's table leaves out because their UTF-8 is longer
// than their names.
var wideEntities = map[string]string{"&nLt;": "\u226A\u20D2", "&nGt;": "\u226B\u20D2"}

// numericRef resolves "&#65;", "&#x41;" or either without the semicolon, by the rules of
// Python's html.unescape.
func numericRef(ref string) string {
	digits, base := strings.TrimSuffix(ref[2:], ";"), 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(digits, base, 64)
	switch {
	case err != nil || n == 0 || n > unicode.MaxRune || 0xD800 <= n && n <= 0xDFFF:
		return "\uFFFD"
	case 0x80 <= n && n <= 0x9F:
		// Windows-1252, as browsers read these; Go's table is the same as Python's.
		return html.UnescapeString("&#" + strconv.FormatUint(n, 10) + ";")
	case n <= 0x08 || n == 0x0B || 0x0E <= n && n <= 0x1F || n == 0x7F ||
		0xFDD0 <= n && n <= 0xFDEF || n&0xFFFE == 0xFFFE:
		return "" // control characters and noncharacters
	}
	return string(rune(n))
}

// pythonSpace is Python's str.isspace, which the reference's str.strip trims: Unicode
// White_Space plus the ASCII separators U+001C..U+001F. The reference collapses runs with the
// regex module's \s, which is White_Space alone (unicode.IsSpace), so a U+001C inside a prompt
// survives as a symbol of its own while one at either end is trimmed.
func pythonSpace(r rune) bool {
	return unicode.IsSpace(r) || 0x1c <= r && r <= 0x1f
}

// lower lowercases like Python's str.lower. strings.ToLower agrees with it except in two
// places from Unicode's SpecialCasing: İ (U+0130) becomes "i̇" (i and a combining dot), and
// a capital sigma that ends a word becomes the final form ς.
func lower(s string) string {
	if !strings.ContainsAny(s, "İΣ") {
		return strings.ToLower(s)
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == 'İ':
			b.WriteString("i\u0307")
		case r == 'Σ' && finalSigma(s, i):
			b.WriteRune('ς')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether the Σ at byte i of s ends a word: a cased letter comes before it
// and none after it, skipping case-ignorable characters on both sides (Unicode's
// Final_Sigma condition, as Python applies it).
func finalSigma(s string, i int) bool {
	before := []rune(s[:i])
	j := len(before) - 1
	for j >= 0 && caseIgnorable(before[j]) {
		j--
	}
	if j < 0 || !cased(before[j]) {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if !caseIgnorable(r) {
			return !cased(r)
		}
	}
	return true
}

// cased is Unicode's Cased property: letters with case, and the few others that case rules
// treat as such.
func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r) ||
		unicode.Is(unicode.Other_Lowercase, r) || unicode.Is(unicode.Other_Uppercase, r)
}

// caseIgnorable is Unicode's Case_Ignorable property: marks, format characters, modifiers,
// and the apostrophes and word-internal punctuation (Word_Break MidLetter, MidNumLet and
// Single_Quote, listed here because Go has no Word_Break table).
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '·', '\u0387', '\u055F', '\u05F4', '\u2018', '\u2019', '\u2024', '\u2027',
		'\uFE13', '\uFE52', '\uFE55', '\uFF07', '\uFF0E', '\uFF1A':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
