package batch

import (
	"fmt"
	"strings"
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

// slurmEnv is the environment Slurm gives a task of an array: the task's ID, and the array's
// MIN, MAX, STEP and COUNT.
func slurmEnv(id, min, max, step, count int) map[string]string {
	return map[string]string{"SLURM_ARRAY_TASK_ID": fmt.Sprint(id), "SLURM_ARRAY_TASK_MIN": fmt.Sprint(min),
		"SLURM_ARRAY_TASK_MAX": fmt.Sprint(max), "SLURM_ARRAY_TASK_STEP": fmt.Sprint(step), "SLURM_ARRAY_TASK_COUNT": fmt.Sprint(count)}
}

func with(env map[string]string, key, value string) map[string]string {
	env[key] = value
	return env
}

func TestShardFromEnvironment(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		shardCount int
		want       Shard // From is checked for its first word only
		wantErr    string
	}{
		{name: "none", want: All},
		{name: "range 0-3", env: slurmEnv(2, 0, 3, 1, 4), want: Shard{2, 4, "SLURM_ARRAY_TASK_ID"}},
		{name: "range 1-3, first task", env: slurmEnv(1, 1, 3, 1, 3), want: Shard{1, 3, "SLURM_ARRAY_TASK_ID"}},
		{name: "range 1-3, last task", env: slurmEnv(3, 1, 3, 1, 3), want: Shard{0, 3, "SLURM_ARRAY_TASK_ID"}},
		{name: "range without MAX (old Slurm)", env: map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_COUNT": "4"},
			want: Shard{2, 4, "SLURM_ARRAY_TASK_ID"}},
		{name: "stepped range 1-7:2", env: slurmEnv(7, 1, 7, 2, 4), want: Shard{3, 4, "SLURM_ARRAY_TASK_ID"}},
		{name: "stepped range, ID off the step", env: slurmEnv(2, 1, 7, 2, 4), wantErr: "not in the array 1-7:2"},
		{name: "list 1,3,8 without a count", env: slurmEnv(8, 1, 8, 1, 3), wantErr: "list array (3 tasks from 1 to 8): add --shard_count"},
		{name: "list 1,3,8, task 1", env: slurmEnv(1, 1, 8, 1, 3), shardCount: 3, want: Shard{1, 3, "SLURM_ARRAY_TASK_ID"}},
		{name: "list 1,3,8, task 3", env: slurmEnv(3, 1, 8, 1, 3), shardCount: 3, want: Shard{0, 3, "SLURM_ARRAY_TASK_ID"}},
		{name: "list 1,3,8, task 8", env: slurmEnv(8, 1, 8, 1, 3), shardCount: 3, want: Shard{2, 3, "SLURM_ARRAY_TASK_ID"}},
		{name: "list, count from DREAM_SHARD_COUNT", env: with(slurmEnv(8, 1, 8, 1, 3), "DREAM_SHARD_COUNT", "3"), want: Shard{2, 3, "SLURM_ARRAY_TASK_ID"}},
		{name: "--shard_count wins over DREAM_SHARD_COUNT", env: with(slurmEnv(8, 1, 8, 1, 3), "DREAM_SHARD_COUNT", "3"), shardCount: 5, want: Shard{3, 5, "SLURM_ARRAY_TASK_ID"}},
		{name: "bad DREAM_SHARD_COUNT", env: with(slurmEnv(8, 1, 8, 1, 3), "DREAM_SHARD_COUNT", "three"), wantErr: "DREAM_SHARD_COUNT"},
		{name: "resubmitted part of a range", env: slurmEnv(3, 2, 3, 1, 2), shardCount: 4, want: Shard{3, 4, "SLURM_ARRAY_TASK_ID"}},
		{name: "more tasks than shards", env: slurmEnv(5, 0, 7, 1, 8), shardCount: 4, wantErr: "fewer than the array's 8 tasks"},
		{name: "stepped range meets itself mod N", env: slurmEnv(5, 1, 7, 2, 4), shardCount: 4, wantErr: "same shard"},
		{name: "stepped range distinct mod N", env: slurmEnv(4, 0, 6, 2, 4), shardCount: 7, want: Shard{4, 7, "SLURM_ARRAY_TASK_ID"}},
		{name: "slurm without count", env: map[string]string{"SLURM_ARRAY_TASK_ID": "1"}, wantErr: "SLURM_ARRAY_TASK_COUNT is not"},
		{name: "slurm not a number", env: with(slurmEnv(1, 1, 8, 1, 3), "SLURM_ARRAY_TASK_MAX", "8x"), wantErr: `SLURM_ARRAY_TASK_MAX="8x" is not a number`},
		{name: "kubernetes", env: map[string]string{"JOB_COMPLETION_INDEX": "4"}, shardCount: 5, want: Shard{4, 5, "JOB_COMPLETION_INDEX"}},
		{name: "kubernetes without count", env: map[string]string{"JOB_COMPLETION_INDEX": "0"}, wantErr: "--shard_count N"},
		{name: "kubernetes out of range", env: map[string]string{"JOB_COMPLETION_INDEX": "5"}, shardCount: 5, wantErr: "does not exist"},
		{name: "count without index", shardCount: 3, wantErr: "needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromEnvironment(func(k string) string { return tt.env[k] }, tt.shardCount)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("the error takes more than one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Index != tt.want.Index || got.Count != tt.want.Count || !strings.HasPrefix(got.From, tt.want.From) {
				t.Errorf("shard %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The shard of a task depends on its ID alone wherever a resubmission needs it: after an
// array 0-(N-1) or 1-N, resubmitting any of its IDs as a list with --shard_count N gives each
// task the shard it had, so exactly the failed tasks' items are done again.
func TestSlurmResubmittedIDsKeepTheirShards(t *testing.T) {
	for _, first := range []int{0, 1} {
		for n := 1; n <= 6; n++ {
			last := first + n - 1
			original := map[int]Shard{}
			for id := first; id <= last; id++ {
				s, err := FromEnvironment(mapEnv(slurmEnv(id, first, last, 1, n)), 0)
				if err != nil {
					t.Fatal(err)
				}
				original[id] = s
			}
			if owners := distinctIndexes(original); owners != n {
				t.Fatalf("array %d-%d: %d distinct shards among %d tasks", first, last, owners, n)
			}
			// Resubmit every subset of the IDs, as the list (or range) Slurm makes of it.
			for subset := 1; subset < 1<<n; subset++ {
				var ids []int
				for i := range n {
					if subset&(1<<i) != 0 {
						ids = append(ids, first+i)
					}
				}
				step := 1
				if len(ids) > 1 {
					step = ids[1] - ids[0] // what Slurm may report for an evenly spaced list
				}
				for _, id := range ids {
					env := slurmEnv(id, ids[0], ids[len(ids)-1], step, len(ids))
					s, err := FromEnvironment(mapEnv(env), n)
					if err != nil {
						t.Fatalf("array %d-%d, resubmitted %v: %v", first, last, ids, err)
					}
					if s.Index != original[id].Index || s.Count != n {
						t.Errorf("array %d-%d, resubmitted %v: task %d does shard %s, first time %s", first, last, ids, id, s, original[id])
					}
				}
			}
		}
	}
}

func mapEnv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

func distinctIndexes(shards map[int]Shard) int {
	seen := map[int]bool{}
	for _, s := range shards {
		seen[s.Index] = true
	}
	return len(seen)
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
	plan := Plan(lines, func(j jobT) string { return tempDir(t) })
	entries, items := plan.Entries, plan.Items
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
