package job

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"dream/internal/sampler"
)

// gen returns the default generation settings changed by edit.
func gen(edit func(g *Generation)) Generation {
	g := defaultGeneration()
	if edit != nil {
		edit(&g)
	}
	return g
}

func TestParseValid(t *testing.T) {
	useRules(t, unixRules) // the table is written in Unix shell syntax, backslash escapes included
	defaults := gen(nil)
	face := func(s float64, tool string, w float64) *Faces { return &Faces{Strength: s, Tool: tool, Fidelity: w} }
	tests := []struct {
		line string
		want Job
	}{
		{"", Job{Kind: Empty}},
		{"   # a comment", Job{Kind: Empty}},
		{"// another", Job{Kind: Empty}},
		{"q", Job{Kind: Quit, Generation: defaults}},
		{"EXIT", Job{Kind: Quit, Generation: defaults}},
		{"!history", Job{Kind: History, Generation: defaults}},
		{"!help", Job{Kind: Help, Generation: defaults}},
		{"!help -U", Job{Kind: Help, Topic: "-U", Generation: defaults}},
		{"!fetch out/000001.42.png", Job{Kind: Fetch, Path: "out/000001.42.png", Generation: defaults}},

		// !fix
		{"!fix photo.png -U 4", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 4, Strength: 0.75}}},
		{"!fix photo.png -U 1.5", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 1.5, Strength: 0.75}}},
		{"!fix photo.png -U 3 1", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 3, Strength: 1}}},
		{"!fix photo.png -U 8 0.5", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 8, Strength: 0.5}}},
		{"!fix photo.png -U 1", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 1, Strength: 0.75}}},
		// -W and -H on !fix are the size to upscale to: alone they stand for -U, and with -U
		// they keep its strength, in either order.
		{"!fix photo.png -W 1600", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Strength: 0.75, Width: 1600}}},
		{"!fix photo.png --height 2160", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Strength: 0.75, Height: 2160}}},
		{"!fix photo.png --width=3840 -H 2160", Job{Kind: Fix, Path: "photo.png", Generation: defaults,
			Upscale: &Upscale{Strength: 0.75, Width: 3840, Height: 2160}}},
		{"!fix photo.png -U 2 0.6 -W 1601", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 2, Strength: 0.6, Width: 1601}}},
		{"!fix photo.png -H 900 -U 2.5 1", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 2.5, Strength: 1, Height: 900}}},
		{"!fix photo.png -U 2 0.6", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 2, Strength: 0.6}}},
		{"!fix photo.png --upscale 4 1", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 4, Strength: 1}}},
		{"!fix photo.png -U 4 0", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Upscale: &Upscale{Factor: 4, Strength: 0}}},
		// --esrgan_model picks -U's network for this line, in either order, in any case.
		{"!fix photo.png -U 2 --esrgan_model general-x4v3", Job{Kind: Fix, Path: "photo.png", Generation: defaults,
			Upscale: &Upscale{Factor: 2, Strength: 0.75}, Upscaler: "general-x4v3"}},
		{"!fix photo.png --esrgan_model=X4PLUS -W 1600", Job{Kind: Fix, Path: "photo.png", Generation: defaults,
			Upscale: &Upscale{Strength: 0.75, Width: 1600}, Upscaler: "x4plus"}},
		{"!fix photo.png -G 0.8", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Faces: face(0.8, "gfpgan", 0.75)}},
		{"!fix photo.png -G 1 -ft codeformer -cf 0.7 -U 2", Job{Kind: Fix, Path: "photo.png", Generation: defaults,
			Faces: face(1, "codeformer", 0.7), Upscale: &Upscale{Factor: 2, Strength: 0.75}}},
		{"!fix photo.png -cf 0 -ft CodeFormer -G 0.5", Job{Kind: Fix, Path: "photo.png", Generation: defaults, Faces: face(0.5, "codeformer", 0)}},
		{"!fix photo.jpg -G 0.8 --faces largest --face_color off", Job{Kind: Fix, Path: "photo.jpg", Generation: defaults,
			Faces: &Faces{Strength: 0.8, Tool: "gfpgan", Fidelity: 0.75, Which: FaceChoice{Largest: true}, KeepColour: true}}},
		{`!fix "my photo.png" -U 4 -o out`, Job{Kind: Fix, Path: "my photo.png", Generation: defaults, Upscale: &Upscale{Factor: 4, Strength: 0.75}, Outdir: "out"}},
		{`!fix my\ photo.png --outdir=out -U 2`, Job{Kind: Fix, Path: "my photo.png", Generation: defaults, Upscale: &Upscale{Factor: 2, Strength: 0.75}, Outdir: "out"}},
		// --resume: how the line runs, not what it makes
		{"!fix scans -U 2 --resume", Job{Kind: Fix, Path: "scans", Generation: defaults, Upscale: &Upscale{Factor: 2, Strength: 0.75}, Resume: true}},

		// prompts and every switch
		{"a castle on a hill", Job{Kind: Generate, Prompt: "a castle on a hill", Generation: defaults}},
		{`"a castle" at -1 degrees`, Job{Kind: Generate, Prompt: "a castle at -1 degrees", Generation: defaults}},
		{"cat -s 20", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Steps = 20 })}},
		{"cat --steps=1000", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Steps = 1000 })}},
		{"cat -S 0", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Seed = Seed{Value: 0, Set: true} })}},
		{"cat -S 4294967295", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Seed = Seed{Value: 4294967295, Set: true} })}},
		{"cat --seed -1", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Seed = Seed{Back: 1} })}},
		{"cat -S -2", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Seed = Seed{Back: 2} })}},
		{"cat -n 3", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Iterations = 3 })}},
		{"cat -W 768 -H 64", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Width, g.Height = 768, 64 })}},
		{"cat --width 4096 --height 640", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Width, g.Height = 4096, 640 })}},
		{"cat -W 500", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Width = 448 }),
			Warnings: []string{"width 500 rounded down to 448, a multiple of 64"}}},
		{"cat -H 100", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Height = 64 }),
			Warnings: []string{"height 100 rounded down to 64, a multiple of 64"}}},
		{"cat -C 1.5", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.CFGScale = 1.5 })}},
		{"cat --cfg_scale 12", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.CFGScale = 12 })}},
		{"cat -C 1", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.CFGScale = 1 })}},
		{"cat -C 0", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.CFGScale = 0 })}},
		{"cat -C 100", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.CFGScale = 100 })}},
		{"cat -A ddim", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler = "ddim" })}},
		{"cat --sampler K_EULER_A", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler = "k_euler_a" })}},
		{"cat -A k_dpmpp_2m", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler = "k_dpmpp_2m" })}},
		{"cat -A K_DPMPP_2M_Karras", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler = "k_dpmpp_2m_karras" })}},
		// -A lcm brings its own -s and -C defaults, but never overrides values the line gives,
		// even ones equal to the shell's defaults, whichever comes first and however spelled.
		{"cat -A lcm", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler, g.Steps, g.CFGScale = "lcm", 4, 1 })}},
		{"cat -A LCM -s 8", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler, g.Steps, g.CFGScale = "lcm", 8, 1 })}},
		{"cat -C 1.5 -A lcm", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler, g.Steps, g.CFGScale = "lcm", 4, 1.5 })}},
		{"cat -s 50 -A lcm -C 7.5", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler = "lcm" })}},
		{"cat --sampler=lcm --steps 2 --cfg_scale=0", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler, g.Steps, g.CFGScale = "lcm", 2, 0 })}},
		{"cat -A lcm -I in.png -f 0.5", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) {
			g.Sampler, g.Steps, g.CFGScale, g.InitImage, g.Strength = "lcm", 4, 1, "in.png", 0.5
		})}},
		{"cat --vae tiny", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.VAE = "tiny" })}},
		{"cat --vae=FULL", Job{Kind: Generate, Prompt: "cat", Generation: defaults}},
		{"cat -A lcm --vae tiny", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Sampler, g.Steps, g.CFGScale, g.VAE = "lcm", 4, 1, "tiny" })}},
		{"cat -I in.png", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.InitImage = "in.png" })}},
		{"cat -I -1 -f 0.3", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.InitBack, g.Strength = 1, 0.3 })}},
		{"cat --init_img 'a b.png' --strength 0.99", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.InitImage, g.Strength = "a b.png", 0.99 })}},
		{"cat -U 2", Job{Kind: Generate, Prompt: "cat", Generation: defaults, Upscale: &Upscale{Factor: 2, Strength: 0.75}}},
		{"cat -U 4 --esrgan_model general-x4v3", Job{Kind: Generate, Prompt: "cat", Generation: defaults,
			Upscale: &Upscale{Factor: 4, Strength: 0.75}, Upscaler: "general-x4v3"}},
		{"cat -U 1.5 1", Job{Kind: Generate, Prompt: "cat", Generation: defaults, Upscale: &Upscale{Factor: 1.5, Strength: 1}}},
		// On a prompt line -W and -H stay the generated image's size, with -U or without.
		{"cat -W 768 -U 3", Job{Kind: Generate, Prompt: "cat", Generation: gen(func(g *Generation) { g.Width = 768 }),
			Upscale: &Upscale{Factor: 3, Strength: 0.75}}},
		{"cat -G 0", Job{Kind: Generate, Prompt: "cat", Generation: defaults, Faces: face(0, "gfpgan", 0.75)}},
		{"cat --gfpgan_strength 0.4 --facetool codeformer --codeformer_fidelity 1", Job{Kind: Generate, Prompt: "cat", Generation: defaults,
			Faces: face(0.4, "codeformer", 1)}},
		{"cat --save_orig", Job{Kind: Generate, Prompt: "cat", Generation: defaults, SaveOriginal: true}},
		{"cat -save_orig -U 4", Job{Kind: Generate, Prompt: "cat", Generation: defaults, SaveOriginal: true, Upscale: &Upscale{Factor: 4, Strength: 0.75}}},
		{"cat --save_original", Job{Kind: Generate, Prompt: "cat", Generation: defaults, SaveOriginal: true}},
		{"cat -o elsewhere", Job{Kind: Generate, Prompt: "cat", Generation: defaults, Outdir: "elsewhere"}},
		{"superman dancing with a panda bear -U 2 0.6 -G 0.4", Job{Kind: Generate, Prompt: "superman dancing with a panda bear",
			Generation: defaults, Upscale: &Upscale{Factor: 2, Strength: 0.6}, Faces: face(0.4, "gfpgan", 0.75)}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.line)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.line, err)
			continue
		}
		got.Line = ""
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
		}
	}
}

// Every switch, each way it can be wrong: one line naming the problem.
func TestParseInvalid(t *testing.T) {
	useRules(t, unixRules) // the table is written in Unix shell syntax, backslash escapes included
	tests := []struct{ line, want string }{
		// commands
		{"!fix", "!fix needs an image: !fix PATH [-U factor [strength]] [-W pixels] [-H pixels] [-G strength] [-ft tool] [-cf fidelity]"},
		{"!fix -U 4", "!fix needs an image: !fix PATH [-U factor [strength]] [-W pixels] [-H pixels] [-G strength] [-ft tool] [-cf fidelity]"},
		{"!fix a.png", "!fix a.png has nothing to do: add -U with a factor, -W or -H with a size, or -G with a strength above 0"},
		{"!fix a.png -G 0", "!fix a.png has nothing to do: add -U with a factor, -W or -H with a size, or -G with a strength above 0"},
		{"!fix a.png b.png -U 4", `unexpected "b.png": switches come after the prompt or path, each with its values`},
		{"!fix a.png -U 4 -s 20", "-s does not apply to !fix: it takes -U, -W, -H, --esrgan_model, -G, -ft, -cf, --faces, --face_color, --format, --quality and -o"},
		{"!fix a.png -U 4 --save_orig", "--save_orig does not apply to !fix: it takes -U, -W, -H, --esrgan_model, -G, -ft, -cf, --faces, --face_color, --format, --quality and -o"},
		{"!fetch", "!fetch needs one image made by dream: !fetch PATH"},
		{"!fetch a b", "!fetch needs one image made by dream: !fetch PATH"},
		{"!history now", "!history takes nothing after it"},
		{"!help -U -G", "!help takes at most one switch or command, e.g. !help -U"},
		{"!nope", "unknown command !nope: type !help for the list"},
		{"q now", "q takes nothing after it"},
		{"-U 4", "the line has switches but no prompt: type the prompt first, then the switches"},
		{"cat 'unclosed", "the line has an unclosed quote"},
		{`cat \`, "the line ends with a lone backslash"},
		{"cat -Z 3", "unknown switch -Z: type !help for the list"},
		{"cat -s 20 extra", `unexpected "extra": switches come after the prompt or path, each with its values`},
		// -s
		{"cat -s", "-s needs a whole number of steps from 1 to 1000"},
		{"cat -s 0", "-s 0: give a whole number of steps from 1 to 1000"},
		{"cat -s 1001", "-s 1001: give a whole number of steps from 1 to 1000"},
		{"cat -s 2.5", "-s 2.5: give a whole number of steps from 1 to 1000"},
		{"cat --steps=ten", "--steps ten: give a whole number of steps from 1 to 1000"},
		// -S
		{"cat -S", "-S needs a seed: a number from 0 to 4294967295, or -1 for the last seed used"},
		{"cat -S 4294967296", "-S 4294967296: a seed is a number from 0 to 4294967295, or -1 for the last seed used"},
		{"cat -S 1.5", "-S 1.5: a seed is a number from 0 to 4294967295, or -1 for the last seed used"},
		{"cat -S x", "-S x: a seed is a number from 0 to 4294967295, or -1 for the last seed used"},
		// -n
		{"cat -n", "-n needs a whole number of images, 1 or more"},
		{"cat -n 0", "-n 0: give a whole number of images, 1 or more"},
		{"cat -n -3", "-n -3: give a whole number of images, 1 or more"},
		// -W -H
		{"cat -W", "-W needs a width from 64 to 4096 pixels"},
		{"cat -W 63", "-W 63: give a width from 64 to 4096 pixels"},
		{"cat -W 4097", "-W 4097: give a width from 64 to 4096 pixels"},
		{"cat -H wide", "-H wide: give a height from 64 to 4096 pixels"},
		{"cat -H 0", "-H 0: give a height from 64 to 4096 pixels"},
		// -C
		{"cat -C", "-C needs a guidance scale from 0 to 100, e.g. 7.5"},
		{"cat -C -0.5", "-C -0.5: the guidance scale must be from 0 to 100"},
		{"cat -C 100.5", "-C 100.5: the guidance scale must be from 0 to 100"},
		{"cat -C 101 -A lcm", "-C 101: the guidance scale must be from 0 to 100"},
		{"cat -C NaN", "-C NaN: give a guidance scale from 0 to 100, e.g. 7.5"},
		{"cat -C Inf", "-C Inf: give a guidance scale from 0 to 100, e.g. 7.5"},
		// -A
		{"cat -A", "-A: choose a sampler from ddim, plms, k_lms, k_euler, k_euler_a, k_heun, k_dpm_2, k_dpm_2_a, k_dpmpp_2m, k_dpmpp_2m_karras, lcm"},
		{"cat -A euler", "-A euler: choose a sampler from ddim, plms, k_lms, k_euler, k_euler_a, k_heun, k_dpm_2, k_dpm_2_a, k_dpmpp_2m, k_dpmpp_2m_karras, lcm"},
		// --vae
		{"cat --vae", "--vae: choose a VAE decoder from full, tiny"},
		{"cat --vae taesd", "--vae taesd: choose a VAE decoder from full, tiny"},
		{"!fix a.png -U 4 --vae tiny", "--vae does not apply to !fix: it takes -U, -W, -H, --esrgan_model, -G, -ft, -cf, --faces, --face_color, --format, --quality and -o"},
		// -I
		{"cat -I", "-I needs an image path, or -1 for the last image written"},
		{"cat -I 3", "-I 3: give an image path, or -1 for the last image written"},
		// -f
		{"cat -f", "-f needs an img2img strength between 0 and 1, e.g. 0.75"},
		{"cat -f 0", "-f 0: the img2img strength must be between 0 and 1, not including either"},
		{"cat -f 1", "-f 1: the img2img strength must be between 0 and 1, not including either"},
		{"cat -f much", "-f much: give an img2img strength between 0 and 1, e.g. 0.75"},
		// -U
		{"cat -U", "-U takes a factor from 1 to 8 and an optional strength from 0 to 1, e.g. -U 4 0.6 or -U 1.5"},
		{"!fix a.png -U 0.5", "-U 0.5: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{"!fix a.png -U 8.01 0.5", "-U 8.01: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{"!fix a.png -U 16", "-U 16: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{"!fix a.png -U -2", "-U -2: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{"cat -U 0", "-U 0: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{"!fix a.png -U NaN", "-U NaN: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{"!fix a.png -U Inf", "-U Inf: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{"!fix a.png -U two", "-U two: the upscale factor must be a number from 1 to 8, e.g. 1.5, 2 or 4"},
		{"!fix a.png -U 4 1.5", "-U 4 1.5: the upscale strength must be a number from 0 to 1"},
		{"!fix a.png -U 4 -0.1", "-U 4 -0.1: the upscale strength must be a number from 0 to 1"},
		{"!fix a.png -U 4 NaN", "-U 4 NaN: the upscale strength must be a number from 0 to 1"},
		{"!fix a.png -U 4 0.5 0.5", "-U takes a factor from 1 to 8 and an optional strength from 0 to 1, e.g. -U 4 0.6 or -U 1.5"},
		// --esrgan_model
		{"!fix a.png -U 2 --esrgan_model", "--esrgan_model: choose an upscaler from x4plus, general-x4v3"},
		{"!fix a.png -U 2 --esrgan_model x2plus", "--esrgan_model x2plus: choose an upscaler from x4plus, general-x4v3"},
		{"!fix a.png -G 1 --esrgan_model x4plus", "--esrgan_model x4plus picks the network of -U: add -U with a factor (or -W/-H on !fix)"},
		{"cat --esrgan_model general-x4v3", "--esrgan_model general-x4v3 picks the network of -U: add -U with a factor (or -W/-H on !fix)"},
		{"a cat --resume", "--resume applies to !fix; to skip the lines of a file whose images exist, start dream with --from_file FILE --resume"},
		// -W and -H on !fix: the size to upscale to
		{"!fix a.png -W", "-W needs the width to upscale to, in pixels, e.g. 1600"},
		{"!fix a.png -W 0", "-W 0: give the width to upscale to, in pixels, e.g. 1600"},
		{"!fix a.png --height=-5", "--height -5: give the height to upscale to, in pixels, e.g. 1600"},
		{"!fix a.png -H 1e3", "-H 1e3: give the height to upscale to, in pixels, e.g. 1600"},
		{"!fix a.png -W 160001", "-W 160001: give the width to upscale to, in pixels, e.g. 1600"},
		// -G
		{"cat -G", "-G needs a face restoration strength from 0 to 1"},
		{"!fix a.png -G 1.2", "-G 1.2: the face restoration strength must be from 0 to 1"},
		{"!fix a.png -G -0.5", "-G -0.5: the face restoration strength must be from 0 to 1"},
		{"!fix a.png -G strong", "-G strong: give a face restoration strength from 0 to 1"},
		// -ft
		{"!fix a.png -G 1 -ft", "-ft: choose a face restorer from gfpgan, codeformer"},
		{"!fix a.png -G 1 -ft restoreformer", "-ft restoreformer: choose a face restorer from gfpgan, codeformer"},
		// -cf
		{"!fix a.png -G 1 -cf", "-cf needs a CodeFormer fidelity from 0 to 1"},
		{"!fix a.png -G 1 -cf 2", "-cf 2: the CodeFormer fidelity must be from 0 to 1"},
		{"!fix a.png -G 1 -cf high", "-cf high: give a CodeFormer fidelity from 0 to 1"},
		// --faces and --face_color (more in faces_test.go)
		{"!fix a.png -G 1 --faces", "--faces needs which faces to restore: all, largest, face numbers such as 1,3 (1 is the largest), or minsize=PX (pixels between the eyes)"},
		{"!fix a.png -G 1 --face_color auto", "--face_color auto: choose how to treat the restored faces' colour from match, off"},
		// --save_orig
		{"cat --save_orig=yes", "--save_orig takes no value"},
		{"cat --save_orig yes", `unexpected "yes": switches come after the prompt or path, each with its values`},
		// -o
		{"!fix a.png -U 4 -o", "-o needs a directory"},
		{"!fix a.png -U 4 -o ''", "-o needs a directory"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.line)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q", tt.line, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q) error\n got %q\nwant %q", tt.line, err, tt.want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("Parse(%q): the error is more than one line", tt.line)
		}
	}
}

// Every switch appears in both tables above, valid and invalid.
func TestEverySwitchIsTested(t *testing.T) {
	for _, s := range Switches {
		if !strings.Contains(testSource(t), " "+s.Names[0]) {
			t.Errorf("switch %s has no test line", s.Names[0])
		}
	}
}

func TestCommandRoundTrip(t *testing.T) {
	for _, line := range []string{
		`a "quoted" cat \ on a hill -s 20 -C 9 -A ddim -W 640 -H 384`,
		"superman dancing with a panda bear -U 2 0.6 -G 0.4 -ft codeformer -cf 0.7",
		"a cat -I 'in put.png' -f 0.4 -U 4 1",
		"a cat -s 20 -A k_dpmpp_2m",
		"a cat -s 25 -A K_DPMPP_2M_KARRAS -I in.png -f 0.6",
		"a cat -C 0 -A k_euler",
		"a cat -A lcm",
		"a cat -A lcm --vae tiny -I in.png -f 0.5",
		"a cat --vae tiny -s 30 -U 2",
		"a cat --vae full -s 30",
		"a cat -U 1.5",
		"a cat -U 3.25 0.6 -W 640",
		"a cat -U 8 1",
		"a cat -U 2 --esrgan_model general-x4v3",
	} {
		j, err := Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		cmd := j.Command(42)
		again, err := Parse(cmd)
		if err != nil {
			t.Fatalf("Parse(%q): %v", cmd, err)
		}
		if again.Command(42) != cmd || again.Prompt != j.Prompt || !again.Seed.Set || again.Seed.Value != 42 {
			t.Errorf("%q → %q → %q", line, cmd, again.Command(42))
		}
		// The stored command gives back the same generation, decoder and sampler defaults
		// included (none of these lines has -n, which a command does not keep).
		want := j.Generation
		want.Seed = Seed{Value: 42, Set: true}
		if again.Generation != want {
			t.Errorf("%q → %q: parsed back to %+v, want %+v", line, cmd, again.Generation, want)
		}
	}
	j, _ := Parse("a cat -U 2 0.6 -G 0.8 -ft codeformer -cf 0.7")
	if got, want := j.Command(123), `"a cat" -s 50 -S 123 -W 512 -H 512 -C 7.5 -A k_lms -G 0.8 -ft codeformer -cf 0.7 -U 2 0.6`; got != want {
		t.Errorf("Command = %s\nwant      %s", got, want)
	}
	// The Karras schedule travels in the sampler's name, so the stored command keeps it.
	j, _ = Parse("a cat -s 20 -A k_dpmpp_2m_karras")
	if got, want := j.Command(123), `"a cat" -s 20 -S 123 -W 512 -H 512 -C 7.5 -A k_dpmpp_2m_karras`; got != want {
		t.Errorf("Command = %s\nwant      %s", got, want)
	}
}

// The stored command spells what a line's defaults meant (lcm's -s and -C), and --vae only
// when it is tiny, so that commands stored before --vae existed stay byte for byte the same.
func TestCommand(t *testing.T) {
	useRules(t, unixRules)
	for _, tt := range []struct{ line, want string }{
		{"a cat", `"a cat" -s 50 -S 123 -W 512 -H 512 -C 7.5 -A k_lms`},
		{"a cat --vae full", `"a cat" -s 50 -S 123 -W 512 -H 512 -C 7.5 -A k_lms`},
		{"a cat --vae tiny", `"a cat" -s 50 -S 123 -W 512 -H 512 -C 7.5 -A k_lms --vae tiny`},
		{"a cat -A lcm", `"a cat" -s 4 -S 123 -W 512 -H 512 -C 1 -A lcm`},
		{"a cat -C 0 -A lcm -s 6 --vae tiny", `"a cat" -s 6 -S 123 -W 512 -H 512 -C 0 -A lcm --vae tiny`},
		{"a cat --vae tiny -A lcm -I in.png -f 0.5 -U 2", `"a cat" -s 4 -S 123 -W 512 -H 512 -C 1 -A lcm --vae tiny -I "in.png" -f 0.5 -U 2 0.75`},
		{"a cat -C -0", `"a cat" -s 50 -S 123 -W 512 -H 512 -C 0 -A k_lms`},
		{"a cat --esrgan_model=General-X4V3 -U 2", `"a cat" -s 50 -S 123 -W 512 -H 512 -C 7.5 -A k_lms -U 2 0.75 --esrgan_model general-x4v3`},
	} {
		j, err := Parse(tt.line)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.line, err)
		}
		if got := j.Command(123); got != tt.want {
			t.Errorf("%q: Command =\n%s\nwant\n%s", tt.line, got, tt.want)
		}
	}
}

// -A accepts exactly the samplers the sampler package runs, in its order.
func TestSamplersMatchPackageSampler(t *testing.T) {
	if !slices.Equal(Samplers, sampler.Names) {
		t.Errorf("-A accepts %v, but package sampler runs %v: make job.Samplers list sampler.Names", Samplers, sampler.Names)
	}
}

func TestSplit(t *testing.T) {
	useRules(t, unixRules) // the table is written in Unix shell syntax, backslash escapes included
	tests := []struct {
		line string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`'x y' "z \"w\"" v\ u`, []string{"x y", `z "w"`, "v u"}},
		{`''`, []string{""}},
		{"\ta\t", []string{"a"}},
	}
	for _, tt := range tests {
		got, err := Split(tt.line)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{"!fix a.png -U 4 0.5", `"x" -U 2`, "q", "# c", `!fix 'a b' -o "c d"`, "-U",
		"cat -s 20 -S -1 -n 2 -W 500 -C 7 -A ddim -I -1 -f 0.5 -G 0.5 -ft codeformer -cf 0.2 --save_orig", "cat --steps=3",
		"cat -A lcm --vae tiny -C 0"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		j, err := Parse(line)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("Parse(%q): a multi-line error", line)
			}
			return
		}
		if u := j.Upscale; u != nil && (!(u.Factor >= MinUpscale && u.Factor <= MaxUpscale) && !(u.Factor == 0 && u.Targets()) ||
			!inUnit(u.Strength) || u.Width < 0 || u.Height < 0 || (j.Kind != Fix && u.Targets())) {
			t.Fatalf("Parse(%q) accepted %+v", line, j.Upscale)
		}
		if j.Kind == Fix && j.Path == "" {
			t.Fatalf("Parse(%q) gave a fix without a path", line)
		}
		if j.Kind == Generate {
			if j.Width%64 != 0 || j.Height%64 != 0 || j.Steps < 1 || !(j.CFGScale >= MinCFGScale && j.CFGScale <= MaxCFGScale) ||
				!slices.Contains(VAEs, j.VAE) {
				t.Fatalf("Parse(%q) accepted %+v", line, j.Generation)
			}
			// The normalised command must parse back to itself.
			cmd := j.Command(7)
			again, err := Parse(cmd)
			if err != nil || again.Command(7) != cmd || again.VAE != j.VAE {
				t.Fatalf("Parse(%q): command %q does not round-trip: %v", line, cmd, err)
			}
		}
	})
}

func testSource(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("parse_test.go")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
