package shell

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, name := range []string{"photo.png", "photo2.jpg", "other.webp", ".hidden.png"} {
		os.WriteFile(name, nil, 0o644)
	}
	os.Mkdir("pics", 0o755)
	os.WriteFile(filepath.Join("pics", "cat.png"), nil, 0o644)

	tests := []struct {
		line string
		want []string // endings readline inserts
	}{
		{"!f", []string{"ix ", "etch "}},
		{"!h", []string{"istory ", "elp "}},
		{"q", []string{"uit "}},
		{"!fix ph", []string{"oto.png ", "oto2.jpg "}},
		{"!fix pi", []string{"cs/"}},
		{"!fix pics/", []string{"cat.png "}},
		{"!fix photo.png -", []string{"W ", "-width ", "H ", "-height ", "U ", "-upscale ", "-esrgan_model ", "G ", "-gfpgan_strength ", "ft ", "-facetool ", "cf ", "-codeformer_fidelity ", "-faces ", "-face_color ", "-format ", "-quality ", "o ", "-outdir ", "-resume "}},
		{"!fix photo.png -U 2 --w", []string{"idth "}}, // on !fix, the size to upscale to
		{"!fix photo.png -f", []string{"t "}},
		{"a cat -A k_e", []string{"uler ", "uler_a "}},
		{"a cat -A k_dpmpp", []string{"_2m ", "_2m_karras "}},
		{"a cat -ft c", []string{"odeformer "}},
		{"a cat -A l", []string{"cm "}},
		{"a cat --vae ", []string{"full ", "tiny "}},
		{"!fix photo.png -U 2 --esrgan_model ", []string{"x4plus ", "general-x4v3 "}},
		{"!fix photo.png -G 1 --face_color ", []string{"match ", "off "}},
		{"!fix photo.png -G 1 --faces l", []string{"argest "}},
		{"a cat --v", []string{"ae "}},
		{"a cat -I o", []string{"ther.webp "}},
		{"a cat --sa", []string{"mpler ", "ve_orig ", "ve_original "}},
		{"a cat -s", []string{" ", "ave_orig "}},
		{"a ca", nil},
	}
	for _, tt := range tests {
		line := []rune(tt.line)
		got, _ := completer{}.Do(line, len(line))
		var endings []string
		for _, g := range got {
			endings = append(endings, string(g))
		}
		if !reflect.DeepEqual(endings, tt.want) {
			t.Errorf("Tab after %q gives %q, want %q", tt.line, endings, tt.want)
		}
	}
}
