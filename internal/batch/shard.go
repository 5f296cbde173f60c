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
// shardCount is --shard_count; when it is 0, DREAM_SHARD_COUNT may give it instead.
//
// Slurm array jobs set SLURM_ARRAY_TASK_ID, _MIN, _MAX, _STEP and _COUNT; see slurmShard.
// Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX but not the number of indexes, which the
// shard count gives.
func FromEnvironment(getenv func(string) string, shardCount int) (Shard, error) {
	shardCount, countFrom, err := givenShardCount(getenv, shardCount)
	if err != nil {
		return Shard{}, err
	}
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		return slurmShard(getenv, shardCount, countFrom)
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
		return Shard{}, fmt.Errorf("%s %d needs SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX, or give the shard with --shard I/N", countFrom, shardCount)
	}
	return All, nil
}

// givenShardCount is --shard_count, else DREAM_SHARD_COUNT (handy where the flags are fixed
// in a script, such as scripts/slurm/dream-array.sbatch), and the name of the one used.
func givenShardCount(getenv func(string) string, flag int) (int, string, error) {
	if flag != 0 {
		return flag, "--shard_count", nil
	}
	v := getenv("DREAM_SHARD_COUNT")
	if v == "" {
		return 0, "", nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, "", fmt.Errorf("DREAM_SHARD_COUNT=%q: give the number of shards, 1 or more", v)
	}
	return n, "DREAM_SHARD_COUNT", nil
}

// slurmArray is what Slurm tells an array task about its array.
type slurmArray struct {
	id, min, max, step, count int
}

// isRange tells whether the array is min-max:step with every ID in it (--array=0-3,
// --array=1-15:2). A list such as --array=1,3,8 gives MIN 1, MAX 8, STEP 1 and COUNT 3:
// its IDs cannot be placed by MIN and STEP.
func (a slurmArray) isRange() bool {
	return a.step >= 1 && (a.max-a.min)%a.step == 0 && (a.max-a.min)/a.step+1 == a.count
}

// slurmShard places an array task. The rule depends on the array, and is chosen so that a
// task's shard depends on its ID alone wherever it can:
//
//   - with a shard count (--shard_count N or DREAM_SHARD_COUNT), the shard is ID mod N, for a
//     range or a list: resubmitting some IDs of an array 0-(N-1) or 1-N (--array=1,3) redoes
//     exactly the shards those tasks had;
//   - a range with step 1 (--array=0-3, --array=1-4) is split the same way, ID mod COUNT, so
//     task 2 of 0-3 does shard 2/4 and task 4 of 1-4 does shard 0/4;
//   - a stepped range (--array=1-15:2) is split by the ID's place in it, (ID-MIN)/STEP;
//   - a list without a shard count is refused: no rule can tell its shards.
//
// A shard count is refused where two of the array's tasks would get one shard.
func slurmShard(getenv func(string) string, shardCount int, countFrom string) (Shard, error) {
	a, err := readSlurmArray(getenv)
	if err != nil {
		return Shard{}, err
	}
	if shardCount > 0 {
		if err := a.checkDistinct(shardCount, countFrom); err != nil {
			return Shard{}, err
		}
		return newShard(a.id%shardCount, shardCount, fmt.Sprintf("SLURM_ARRAY_TASK_ID %d mod %s %d", a.id, countFrom, shardCount))
	}
	switch {
	case !a.isRange():
		return Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d is in a list array (%d tasks from %d to %d): add --shard_count N, "+
			"the number of tasks the work was first split into; task ID mod N gives the shard", a.id, a.count, a.min, a.max)
	case a.step == 1:
		return newShard(a.id%a.count, a.count, "SLURM_ARRAY_TASK_ID")
	case (a.id-a.min)%a.step != 0:
		return Shard{}, fmt.Errorf("SLURM_ARRAY_TASK_ID=%d is not in the array %d-%d:%d; give the shard with --shard I/N", a.id, a.min, a.max, a.step)
	}
	return newShard((a.id-a.min)/a.step, a.count, "SLURM_ARRAY_TASK_ID")
}

// checkDistinct refuses a shard count under which two tasks of the array share a shard, as
// far as the variables tell: more tasks than shards, or a stepped range whose IDs meet
// again mod N (1-7:2 with N 4 gives 1, 3, 1, 3). A list's IDs are not known, only how many
// there are.
func (a slurmArray) checkDistinct(n int, countFrom string) error {
	if a.count > n {
		return fmt.Errorf("%s %d is fewer than the array's %d tasks, so some would do the same items: "+
			"give the number of tasks the work was first split into", countFrom, n, a.count)
	}
	if a.isRange() && a.step > 1 && a.count > n/gcd(a.step, n) {
		return fmt.Errorf("the stepped array %d-%d:%d gives some tasks the same shard mod %s %d: "+
			"resubmit its tasks by ID as --array=ID,ID… of the original 0-(N-1) or 1-N, or give each --shard I/N", a.min, a.max, a.step, countFrom, n)
	}
	return nil
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// readSlurmArray reads the array variables; MAX, which old Slurm versions lack, follows
// from the others for a range.
func readSlurmArray(getenv func(string) string) (slurmArray, error) {
	var a slurmArray
	var err error
	number := func(name string, fallback int) int {
		v := getenv(name)
		if v == "" || err != nil {
			return fallback
		}
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 {
			err = fmt.Errorf("%s=%q is not a number", name, v)
		}
		return n
	}
	a.id = number("SLURM_ARRAY_TASK_ID", 0)
	a.min = number("SLURM_ARRAY_TASK_MIN", 0)
	a.step = number("SLURM_ARRAY_TASK_STEP", 1)
	a.count = number("SLURM_ARRAY_TASK_COUNT", 0)
	a.max = number("SLURM_ARRAY_TASK_MAX", a.min+(a.count-1)*a.step)
	if err != nil {
		return a, err
	}
	if a.count < 1 {
		return a, fmt.Errorf("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; give the shard with --shard I/N")
	}
	return a, nil
}
