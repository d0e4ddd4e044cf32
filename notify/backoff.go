package notify

import (
	"math/rand/v2"
	"time"
)

// Backoff returns how long to wait before retrying after the attempt-th
// failed attempt (1 for the first): capped exponential backoff with "equal
// jitter". The ceiling is base * 2^(attempt-1), at most max; the delay is
// drawn uniformly between ceiling/2 and ceiling, so retries spread out (unlike no
// jitter) yet never come back almost at once (unlike full jitter).
//
// rnd returns a number in [0, 1); nil means math/rand/v2's Float64. A fixed
// rnd gives a fixed delay: rnd = func() float64 { return 0 } gives
// ceiling/2. attempt < 1 counts as 1; max <= 0 means no cap. If the server
// asked for a delay (Attempt.RetryAfter), wait the larger of the two.
func Backoff(attempt int, base, max time.Duration, rnd func() float64) time.Duration {
	if base <= 0 {
		return 0
	}
	if max <= 0 {
		max = 1<<63 - 1
	}
	ceiling := base
	for i := 1; i < attempt && ceiling < max; i++ {
		if ceiling > (1<<63-1)/2 {
			ceiling = max
			break
		}
		ceiling *= 2
	}
	ceiling = min(ceiling, max)
	if rnd == nil {
		rnd = rand.Float64
	}
	f := rnd()
	if f < 0 || f >= 1 {
		f = 0
	}
	half := ceiling / 2
	return half + time.Duration(f*float64(ceiling-half))
}
