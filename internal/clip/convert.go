package clip

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// WriteDir converts CLIP's own merges file (bpe_simple_vocab_16e6.txt.gz) into the
// vocab.json and merges.txt a diffusers model folder carries, in dir. Tests use it to give
// their small Stable Diffusion exports the real tokenizer.
func WriteDir(mergesGz, dir string) error {
	merges, err := readMergesGz(mergesGz)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	vocab, err := json.Marshal(clipVocab(merges))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "vocab.json"), vocab, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "merges.txt"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "#version: 0.2")
	for _, m := range merges {
		fmt.Fprintln(w, m.a, m.b)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
