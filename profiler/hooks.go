package profiler

import (
	"context"

	"tr117/sink"
)

// Hooks are per-request labels and recorders that a [Streamer] finds in the
// request's context, the way net/http/httptrace carries a ClientTrace:
// the caller attaches them with [WithHooks], and the code that makes the
// request need not know who records what.
//
// Hooks are plain data, read but not modified by Stream: one value may be
// shared by concurrent requests when its Chunks sink is safe for concurrent
// use.
type Hooks struct {
	// Run labels the request's chunk records with the run they belong to.
	Run int
	// Chunks, when set, receives a record for each transport read of the
	// response body. A Streamer that has no transport reads (a fake) sends
	// none.
	Chunks sink.Sink[Chunk]
}

type hooksKey struct{}

// WithHooks returns a copy of ctx that carries h. A nil h removes the hooks
// of ctx.
func WithHooks(ctx context.Context, h *Hooks) context.Context {
	return context.WithValue(ctx, hooksKey{}, h)
}

// ContextHooks returns the hooks that ctx carries, or nil.
func ContextHooks(ctx context.Context) *Hooks {
	h, _ := ctx.Value(hooksKey{}).(*Hooks)
	return h
}
