package pipeline

import "testing"

func TestGPUMaxMemory(t *testing.T) {
	tests := []struct {
		free uint64
		want int64
	}{
		{0, minModelMemory},         // a full card still gets the smallest tiles
		{300 << 20, minModelMemory}, // half of it is under the floor
		{6 << 30, 3 << 30},          // an 8 GB card with its weights loaded: half
		{23 << 30, 23 << 29},        // a 24 GB card
		{138 << 30, maxModelMemory}, // an H200: no window is faster past the cap
		{uint64(maxModelMemory) * 2, maxModelMemory},
	}
	for _, tt := range tests {
		if got := GPUMaxMemory(tt.free); got != tt.want {
			t.Errorf("GPUMaxMemory(%d MiB free) = %d MiB, want %d MiB", tt.free>>20, got>>20, tt.want>>20)
		}
	}
	// On RAM the share is a third, within the same bounds.
	if got := budgetOf(9<<30, memoryShare); got != 3<<30 {
		t.Errorf("budgetOf(9 GiB, a third) = %d MiB", got>>20)
	}
}
