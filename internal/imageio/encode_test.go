package imageio

import (
	"bytes"
	"testing"
)

func TestEncodeLayouts(t *testing.T) {
	tests := []struct {
		name          string
		img           *Image
		wantColorType byte
		wantDepth     byte
	}{
		{"gray8", imageOf(2, 1, 1, 8, 0, 255), 0, 8},
		{"gray16", imageOf(2, 1, 1, 16, 0, 65535), 0, 16},
		{"rgb8", imageOf(1, 1, 3, 8, 1, 2, 3), 2, 8},
		{"rgb16", imageOf(1, 1, 3, 16, 1, 2, 3), 2, 16},
		{"rgba8", imageOf(1, 1, 4, 8, 1, 2, 3, 4), 6, 8},
		{"rgba16", imageOf(1, 1, 4, 16, 1, 2, 3, 4), 6, 16},
		// An alpha channel stays even where every pixel is opaque: RGBA in, RGBA out.
		{"opaque rgba8", imageOf(1, 1, 4, 8, 1, 2, 3, 255), 6, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, tt.img); err != nil {
				t.Fatal(err)
			}
			depth, colorType := pngIHDR(t, buf.Bytes())
			if colorType != tt.wantColorType || depth != tt.wantDepth {
				t.Errorf("colour type %d depth %d, want %d and %d", colorType, depth, tt.wantColorType, tt.wantDepth)
			}
		})
	}
}

func TestEncodeRejectsMalformedImages(t *testing.T) {
	tests := []struct {
		name    string
		img     *Image
		wantMsg string
	}{
		{"nil", nil, "cannot encode PNG: no image"},
		{"empty", &Image{Channels: 3, Depth: 8}, "cannot encode PNG: image has no pixels (0x0)"},
		{"two channels", &Image{W: 1, H: 1, Channels: 2, Depth: 8, Pix: []byte{1, 2}},
			"cannot encode PNG: image has 2 channels, want 1, 3 or 4"},
		{"depth 12", &Image{W: 1, H: 1, Channels: 1, Depth: 12, Pix: []byte{1}},
			"cannot encode PNG: image depth is 12 bits, want 8 or 16"},
		{"short Pix", &Image{W: 2, H: 2, Channels: 3, Depth: 8, Pix: make([]byte, 11)},
			"cannot encode PNG: image has 11 bytes, want 12 for 2x2 with 3 channels of 8 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Encode(&bytes.Buffer{}, tt.img)
			if err == nil || err.Error() != tt.wantMsg {
				t.Errorf("error %v, want %q", err, tt.wantMsg)
			}
		})
	}
}
