package ort

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// The headers below are the first bytes of a library of each format, enough for the check,
// written with the standard library's types rather than copied from the real (large) files.

func elfHeader(m elf.Machine) []byte {
	h := elf.Header64{Type: uint16(elf.ET_DYN), Machine: uint16(m), Version: uint32(elf.EV_CURRENT), Ehsize: 64}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS], h.Ident[elf.EI_DATA], h.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	return encode(h)
}

// peHeader is a DOS stub that points (at 0x3c) just past itself, at the PE signature and
// header. debug/pe reads 96 bytes of stub whatever the pointer says; real ones have 128.
func peHeader(machine uint16) []byte {
	stub := make([]byte, 128)
	copy(stub, "MZ")
	binary.LittleEndian.PutUint32(stub[0x3c:], uint32(len(stub)))
	return append(append(stub, "PE\x00\x00"...), encode(pe.FileHeader{Machine: machine, Characteristics: pe.IMAGE_FILE_DLL})...)
}

func machoHeader(cpu macho.Cpu) []byte {
	return encode(macho.FileHeader{Magic: macho.Magic64, Cpu: cpu, Type: macho.TypeDylib})
}

// fatHeader is a universal file's list of CPUs, big-endian as the format has it.
func fatHeader(cpus ...macho.Cpu) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [2]uint32{macho.MagicFat, uint32(len(cpus))})
	for i, cpu := range cpus {
		binary.Write(&b, binary.BigEndian, macho.FatArchHeader{Cpu: cpu, Offset: uint32(i+1) << 14, Align: 14})
	}
	return b.Bytes()
}

func encode(v any) []byte {
	var b bytes.Buffer
	if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
		panic(err)
	}
	return b.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// headerFor is a library header for p, from the tables checkPlatform reads.
func headerFor(p platform) []byte {
	switch p.os {
	case "windows":
		for m, arch := range peArchs {
			if arch == p.arch {
				return peHeader(m)
			}
		}
	case "darwin":
		for cpu, arch := range machoArchs {
			if arch == p.arch {
				return machoHeader(cpu)
			}
		}
	default:
		for m, arch := range elfArchs {
			if arch == p.arch {
				return elfHeader(m)
			}
		}
	}
	panic("no header for " + p.String())
}

// hostPlatform is this dream's platform; foreignPlatform is the same OS on another CPU.
func hostPlatform() platform { return platform{runtime.GOOS, runtime.GOARCH} }

func foreignPlatform() platform {
	if runtime.GOARCH == "arm64" {
		return platform{runtime.GOOS, "amd64"}
	}
	return platform{runtime.GOOS, "arm64"}
}

func TestCheckPlatform(t *testing.T) {
	dir := t.TempDir()
	elfArm := writeFile(t, filepath.Join(dir, "libonnxruntime.so.1"), elfHeader(elf.EM_AARCH64))
	peAmd := writeFile(t, filepath.Join(dir, "onnxruntime.dll"), peHeader(pe.IMAGE_FILE_MACHINE_AMD64))
	machoArm := writeFile(t, filepath.Join(dir, "libonnxruntime.dylib"), machoHeader(macho.CpuArm64))
	fat := writeFile(t, filepath.Join(dir, "universal.dylib"), fatHeader(macho.CpuAmd64, macho.CpuArm64))
	text := touch(t, filepath.Join(dir, "notalib.so"))
	tests := []struct {
		path string
		host platform
		want string // the error's text after the path; "" when the library fits
	}{
		{elfArm, platform{"linux", "arm64"}, ""},
		{elfArm, platform{"linux", "amd64"}, " is a library for linux/arm64; this dream is linux/amd64"},
		{elfArm, platform{"windows", "arm64"}, " is a library for linux/arm64; this dream is windows/arm64"},
		{peAmd, platform{"windows", "amd64"}, ""},
		{peAmd, platform{"windows", "arm64"}, " is a library for windows/amd64; this dream is windows/arm64"},
		{peAmd, platform{"linux", "amd64"}, " is a library for windows/amd64; this dream is linux/amd64"},
		{machoArm, platform{"darwin", "arm64"}, ""},
		{machoArm, platform{"darwin", "amd64"}, " is a library for darwin/arm64; this dream is darwin/amd64"},
		{fat, platform{"darwin", "amd64"}, ""},
		{fat, platform{"linux", "arm64"}, " is a library for darwin/amd64 and darwin/arm64; this dream is linux/arm64"},
		// What is not a library of a known kind is left to the loader to refuse.
		{text, platform{"linux", "amd64"}, ""},
		{text + ".gone", platform{"linux", "amd64"}, ""},
	}
	for _, tt := range tests {
		err := checkPlatformFor(tt.path, tt.host)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.path+tt.want) {
			t.Errorf("%s on %s: %v, want %q", filepath.Base(tt.path), tt.host, err, tt.want)
		}
	}
	if err := checkPlatform(goodLibrary(t)); err != nil {
		t.Errorf("the installed library: %v", err)
	}
}
