package batch

import (
	"fmt"
	"testing"

	"dream/internal/job"
)

// Every item is done by exactly one shard, whatever the number of shards.
func TestShardsCoverEveryItemOnce(t *testing.T) {
	const items = 23
	for n := 1; n <= 5; n++ {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			doneBy := make([]int, items)
			for i := range n {
				shard, err := ParseShard(fmt.Sprintf("%d/%d", i, n))
				if err != nil {
					t.Fatal(err)
				}
				for item := range items {
					if shard.Owns(item) {
						doneBy[item]++
					}
				}
			}
			for item, times := range doneBy {
				if times != 1 {
					t.Errorf("item %d is done %d times across %d shards", item, times, n)
				}
			}
		})
	}
}

func TestParseShardRefusals(t *testing.T) {
	for _, text := range []string{"", "1", "1/0", "4/4", "-1/4", "a/b", "1/2/3"} {
		if _, err := ParseShard(text); err == nil {
			t.Errorf("--shard %q was accepted", text)
		}
	}
}

func TestShardFromEnvironment(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		shardCount int
		want       Shard
		wantErr    bool
	}{
		{name: "none", want: All},
		{name: "slurm from 0", env: map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"},
			want: Shard{2, 4, "SLURM_ARRAY_TASK_ID"}},
		{name: "slurm from 1", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"},
			want: Shard{0, 3, "SLURM_ARRAY_TASK_ID"}},
		{name: "slurm stepped", env: map[string]string{"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "4"},
			want: Shard{3, 4, "SLURM_ARRAY_TASK_ID"}},
		{name: "slurm without count", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, wantErr: true},
		{name: "slurm off the step", env: map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_STEP": "2", "SLURM_ARRAY_TASK_COUNT": "4"}, wantErr: true},
		{name: "kubernetes", env: map[string]string{"JOB_COMPLETION_INDEX": "4"}, shardCount: 5, want: Shard{4, 5, "JOB_COMPLETION_INDEX"}},
		{name: "kubernetes without count", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, wantErr: true},
		{name: "kubernetes out of range", env: map[string]string{"JOB_COMPLETION_INDEX": "5"}, shardCount: 5, wantErr: true},
		{name: "count without index", shardCount: 3, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnvironment(func(k string) string { return tt.env[k] }, tt.shardCount)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("shard %+v, want %+v", got, tt.want)
			}
		})
	}
}

// Sharding a planned file: 23 items over N shards, each item owned once, and the Slurm
// variables of each array task pick the same split as --shard.
func TestShardedPlanCoversFileOnce(t *testing.T) {
	dir := tempDir(t)
	var lines []string
	for i := range 20 {
		writeFile(t, dir, fmt.Sprintf("img%02d.png", i))
	}
	lines = append(lines, "# photos", "!fix "+job.Quote(dir)+" -U 2", "a cat -S 1", "!help", "a dog -S 2 -n 2", "!fix nowhere.png -U 2")
	entries, items := Plan(lines, func(j jobT) string { return tempDir(t) })
	if items != 23 {
		t.Fatalf("%d items, want 23", items)
	}
	for n := 1; n <= 5; n++ {
		count := make([]int, items)
		for i := range n {
			shard, err := FromEnvironment(func(k string) string {
				return map[string]string{"SLURM_ARRAY_TASK_ID": fmt.Sprint(i + 1), "SLURM_ARRAY_TASK_MIN": "1",
					"SLURM_ARRAY_TASK_COUNT": fmt.Sprint(n)}[k]
			}, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Item >= 0 && shard.Owns(e.Item) {
					count[e.Item]++
				}
			}
		}
		for item, c := range count {
			if c != 1 {
				t.Errorf("N=%d: item %d done %d times", n, item, c)
			}
		}
	}
}
