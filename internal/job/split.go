package job

import (
	"errors"
	"runtime"
	"strings"
	"unicode"
)

// rules says how Split cuts a line into words and how Quote writes one word back. They differ
// by operating system because a backslash means different things to the people typing:
//
//   - On Unix a backslash is the shell's escape character, and paths use forward slashes, so
//     the POSIX rules fit: a backslash outside quotes escapes the next character, and inside
//     double quotes \" and \\ are escapes.
//   - On Windows a backslash is the path separator (C:\Users\me\photo.jpg, \\server\share\a.png),
//     and neither cmd.exe nor PowerShell treats it as an escape, so it stays an ordinary
//     character outside quotes. Inside double quotes backslashes are literal too, except in a
//     run right before a double quote, which follows the CommandLineToArgvW rule that Windows
//     programs use to read their command lines: 2n backslashes before a quote give n
//     backslashes and the quote opens or closes; 2n+1 give n backslashes and a literal quote.
//     That keeps "C:\dir\my photo.jpg" as typed while a prompt can still hold a quote
//     ("a \"quoted\" word") and any string can be quoted back ("C:\dir\\" is C:\dir\).
//
// Single quotes are the same on both: everything up to the next single quote is literal.
type rules int

const (
	unixRules rules = iota
	windowsRules
)

// hostRules are the rules Split and Quote use, chosen once for the system dream runs on.
var hostRules = rulesFor(runtime.GOOS)

// rulesFor returns the rules for the operating system goos, spelled as runtime.GOOS spells it.
func rulesFor(goos string) rules {
	if goos == "windows" {
		return windowsRules
	}
	return unixRules
}

// Split cuts a line into words the way the system's shell does for the cases people type:
// single quotes keep everything literally and double quotes keep spaces. What a backslash does
// depends on the system (see rules): on Unix it escapes the next character outside quotes and
// allows \" and \\ inside double quotes; on Windows it is an ordinary path character, except
// in a run of backslashes right before a double quote inside double quotes.
func Split(line string) ([]string, error) {
	return splitWith(line, hostRules)
}

// splitWith is Split under the given rules.
func splitWith(line string, rs rules) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	escaped := false     // Unix: the last rune was an escaping backslash
	backslashes := 0     // Windows: backslashes seen inside double quotes and not yet written
	quotedQuote := false // Windows: a \" inside double quotes gave a literal quote
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
		case quote == '"' && rs == windowsRules:
			switch r {
			case '\\':
				backslashes++
			case '"':
				word.WriteString(strings.Repeat(`\`, backslashes/2))
				if backslashes%2 == 1 {
					word.WriteRune('"')
					quotedQuote = true
				} else {
					quote = 0
				}
				backslashes = 0
			default:
				word.WriteString(strings.Repeat(`\`, backslashes))
				backslashes = 0
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
		case r == '\\' && rs == unixRules:
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
		if quote == '"' && quotedQuote {
			return nil, errors.New(`the line has an unclosed quote: inside double quotes \" is a literal quote, so end a folder with \\ before the closing quote, as in "C:\dir\\"`)
		}
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
