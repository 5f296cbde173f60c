package job

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// useRules makes Split, Quote and so Parse follow rs until the test ends, for tables written
// in one system's syntax. Tests that call it must not run in parallel.
func useRules(t *testing.T, rs rules) {
	t.Helper()
	old := hostRules
	hostRules = rs
	t.Cleanup(func() { hostRules = old })
}

func TestRulesFor(t *testing.T) {
	for goos, want := range map[string]rules{"windows": windowsRules, "linux": unixRules, "darwin": unixRules, "freebsd": unixRules} {
		if got := rulesFor(goos); got != want {
			t.Errorf("rulesFor(%q) = %v, want %v", goos, got, want)
		}
	}
}

func TestSplitWith(t *testing.T) {
	tests := []struct {
		line string
		unix []string // nil: an error
		win  []string
	}{
		{`a b  c`, []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"\ta\t\n b", []string{"a", "b"}, []string{"a", "b"}},
		{``, nil, nil},
		{`''`, []string{""}, []string{""}},
		{`""`, []string{""}, []string{""}},
		{`'x y' "z \"w\"" v\ u`, []string{"x y", `z "w"`, "v u"}, []string{"x y", `z "w"`, `v\`, "u"}},
		// Windows paths, typed bare or in double quotes.
		{`!fix C:\Users\me\photo.jpg -U 4`, []string{"!fix", "C:Usersmephoto.jpg", "-U", "4"}, []string{"!fix", `C:\Users\me\photo.jpg`, "-U", "4"}},
		{`!fix "C:\Users\me\my photo.jpg"`, []string{"!fix", "C:Usersmemy photo.jpg"}, []string{"!fix", `C:\Users\me\my photo.jpg`}},
		{`\\server\share\a.png`, []string{`\serversharea.png`}, []string{`\\server\share\a.png`}},
		{`"\\server\share\a b.png"`, []string{`\serversharea b.png`}, []string{`\\server\share\a b.png`}},
		{`C:\dir\`, nil, []string{`C:\dir\`}},
		{`'C:\dir\'`, []string{`C:\dir\`}, []string{`C:\dir\`}},
		// Backslashes before a quote inside double quotes: 2n give n and the quote closes,
		// 2n+1 give n and a literal quote.
		{`"C:\dir\\"`, []string{`C:dir\`}, []string{`C:\dir\`}},
		{`"C:\dir\\" -U 2`, []string{`C:dir\`, "-U", "2"}, []string{`C:\dir\`, "-U", "2"}},
		{`"a \"quoted\" word"`, []string{`a "quoted" word`}, []string{`a "quoted" word`}},
		{`"a\\\"b"`, []string{`a\"b`}, []string{`a\"b`}},
		{`"a\\\\"b`, []string{`a\\b`}, []string{`a\\b`}},
		{`"a\\b"`, []string{`a\b`}, []string{`a\\b`}},
		{`"\\\\\\\"" x`, []string{`\\\"`, "x"}, []string{`\\\"`, "x"}},
		// Outside quotes a Windows backslash never escapes, not even a quote.
		{`a\"b c"`, nil, []string{`a\b c`}},
		{`a\"b "c"`, []string{`a"b`, "c"}, nil},
		{`it\'s`, []string{"it's"}, nil},
		// Quotes join with the text around them.
		{`a"b c"d 'e f'g`, []string{"ab cd", "e fg"}, []string{"ab cd", "e fg"}},
		{`"it's"`, []string{"it's"}, []string{"it's"}},
		// Errors.
		{`cat 'unclosed`, nil, nil},
		{`cat "unclosed`, nil, nil},
		{`cat \`, nil, []string{"cat", `\`}},
		{`"C:\dir\"`, nil, nil},
		{`"C:\dir\" -U 2`, nil, nil},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			name string
			rs   rules
			want []string
		}{{"unix", unixRules, tt.unix}, {"windows", windowsRules, tt.win}} {
			got, err := splitWith(tt.line, c.rs)
			switch {
			case c.want == nil && tt.line == "":
				if err != nil || len(got) != 0 {
					t.Errorf("%s: splitWith(%q) = %q, %v; want no words", c.name, tt.line, got, err)
				}
			case c.want == nil:
				if err == nil {
					t.Errorf("%s: splitWith(%q) = %q; want an error", c.name, tt.line, got)
				}
			case err != nil || !reflect.DeepEqual(got, c.want):
				t.Errorf("%s: splitWith(%q) = %q, %v; want %q", c.name, tt.line, got, err, c.want)
			}
		}
	}
}

func TestSplitWithErrors(t *testing.T) {
	tests := []struct {
		line string
		rs   rules
		want string
	}{
		{`cat 'x`, unixRules, "the line has an unclosed quote"},
		{`cat 'x`, windowsRules, "the line has an unclosed quote"},
		{`cat "x`, windowsRules, "the line has an unclosed quote"},
		{`a\"b "c"`, windowsRules, "the line has an unclosed quote"},
		{`cat \`, unixRules, "the line ends with a lone backslash"},
		{`"C:\dir\"`, unixRules, "the line has an unclosed quote"},
		{`!fix "C:\dir\" -U 2`, windowsRules, `the line has an unclosed quote: inside double quotes \" is a literal quote, so end a folder with \\ before the closing quote, as in "C:\dir\\"`},
	}
	for _, tt := range tests {
		if _, err := splitWith(tt.line, tt.rs); err == nil || err.Error() != tt.want {
			t.Errorf("splitWith(%q, %v) error = %v, want %q", tt.line, tt.rs, err, tt.want)
		}
	}
}

func TestQuoteWith(t *testing.T) {
	tests := []struct{ in, unix, win string }{
		{``, `""`, `""`},
		{`a cat`, `"a cat"`, `"a cat"`},
		{`C:\Users\me\photo.jpg`, `"C:\\Users\\me\\photo.jpg"`, `"C:\Users\me\photo.jpg"`},
		{`\\server\share\a.png`, `"\\\\server\\share\\a.png"`, `"\\server\share\a.png"`},
		{`C:\dir\`, `"C:\\dir\\"`, `"C:\dir\\"`},
		{`C:\dir\\`, `"C:\\dir\\\\"`, `"C:\dir\\\\"`},
		{`a "quoted" word`, `"a \"quoted\" word"`, `"a \"quoted\" word"`},
		{`a\"b`, `"a\\\"b"`, `"a\\\"b"`},
		{`it's`, `"it's"`, `"it's"`},
	}
	for _, tt := range tests {
		if got := quoteWith(tt.in, unixRules); got != tt.unix {
			t.Errorf("unix: quoteWith(%q) = %s, want %s", tt.in, got, tt.unix)
		}
		if got := quoteWith(tt.in, windowsRules); got != tt.win {
			t.Errorf("windows: quoteWith(%q) = %s, want %s", tt.in, got, tt.win)
		}
	}
}

// Every string of up to six characters from an alphabet of the characters the rules treat
// specially must come back from Split as the one word Quote wrote, under both rule sets; so
// must longer random strings, on their own and between other words.
func TestQuoteSplitRoundTrip(t *testing.T) {
	const alphabet = "a \\\"':"
	var all []string
	var grow func(prefix string)
	grow = func(prefix string) {
		all = append(all, prefix)
		if len(prefix) == 6 {
			return
		}
		for i := 0; i < len(alphabet); i++ {
			grow(prefix + alphabet[i:i+1])
		}
	}
	grow("")
	if want := 1 + 6 + 36 + 216 + 1296 + 7776 + 46656; len(all) != want {
		t.Fatalf("generated %d strings, want %d", len(all), want)
	}
	rng := rand.New(rand.NewSource(1))
	wide := []rune("ab \\\\\\\"\"'\t\n:/é日")
	for range 2000 {
		r := make([]rune, rng.Intn(24))
		for i := range r {
			r[i] = wide[rng.Intn(len(wide))]
		}
		all = append(all, string(r))
	}
	for _, c := range []struct {
		name string
		rs   rules
	}{{"unix", unixRules}, {"windows", windowsRules}} {
		failures := 0
		for _, s := range all {
			q := quoteWith(s, c.rs)
			got, err := splitWith(q, c.rs)
			if err != nil || len(got) != 1 || got[0] != s {
				t.Errorf("%s: splitWith(quoteWith(%q)) = splitWith(%s) = %q, %v", c.name, s, q, got, err)
				failures++
			}
			line := "!fix " + q + " -U 2 " + q
			got, err = splitWith(line, c.rs)
			if want := []string{"!fix", s, "-U", "2", s}; err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: splitWith(%s) = %q, %v; want %q", c.name, line, got, err, want)
				failures++
			}
			if failures > 10 {
				t.Fatalf("%s: too many failures", c.name)
			}
		}
	}
}

// Split and Quote follow the host's rules, which Parse and the stored command use: with the
// Windows rules a typed path keeps its backslashes, and the normalised line shows it as typed.
func TestParseWithWindowsRules(t *testing.T) {
	useRules(t, windowsRules)
	for _, tt := range []struct{ line, path, fix string }{
		{`!fix C:\Users\me\photo.jpg -U 4`, `C:\Users\me\photo.jpg`, `!fix "C:\Users\me\photo.jpg" -U 4`},
		{`!fix "C:\Users\me\my photo.jpg" -U 2`, `C:\Users\me\my photo.jpg`, `!fix "C:\Users\me\my photo.jpg" -U 2`},
		{`!fix \\server\share\a.png -U 2`, `\\server\share\a.png`, `!fix "\\server\share\a.png" -U 2`},
	} {
		j, err := Parse(tt.line)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.line, err)
			continue
		}
		if j.Path != tt.path {
			t.Errorf("Parse(%q).Path = %q, want %q", tt.line, j.Path, tt.path)
		}
		if got := j.FixLine(); !strings.HasPrefix(got, tt.fix) {
			t.Errorf("Parse(%q).FixLine() = %s, want it to start %s", tt.line, got, tt.fix)
		}
		again, err := Parse(j.FixLine())
		if err != nil || again.Path != tt.path {
			t.Errorf("Parse(%s): path %q, %v; want %q", j.FixLine(), again.Path, err, tt.path)
		}
	}
	j, err := Parse(`"a \"quoted\" cat" -I C:\in\cat.png -f 0.5 -S 3`)
	if err != nil {
		t.Fatal(err)
	}
	if j.Prompt != `a "quoted" cat` || j.InitImage != `C:\in\cat.png` {
		t.Errorf("prompt %q, init image %q", j.Prompt, j.InitImage)
	}
	cmd := j.Command(3)
	if !strings.HasPrefix(cmd, `"a \"quoted\" cat" -s `) || !strings.Contains(cmd, ` -I "C:\in\cat.png" -f 0.5`) {
		t.Errorf("Command = %s", cmd)
	}
	again, err := Parse(cmd)
	if err != nil || again.Command(3) != cmd {
		t.Errorf("Parse(%s) does not round-trip: %v", cmd, err)
	}
}
