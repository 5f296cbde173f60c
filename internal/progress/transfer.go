package progress

import (
	"fmt"
	"strings"
	"time"
)

// Transfer is the state of a download's progress line: the clock starts at the first report,
// and the rate counts only the bytes that came since, so a download that resumes a partial
// file is not credited with the bytes an earlier run fetched.
type Transfer struct {
	Name    string // what is fetched, the line's first word
	start   time.Time
	first   int64 // the bytes done at the first report
	started bool
}

// measureAfter is how long a transfer runs before its rate is shown: the first chunks arrive
// in bursts that would make the early rate (and so the time left) swing wildly.
const measureAfter = 500 * time.Millisecond

// Line moves the transfer to done bytes of total (-1 when unknown) at now and draws it:
// "model.tgz [########                ] 36.1/108.3 MiB, 9.8 MiB/s, ETA 7s".
func (t *Transfer) Line(done, total int64, now time.Time) string {
	if !t.started || done < t.first {
		t.start, t.first, t.started = now, done, true
	}
	var text string
	if total > 0 {
		filled := int(int64(barWidth) * min(done, total) / total)
		text = fmt.Sprintf("%s [%s%s] %s/%s", t.Name, strings.Repeat("#", filled),
			strings.Repeat(" ", barWidth-filled), mebibytes(done), Size(total))
	} else {
		text = t.Name + " " + Size(done)
	}
	elapsed := now.Sub(t.start)
	if elapsed < measureAfter || done == t.first {
		return text
	}
	perSecond := float64(done-t.first) / elapsed.Seconds()
	text += ", " + Size(int64(perSecond)) + "/s"
	if total > done {
		text += ", ETA " + RoughDuration(time.Duration(float64(total-done)/perSecond*float64(time.Second)))
	}
	return text
}

// Size is a byte count as the download lines and questions write it: "108.3 MiB".
func Size(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return mebibytes(n) + " MiB"
}

func mebibytes(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
