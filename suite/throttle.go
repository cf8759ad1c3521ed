package suite

import "context"

func (r *runner) runThrottle(ctx context.Context, run Run, dir string) ([]string, error) {
	panic("throttle: waiting for tr117/throttle")
}

func (r *runner) runTokenizers(ctx context.Context, run Run, dir string) ([]string, error) {
	panic("tokenizers: waiting for tr117/tokbench")
}
