package shell

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
)

// LineReader gives the shell one line at a time.
type LineReader interface {
	// ReadLine returns the next line without its newline, io.EOF at the end, or
	// ErrInterrupted when Ctrl-C was pressed at the prompt.
	ReadLine() (string, error)
	Close() error
}

// prefiller is a LineReader that can start a line with text already typed (!fetch uses it).
type prefiller interface {
	ReadLineWith(text string) (string, error)
}

// ErrInterrupted is Ctrl-C at the prompt.
var ErrInterrupted = errors.New("interrupted")

// IsTerminal tells whether a file is a terminal.
func IsTerminal(f *os.File) bool {
	return readline.IsTerminal(int(f.Fd()))
}

// HistoryFile is where the prompt's history is kept between sessions.
func HistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".dream_history")
}

// NewTerminalReader reads lines with editing and history.
func NewTerminalReader() (LineReader, error) {
	history := HistoryFile()
	if history != "" {
		// readline creates the file with the umask's mode; history can hold private
		// prompts, so create it 0600 first.
		if f, err := os.OpenFile(history, os.O_CREATE|os.O_APPEND, 0o600); err == nil {
			f.Close()
		}
	}
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            Prompt,
		HistoryFile:       history,
		HistorySearchFold: true,
		InterruptPrompt:   "^C",
		EOFPrompt:         "q",
		AutoComplete:      completer{},
	})
	if err != nil {
		return nil, err
	}
	return &terminalReader{rl: rl}, nil
}

type terminalReader struct{ rl *readline.Instance }

func (t *terminalReader) ReadLine() (string, error) {
	line, err := t.rl.Readline()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", ErrInterrupted
	}
	return line, err
}

func (t *terminalReader) ReadLineWith(text string) (string, error) {
	line, err := t.rl.ReadlineWithDefault(text)
	if errors.Is(err, readline.ErrInterrupt) {
		return "", ErrInterrupted
	}
	return line, err
}

func (t *terminalReader) Close() error { return t.rl.Close() }

// NewPlainReader reads lines from a file or pipe, so `dream < script.txt` works. It shows no
// prompt and no progress.
func NewPlainReader(r io.Reader) LineReader {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 64<<10), 1<<20)
	return &plainReader{scanner: scanner}
}

type plainReader struct{ scanner *bufio.Scanner }

func (p *plainReader) ReadLine() (string, error) {
	if p.scanner.Scan() {
		return strings.TrimRight(p.scanner.Text(), "\r"), nil
	}
	if err := p.scanner.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

func (p *plainReader) Close() error { return nil }
