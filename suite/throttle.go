package suite

import (
	"context"

	"tr117/profiler"
	"tr117/throttle"
)

// runThrottle is one flow-dynamics run: every agent's reader passes its
// tokens through its own token bucket of run.Rate tok/s (the seed's: it
// starts empty for each request and holds at most one second of tokens).
// Rate 0 runs unthrottled, for an in-phase baseline.
func (r *runner) runThrottle(ctx context.Context, run Run, dir string) ([]string, error) {
	rate := run.Rate
	var wrap func(profiler.Agent, profiler.Streamer) profiler.Streamer
	if rate > 0 {
		wrap = func(_ profiler.Agent, s profiler.Streamer) profiler.Streamer {
			return throttle.WrapEach(s, func() throttle.Limiter { return throttle.New(rate) })
		}
	}
	files, _, err := r.profileRun(ctx, run, dir, 0, wrap, func(res *profiler.RunResult) any {
		return throttle.MeasureRun(rate, 0, res)
	})
	return files, err
}
