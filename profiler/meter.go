package profiler

import (
	"context"
	"time"
)

// meter turns decoded messages into a Result, the same way for every
// protocol: token counts, TTFT (first token of any kind), TTFC (first
// content token), inter-token latencies and the response text. It fills the
// Message handed to the callback.
type meter struct {
	res       *Result
	ctx       context.Context
	resp      []byte
	prevToken time.Duration
	msg       Message
}

func (m *meter) reset(res *Result, ctx context.Context, resp []byte) {
	*m = meter{res: res, ctx: ctx, resp: resp[:0]}
}

// observe accounts for one message that arrived at arrival (since the
// request's start) and returns it as the callback's Message.
func (m *meter) observe(f *lineFields, line int, arrival time.Duration) *Message {
	res := m.res
	m.msg = Message{Index: res.Messages, Line: line, Arrival: arrival, Content: f.content, Thinking: f.thinking, Done: f.done, ctx: m.ctx}
	res.Messages++
	if len(f.content) == 0 && len(f.thinking) == 0 {
		return &m.msg
	}
	m.msg.Tokens = 1
	res.Tokens++
	if res.Tokens > 1 {
		res.ITL = append(res.ITL, arrival-m.prevToken)
	} else {
		res.HasTTFT, res.TTFT = true, arrival
	}
	m.prevToken = arrival
	if len(f.content) > 0 {
		if !res.HasTTFC {
			res.HasTTFC, res.TTFC = true, arrival
		}
		m.resp = append(m.resp, f.content...)
	}
	return &m.msg
}

// finish completes the Result at the end of the stream: the response text,
// and per-token inter-token latencies when the server counted more than
// one token beyond the client's count.
func (m *meter) finish() {
	res := m.res
	res.Response = string(m.resp)
	res.TokensPerChunk = 1
	f := res.Final
	if !f.HasEvalCount() || res.Tokens == 0 || f.EvalCount <= res.Tokens+1 {
		return
	}
	k := float64(f.EvalCount) / float64(res.Tokens)
	res.TokensPerChunk = k
	for i, d := range res.ITL {
		res.ITL[i] = time.Duration(float64(d) / k)
	}
}
