package batch

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is the share of the items one process does: those whose index ≡ Index mod Count.
type Shard struct {
	Index, Count int
	// From names where the shard came from: "--shard", "SLURM_ARRAY_TASK_ID", ….
	From string
}

// All is the shard of a process that does every item.
var All = Shard{Index: 0, Count: 1}

// Owns reports whether the item with this index is the shard's to do.
func (s Shard) Owns(index int) bool {
	return index%s.Count == s.Index
}

// String is "2/4".
func (s Shard) String() string {
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// ParseShard reads --shard I/N, with 0 ≤ I < N.
func ParseShard(text string) (Shard, error) {
	i, n, ok := strings.Cut(text, "/")
	index, err1 := strconv.Atoi(strings.TrimSpace(i))
	count, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %s: write it as I/N, such as 0/4 for the first of four processes", text)
	}
	return newShard(index, count, "--shard")
}

func newShard(index, count int, from string) (Shard, error) {
	if count < 1 || index < 0 || index >= count {
		return Shard{}, fmt.Errorf("%s: shard %d of %d does not exist; shards are numbered 0 to N-1", from, index, count)
	}
	return Shard{Index: index, Count: count, From: from}, nil
}

// FromEnvironment finds the shard a scheduler gives this process, or All when none does.
//
// Slurm array jobs set SLURM_ARRAY_TASK_ID, _MIN, _STEP and _COUNT (--array=1-8:2 gives the
// IDs 1, 3, 5, 7), so the shard is the ID's position in the array. Kubernetes Indexed Jobs set
// JOB_COMPLETION_INDEX but not the number of indexes, which shardCount (--shard_count) gives.
func FromEnvironment(getenv func(string) string, shardCount int) (Shard, error) {
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		return slurmShard(getenv)
	}
	if index := getenv("JOB_COMPLETION_INDEX"); index != "" {
		if shardCount < 1 {
			return Shard{}, fmt.Errorf("JOB_COMPLETION_INDEX is set but not the number of shards: add --shard_count N (the job's completions)")
		}
		i, err := strconv.Atoi(index)
		if err != nil {
			return Shard{}, fmt.Errorf("JOB_COMPLETION_INDEX=%q is not a number", index)
		}
		return newShard(i, shardCount, "JOB_COMPLETION_INDEX")
	}
	if shardCount > 1 {
		return Shard{}, fmt.Errorf("--shard_count %d needs JOB_COMPLETION_INDEX, or give the shard with --shard I/N", shardCount)
	}
	return All, nil
}

func slurmShard(getenv func(string) string) (Shard, error) {
	number := func(name string, fallback int) (int, error) {
		v := getenv(name)
		if v == "" {
			return fallback, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("%s=%q is not a number", name, v)
		}
		return n, nil
	}
	id, err := number("SLURM_ARRAY_TASK_ID", 0)
	if err != nil {
		return Shard{}, err
	}
	first, err := number("SLURM_ARRAY_TASK_MIN", 0)
	if err != nil {
		return Shard{}, err
	}
	step, err := number("SLURM_ARRAY_TASK_STEP", 1)
	if err != nil {
		return Shard{}, err
	}
	count, err := number("SLURM_ARRAY_TASK_COUNT", 0)
	if err != nil {
		return Shard{}, err
	}
	if count < 1 {
		return Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give the shard with --shard I/N")
	}
	if step < 1 || (id-first)%step != 0 {
		return Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d is not in an evenly stepped array (min %d, step %d); give the shard with --shard I/N", id, first, step)
	}
	return newShard((id-first)/step, count, "SLURM_ARRAY_TASK_ID")
}
