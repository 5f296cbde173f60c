package pipeline

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// PhysicalMemory is the machine's RAM in bytes, from /proc/meminfo; 0 where that cannot be
// read (other systems), which callers treat as "not plentiful".
func PhysicalMemory() uint64 {
	return meminfo("MemTotal:")
}

// meminfo reads one field of /proc/meminfo, in bytes; 0 where it cannot be read.
func meminfo(field string) uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == field {
			kib, err := strconv.ParseUint(fields[1], 10, 64)
			if err == nil {
				return kib << 10
			}
		}
	}
	return 0
}

// AvailableMemory is the memory the system can give without swapping (MemAvailable in
// /proc/meminfo), in bytes; 0 where that cannot be read.
func AvailableMemory() uint64 {
	return meminfo("MemAvailable:")
}

// Bounds of the default model budget (see DefaultMaxMemory).
const (
	memoryShare    = 3 // a third of the available memory
	minModelMemory = 256 << 20
	maxModelMemory = 16 << 30
	unknownMemory  = 1 << 30 // where the available memory cannot be read
)

// DefaultMaxMemory is --max_memory when it is not given: a third of the memory available at
// start, kept between 256 MiB (below that tiles get tiny) and 16 GiB (beyond that no window is
// faster). x4plus, which runs as body and tail (upscale's split.go), takes 4.6 KiB a window
// pixel and its large windows are barely slower a pixel (3.5% at 950k pixels against 512²),
// so fewer, larger windows win: on a 24 GB machine a third lets a 1920×1350 photo run in 2
// windows that overlap by 5%, where a quarter needed 3 overlapping by 10%. Two thirds are left
// for the images, the system and a second dream.
func DefaultMaxMemory() int64 {
	available := AvailableMemory()
	if available == 0 {
		return unknownMemory
	}
	return budgetOf(available, memoryShare)
}

// gpuMemoryShare is the share of a GPU's free memory a model's working set may take: half,
// more than of RAM, since the images, the system and other programs live in RAM, not on the
// card. The rest is for cuDNN's workspaces, which the exhaustive algorithm search sizes, and
// for the next model's weights. (Not measured on a GPU yet: the tile costs in
// upscale.Model.BytesPerPixel are CPU figures, taken as the GPU's for want of better.)
const gpuMemoryShare = 2

// GPUMaxMemory is --max_memory's default for a model that runs on a GPU with free bytes of
// memory free after its weights loaded, within the same bounds as DefaultMaxMemory.
func GPUMaxMemory(free uint64) int64 {
	return budgetOf(free, gpuMemoryShare)
}

func budgetOf(available uint64, share int) int64 {
	return min(max(int64(available/uint64(share)), minModelMemory), maxModelMemory)
}

// checkUpscaleMemory refuses, before any work, an upscale whose result cannot be held: the
// output image (and, for a result beyond ×4, the ×4 image between the two passes) with the
// model's working set (budget) must fit in the memory available now, the source being
// decoded already. Beyond that the system would swap or kill dream halfway through a job of
// many minutes (issue 25: 20000² ×2 is a 40000² result of 4.8 GB at 8 bits). available 0
// means unknown: nothing is refused.
func checkUpscaleMemory(w, h, channels, depth, outW, outH int, available uint64, budget int64) error {
	if available == 0 {
		return nil
	}
	pixel := int64(channels * depth / 8)
	output := int64(outW) * int64(outH) * pixel
	var between int64
	if upscalePasses(w, h, outW, outH) > 1 {
		between = 16 * int64(w) * int64(h) * pixel
	}
	need := output + between
	room := int64(available) - budget
	if need <= room {
		return nil
	}
	return fmt.Errorf("upscaling %d×%d to %d×%d needs %s for its images, and with the model's %s (--max_memory) that is more than the %s of memory available: "+
		"use a smaller factor, or give !fix a target width of at most %s",
		w, h, outW, outH, gigabytes(need), gigabytes(budget), gigabytes(int64(available)), widthThatFits(w, outW, output, between, room))
}

// widthThatFits is the largest target width, in hundreds of pixels, whose result fits in
// room bytes, where outW's result takes output bytes and, beyond ×4, the ×4 image held
// between the passes takes between more. Only the result shrinks with the width: the ×4
// image is the source's. A width of at most 4w runs in one pass and holds nothing between,
// so it may fit where no two-pass width does. "0" when nothing fits.
func widthThatFits(w, outW int, output, between, room int64) string {
	if room <= 0 {
		return "0 (lower --max_memory first)"
	}
	width := scaledToFit(outW, output, room)
	if between > 0 {
		width = min(width, 4*w/100*100) // one pass
		if room > between {
			width = max(width, scaledToFit(outW, output, room-between))
		}
	}
	return strconv.Itoa(width)
}

// scaledToFit is outW, floored to hundreds, scaled so that an image of the same aspect
// taking output bytes at outW takes at most room bytes.
func scaledToFit(outW int, output, room int64) int {
	return int(float64(outW)*math.Sqrt(float64(room)/float64(output))) / 100 * 100
}

// gigabytes writes a size as people read memory: "4.8 GB".
func gigabytes(n int64) string {
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}
