// Command dream is an interactive shell that generates images with Stable Diffusion, upscales
// them with Real-ESRGAN and restores faces with GFPGAN or CodeFormer, all through ONNX
// Runtime. Run it and type !help at the dream> prompt.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"dream/internal/batch"
	"dream/internal/job"
	"dream/internal/models"
	"dream/internal/ncnn"
	"dream/internal/ort"
	"dream/internal/pipeline"
	"dream/internal/queue"
	"dream/internal/shell"
)

// flags are the launch options (SPEC §1).
type flags struct {
	outdir       string
	models       string
	upscaler     string
	upscalerPath string
	gfpganPath   string
	gfpganVer    string
	codeformer   string
	sdModel      string
	keepModels   string
	tiledDecode  bool
	tile         int
	maxMemory    string
	// maxMemoryBytes is maxMemory read by validate; 0 for the pipeline's default.
	maxMemoryBytes int64
	device         string
	threads        int
	ortLib         string
	fromFile       string
	shard          string
	shardCount     int
	resume         bool
	noUpscale      bool
	noRestore      bool
	format         string // --format, checked by validate
	qualityText    string // --quality as given
	quality        int    // --quality read by validate; 0 when not given
	listModels     bool
	preload        bool
	importNCNN     bool
	web            bool
	host           string
	port           int
	webToken       string
	webMaxUpload   string
	// webMaxUploadBytes is webMaxUpload read by validate.
	webMaxUploadBytes int64
	help              bool

	installRuntime bool
	// from is --from: the npm tarball --install-runtime takes, or the folder of model files
	// --preload takes, instead of downloading them.
	from    string
	version bool
}

func parseFlags(args []string) (*flags, *pflag.FlagSet, error) {
	f := &flags{}
	fs := pflag.NewFlagSet("dream", pflag.ContinueOnError)
	fs.SortFlags = false
	fs.StringVar(&f.outdir, "outdir", "outputs/img-samples", "directory for the images dream writes")
	fs.StringVar(&f.format, "format", "", "file format of every result whose line gives no --format: png, jpg or webp; jpg and webp hold 8 bits, so a 16-bit image is rounded (default: png for generated images, a !fix source's own format)")
	fs.StringVar(&f.qualityText, "quality", "", "jpg and webp quality of every result whose line gives no --quality, 1 to 100; webp at 100 is lossless (default 92 for jpg, 90 for webp)")
	fs.StringVar(&f.models, "models", "", "model directory (default $"+models.EnvDir+", else ~/.cache/dream/models)")
	fs.StringVar(&f.upscaler, "esrgan_model", models.DefaultUpscaler, "×4 upscaler: x4plus (best quality) or general-x4v3 (about 20× faster)")
	fs.StringVar(&f.upscalerPath, "esrgan_model_path", "", "use this Real-ESRGAN ONNX file for every upscale")
	fs.StringVar(&f.gfpganVer, "gfpgan_version", "1.4", "GFPGAN release for -ft gfpgan: 1.4, 1.3 or 1.2 (file gfpgan_VERSION.onnx)")
	fs.StringVar(&f.gfpganPath, "gfpgan_model_path", "", "use this GFPGAN ONNX file for -ft gfpgan")
	fs.StringVar(&f.codeformer, "codeformer_model_path", "", "use this CodeFormer ONNX file for -ft codeformer")
	fs.StringVar(&f.sdModel, "sd_model", "", "Stable Diffusion 1.x export in the diffusers ONNX layout (default: stable-diffusion-v1-5 in the model directory)")
	fs.StringVar(&f.keepModels, "keep_models", "auto", "keep the text encoder and VAE loaded between images: auto (when RAM is plentiful), yes or no")
	fs.BoolVar(&f.tiledDecode, "tiled_decode", false, "decode generated images in 256×256 tiles, to save memory (images above 512×512 always are)")
	fs.IntVar(&f.tile, "esrgan_bg_tile", 0, "upscale tile size in input pixels (default: the largest that fits the memory budget)")
	fs.StringVar(&f.maxMemory, "max_memory", "", "memory a model may work in, such as 800M or 4G; sizes the upscaler's tiles (default: a third of the memory available at start)")
	fs.StringVar(&f.device, "device", "auto", "execution provider: auto, cpu, cuda, cuda:N (GPU number N) or coreml; with --models-list, says which one models get")
	fs.StringVar(&f.device, "providers", "auto", "same as --device")
	fs.IntVar(&f.threads, "threads", 0, "threads per model run (default: SLURM_CPUS_PER_TASK, else the CPUs the affinity mask or the cgroup allows, else every core)")
	fs.StringVar(&f.ortLib, "ort-lib", "", "path of the ONNX Runtime shared library (default $"+ort.EnvLibrary+", then dream's own install)")
	fs.StringVar(&f.fromFile, "from_file", "", "run the lines of FILE, then exit")
	fs.StringVar(&f.shard, "shard", "", "with --from_file, do only the items I, I+N, I+2N… of the file (counted from 0), as I/N; Slurm's array variables give it by default")
	fs.IntVar(&f.shardCount, "shard_count", 0, "the number of shards when a Kubernetes Indexed Job (JOB_COMPLETION_INDEX) or a Slurm list array (--array=1,3,8) gives the shard, which is then the index or task ID mod N; $DREAM_SHARD_COUNT gives it too")
	fs.BoolVar(&f.resume, "resume", false, "skip the items whose results, judged by the command stored in them, are already in the output folder (and inputs that failed before as undecodable), and share the rest with other dream processes resuming the same work at once")
	fs.BoolVar(&f.noUpscale, "no_upscale", false, "never load the upscaling models")
	fs.BoolVar(&f.noRestore, "no_restore", false, "never load the face restoration models")
	fs.BoolVar(&f.listModels, "models-list", false, "list the models dream can use, installed or missing, and exit")
	fs.BoolVar(&f.preload, "preload", false, "download the missing models (or those named after the flags) and exit")
	fs.BoolVar(&f.importNCNN, "import-ncnn", false, "convert an ncnn pair to ONNX and exit: --import-ncnn X.param X.bin OUT.onnx")
	fs.BoolVar(&f.installRuntime, "install-runtime", false, "download ONNX Runtime "+ort.WantedVersion+
		" from the npm registry ($npm_config_registry names a mirror) to where dream finds it, and exit")
	fs.StringVar(&f.from, "from", "", "with --install-runtime, take the npm tarball from this file or folder; with --preload, take model files from this folder; instead of the network")
	fs.BoolVar(&f.version, "version", false, "print dream's version and exit")
	fs.BoolVar(&f.web, "web", false, "also serve a page that runs jobs in a browser, on the same queue as the prompt")
	fs.StringVar(&f.host, "host", "127.0.0.1", "with --web, the address to listen on; any but loopback needs a token")
	fs.IntVar(&f.port, "port", 9090, "with --web, the port to listen on (0 picks a free one)")
	fs.StringVar(&f.webToken, "web_token", "", "with --web, a token every request must carry (default: none on loopback, else one made at start)")
	fs.StringVar(&f.webMaxUpload, "web_max_upload", "64M", "with --web, the most one upload may send, such as 64M or 1G")
	fs.BoolVarP(&f.help, "help", "h", false, "show this help")
	err := fs.Parse(args)
	if err == nil && f.importNCNN && fs.NArg() != 3 {
		err = errors.New("--import-ncnn takes three paths: X.param X.bin OUT.onnx")
	}
	if err == nil && fs.NArg() > 0 && !f.preload && !f.importNCNN {
		err = fmt.Errorf("unexpected argument %q: dream takes only flags; type lines at its prompt", fs.Arg(0))
	}
	if err == nil {
		err = f.validate()
	}
	return f, fs, err
}

func (f *flags) validate() error {
	if _, ok := models.Upscalers[f.upscaler]; !ok {
		return fmt.Errorf("--esrgan_model %s: use x4plus or general-x4v3", f.upscaler)
	}
	if f.from != "" && !f.installRuntime && !f.preload {
		return errors.New("--from gives --install-runtime its npm tarball, or --preload its folder of model files; add one of them")
	}
	if !slices.Contains([]string{"1.4", "1.3", "1.2"}, f.gfpganVer) {
		return fmt.Errorf("--gfpgan_version %s: use 1.4, 1.3 or 1.2", f.gfpganVer)
	}
	if err := ort.CheckDevice(f.device); err != nil {
		return fmt.Errorf("--device: %v", err)
	}
	if f.tile < 0 || (f.tile > 0 && f.tile < 32) {
		return fmt.Errorf("--esrgan_bg_tile %d: use 0 (automatic) or a size of at least 32 pixels", f.tile)
	}
	if !slices.Contains([]string{"auto", "yes", "no"}, f.keepModels) {
		return fmt.Errorf("--keep_models %s: use auto, yes or no", f.keepModels)
	}
	if f.maxMemory != "" {
		n, err := parseSize(f.maxMemory)
		if err != nil {
			return fmt.Errorf("--max_memory: %v", err)
		}
		f.maxMemoryBytes = n
	}
	if (f.shard != "" || f.shardCount != 0) && f.fromFile == "" {
		return errors.New("--shard and --shard_count split the lines of --from_file FILE among processes; add --from_file")
	}
	if f.shard != "" {
		if _, err := batch.ParseShard(f.shard); err != nil {
			return err
		}
	}
	if f.web && f.fromFile != "" {
		return errors.New("--web serves a page beside the prompt, --from_file runs a file and exits: choose one")
	}
	if f.port < 0 || f.port > 65535 {
		return fmt.Errorf("--port %d: use a port from 1 to 65535, or 0 for any free one", f.port)
	}
	n, err := parseSize(f.webMaxUpload)
	if err != nil {
		return fmt.Errorf("--web_max_upload: %v", err)
	}
	f.webMaxUploadBytes = n
	if f.format != "" {
		if f.format, err = job.ParseFormat("--format", f.format); err != nil {
			return err
		}
	}
	if f.qualityText != "" {
		if f.quality, err = job.ParseQuality("--quality", f.qualityText); err != nil {
			return err
		}
	}
	if f.threads < 0 {
		return fmt.Errorf("--threads %d: use 0 (the default) or a positive number", f.threads)
	}
	if f.shardCount < 0 {
		return fmt.Errorf("--shard_count %d: give the number of shards, 1 or more", f.shardCount)
	}
	return nil
}

func main() {
	ort.UseHugePages()
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	f, fs, err := parseFlags(args)
	if f.help {
		fmt.Println("usage: dream [flags]\n\nflags:")
		fs.PrintDefaults()
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dream:", err)
		return 2
	}

	if f.version {
		fmt.Println(versionLine())
		return 0
	}
	if f.installRuntime {
		return installRuntime(f.from)
	}
	if f.listModels {
		models.WriteStatus(os.Stdout, models.Dir(f.models))
		if fs.Changed("device") || fs.Changed("providers") {
			fmt.Println(deviceLine(f))
		}
		return 0
	}
	if f.preload {
		return preload(models.Dir(f.models), f.from, fs.Args())
	}
	if f.importNCNN {
		if err := ncnn.ImportFile(fs.Arg(0), fs.Arg(1), fs.Arg(2)); err != nil {
			fmt.Fprintln(os.Stderr, "dream:", err)
			return 1
		}
		fmt.Printf("wrote %s\n", fs.Arg(2))
		return 0
	}

	var lines []string
	var shard batch.Shard
	if f.fromFile != "" {
		if lines, err = readLines(f.fromFile); err == nil {
			shard, err = shardOf(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "dream:", err)
			return 2
		}
	}
	if f.threads == 0 {
		var why string
		f.threads, why = defaultThreads(readCPUShare(os.Getenv))
		if why != "" {
			fmt.Fprintf(os.Stderr, "threads %d (from %s)\n", f.threads, why)
		}
	}
	if code, ok := offerRuntime(f); !ok {
		return code
	}
	var input shell.LineReader
	interactive := false
	if f.fromFile == "" {
		input, interactive = openInput()
		defer input.Close()
	}

	jobs := queue.New()
	sh := &shell.Shell{Out: os.Stdout, Err: os.Stderr, Interactive: interactive,
		ShowProgress: f.fromFile != "" && shell.IsTerminal(os.Stderr), Resume: f.resume, Queue: jobs}
	if f.fromFile != "" {
		sh.ResumeCommand = resumeCommand(os.Args[0], args, f.resume)
	}
	sh.Pipeline = pipeline.New(pipeline.Config{
		Outdir:        f.outdir,
		ModelDir:      models.Dir(f.models),
		Upscaler:      f.upscaler,
		UpscalerPath:  f.upscalerPath,
		RestorerPaths: map[string]string{"gfpgan": f.gfpganPath, "codeformer": f.codeformer},
		GFPGANVersion: f.gfpganVer,
		SDModel:       f.sdModel,
		KeepModels:    keepModels(f.keepModels),
		TiledDecode:   f.tiledDecode,
		Tile:          f.tile,
		MaxMemory:     f.maxMemoryBytes,
		NoUpscale:     f.noUpscale,
		NoRestore:     f.noRestore,
		Format:        f.format,
		Quality:       f.quality,
		Runtime:       runtimeOpener(f, sh.RestoreInterrupt, sh.Note),
		Progress:      jobs.Report, // the running job's own display, the shell's bar or the page
	})
	if f.web {
		return serveWithShell(f, sh, input)
	}
	if f.fromFile != "" {
		sh.RunLines(context.Background(), lines, shard)
	} else if err := sh.Run(context.Background(), input); err != nil {
		fmt.Fprintln(os.Stderr, "dream:", err)
		return 1
	}
	if sh.Terminated() {
		return shell.ExitTerminated
	}
	if !sh.Interactive && sh.NotStarted > 0 {
		return exitNotFinished // stopped by Ctrl-C: a scheduler must not count it done
	}
	if !sh.Interactive && sh.Failures > 0 {
		return 1 // a scheduler or a script learns that something failed
	}
	return 0
}

// resumeCommand is this run's command line with --resume, which a batch stopped by a full
// disk prints: run again, it does only what is missing.
func resumeCommand(program string, args []string, resuming bool) string {
	words := []string{shellQuote(program)}
	for _, a := range args {
		words = append(words, shellQuote(a))
	}
	if !resuming {
		words = append(words, "--resume")
	}
	return strings.Join(words, " ")
}

// shellQuote writes a word so that a POSIX shell reads it back unchanged.
func shellQuote(word string) string {
	if word != "" && strings.Trim(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") == "" {
		return word
	}
	return "'" + strings.ReplaceAll(word, "'", `'\''`) + "'"
}

// exitNotFinished is the exit status of a non-interactive run that Ctrl-C stopped with items
// not started, whatever else happened: 130, the shells' status for a SIGINT.
const exitNotFinished = 130

// openInput picks readline for a terminal and plain line reading for pipes.
func openInput() (shell.LineReader, bool) {
	if shell.IsTerminal(os.Stdin) && shell.IsTerminal(os.Stdout) {
		if in, err := shell.NewTerminalReader(); err == nil {
			return in, true
		}
	}
	return shell.NewPlainReader(os.Stdin), false
}

// readLines reads the whole of --from_file first: the items are numbered over the whole file,
// so that shards agree on who does what.
func readLines(path string) ([]string, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--from_file: %v", strings.TrimPrefix(err.Error(), "open "))
	}
	defer file.Close()
	in := shell.NewPlainReader(file)
	var lines []string
	for {
		line, err := in.ReadLine()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		if err != nil {
			return nil, fmt.Errorf("--from_file %s: %v", path, err)
		}
		lines = append(lines, line)
	}
}

// shardOf is the share of --from_file's items this process does: --shard, else what a
// scheduler's array variables say, else all of them.
func shardOf(f *flags) (batch.Shard, error) {
	if f.shard != "" {
		return batch.ParseShard(f.shard)
	}
	return batch.FromEnvironment(os.Getenv, f.shardCount)
}

// runtimeOpener defers loading ONNX Runtime to the first job that needs a model.
// Its notes (the CUDA fallback) go through the shell, which wipes a progress bar first.
func runtimeOpener(f *flags, restoreInterrupt func(), note func(string)) func() (*ort.Runtime, error) {
	return func() (*ort.Runtime, error) {
		return ort.Open(ort.Options{
			Library: f.ortLib,
			Threads: f.threads,
			Device:  f.device,
			Notice:  note,
			// The CUDA provider installs its own signal handlers; take SIGINT back so Ctrl-C
			// cancels a job instead of killing the process.
			AfterAccelerator: restoreInterrupt,
		})
	}
}

// deviceLine opens ONNX Runtime for the --device asked for and says where models would run,
// or why ONNX Runtime cannot be opened.
func deviceLine(f *flags) string {
	rt, err := ort.Open(ort.Options{Library: f.ortLib, Threads: f.threads, Device: f.device})
	if err != nil {
		return "device: none: " + err.Error()
	}
	return rt.DeviceLine()
}

// keepModels decides sd.Policy.KeepAll: "auto" keeps the text encoder and VAE loaded when the
// machine has at least 16 GiB, twice what a 512×512 run needs with everything loaded.
func keepModels(flag string) bool {
	switch flag {
	case "yes":
		return true
	case "no":
		return false
	}
	return pipeline.PhysicalMemory() >= 16<<30
}
