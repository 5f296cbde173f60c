package job

import (
	"errors"
	"strings"
	"unicode"
)

// Split cuts a line into words the way a shell does for the cases people type: single quotes
// keep everything literally, double quotes keep spaces and allow \" and \\, and a backslash
// outside quotes escapes the next character.
func Split(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	escaped := false
	for _, r := range line {
		switch {
		case escaped:
			word.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '\\':
			escaped, inWord = true, true
		case unicode.IsSpace(r):
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("the line has an unclosed quote")
	}
	if escaped {
		return nil, errors.New("the line ends with a lone backslash")
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}
