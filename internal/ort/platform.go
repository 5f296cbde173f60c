package ort

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
)

// platform is an OS and CPU as Go names them: "linux/arm64".
type platform struct{ os, arch string }

func (p platform) String() string { return p.os + "/" + p.arch }

// wrongPlatform reports a library built for another OS or CPU than this dream. The loader's
// own words for it ("wrong ELF class", "%1 is not a valid Win32 application") do not say
// which library this dream needs.
type wrongPlatform struct {
	path  string
	built []platform
	host  platform
}

func (e *wrongPlatform) Error() string {
	names := make([]string, len(e.built))
	for i, p := range e.built {
		names[i] = p.String()
	}
	return fmt.Sprintf("%s is a library for %s; this dream is %s", e.path, joinNames(names), e.host)
}

// checkPlatform refuses a library built for another OS or CPU than this dream, before the
// loader tries it. A file whose header it cannot read is let through: the loader says why.
func checkPlatform(path string) error {
	return checkPlatformFor(path, platform{runtime.GOOS, runtime.GOARCH})
}

func checkPlatformFor(path string, host platform) error {
	built := libraryPlatforms(path, host.os)
	if len(built) == 0 {
		return nil
	}
	for _, p := range built {
		if p == host {
			return nil
		}
	}
	return &wrongPlatform{path: path, built: built, host: host}
}

// libraryPlatforms reads from a library's header which platforms it is built for: one, or
// several for a universal Mach-O file; none when the file is not a library of a known format
// and CPU. Only the headers are read: opening the whole Mach-O file reads its symbol table,
// which took 250 ms for ONNX Runtime.
func libraryPlatforms(path, hostOS string) []platform {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0); err != nil {
		return nil
	}
	switch {
	case bytes.Equal(magic[:], []byte(elf.ELFMAG)):
		return elfPlatform(f, hostOS)
	case bytes.Equal(magic[:2], []byte("MZ")):
		return pePlatform(f)
	}
	return machoPlatforms(f, magic)
}

// elfOS is the OS an ELF library counts as. Its header seldom names one (ELFOSABI_NONE), and
// every ELF system's loader takes such files, so on an ELF system it is the host's own.
func elfOS(hostOS string) string {
	if hostOS == "windows" || hostOS == "darwin" || hostOS == "ios" {
		return "linux"
	}
	return hostOS
}

var elfArchs = map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386",
	elf.EM_ARM: "arm", elf.EM_RISCV: "riscv64", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x", elf.EM_LOONGARCH: "loong64"}

func elfPlatform(r io.ReaderAt, hostOS string) []platform {
	f, err := elf.NewFile(r)
	if err != nil {
		return nil
	}
	arch, ok := elfArchs[f.Machine]
	if !ok {
		return nil
	}
	if f.Machine == elf.EM_PPC64 && f.Data == elf.ELFDATA2MSB {
		arch = "ppc64"
	}
	return []platform{{elfOS(hostOS), arch}}
}

var peArchs = map[uint16]string{pe.IMAGE_FILE_MACHINE_AMD64: "amd64", pe.IMAGE_FILE_MACHINE_ARM64: "arm64",
	pe.IMAGE_FILE_MACHINE_I386: "386", pe.IMAGE_FILE_MACHINE_ARMNT: "arm"}

func pePlatform(r io.ReaderAt) []platform {
	f, err := pe.NewFile(r)
	if err != nil {
		return nil
	}
	if arch, ok := peArchs[f.Machine]; ok {
		return []platform{{"windows", arch}}
	}
	return nil
}

var machoArchs = map[macho.Cpu]string{macho.CpuAmd64: "amd64", macho.CpuArm64: "arm64", macho.Cpu386: "386"}

// machoPlatforms reads a Mach-O header, or a universal file's list of the CPUs it holds.
func machoPlatforms(r io.ReaderAt, magic [4]byte) []platform {
	var cpus []macho.Cpu
	switch {
	case binary.BigEndian.Uint32(magic[:]) == macho.MagicFat:
		cpus = fatCPUs(r)
	case isMachoMagic(binary.LittleEndian.Uint32(magic[:])):
		cpus = machoCPU(r, binary.LittleEndian)
	case isMachoMagic(binary.BigEndian.Uint32(magic[:])):
		cpus = machoCPU(r, binary.BigEndian)
	}
	var platforms []platform
	for _, cpu := range cpus {
		if arch, ok := machoArchs[cpu]; ok {
			platforms = append(platforms, platform{"darwin", arch})
		}
	}
	return platforms
}

func isMachoMagic(m uint32) bool { return m == macho.Magic32 || m == macho.Magic64 }

func machoCPU(r io.ReaderAt, order binary.ByteOrder) []macho.Cpu {
	var h macho.FileHeader
	if binary.Read(io.NewSectionReader(r, 0, 28), order, &h) != nil {
		return nil
	}
	return []macho.Cpu{h.Cpu}
}

// fatCPUs lists the CPUs of a universal file: a big-endian count after the magic, then one
// macho.FatArchHeader per CPU.
func fatCPUs(r io.ReaderAt) []macho.Cpu {
	sr := io.NewSectionReader(r, 4, 1<<20)
	var n uint32
	// A Java class file has the same magic, then its version (45 or more) where the count is.
	if binary.Read(sr, binary.BigEndian, &n) != nil || n == 0 || n > 20 {
		return nil
	}
	archs := make([]macho.FatArchHeader, n)
	if binary.Read(sr, binary.BigEndian, archs) != nil {
		return nil
	}
	cpus := make([]macho.Cpu, n)
	for i, a := range archs {
		cpus[i] = a.Cpu
	}
	return cpus
}
