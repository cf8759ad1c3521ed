package profiler

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestEventLoopSerialises: two agents' turns on one loop never overlap,
// and the lag gate waits for the loop.
func TestEventLoopSerialises(t *testing.T) {
	loop := newEventLoop()
	var wg sync.WaitGroup
	wg.Go(loop.run)
	var mu sync.Mutex
	busy, overlap := 0, false
	var agents sync.WaitGroup
	for range 2 {
		fn := consumer(ConsumerConfig{SingleLoop: true, Cost: 200 * time.Microsecond}, loop)
		agents.Go(func() {
			for range 50 {
				mu.Lock()
				busy++
				overlap = overlap || busy > 2
				mu.Unlock()
				fn(nil)
				mu.Lock()
				busy--
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	agents.Wait()
	// 100 turns of 200 µs, one at a time.
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("100 turns of 200 µs took %v on one loop", d)
	}
	gate := loopGate(loop)
	gate(context.Background())
	loop.stop()
	wg.Wait()
	if overlap {
		t.Error("more turns in flight than agents")
	}
}

// BenchmarkConsumer shows that a message's turn on the loop does not
// allocate.
func BenchmarkConsumer(b *testing.B) {
	for _, single := range []bool{false, true} {
		name := "own goroutine"
		if single {
			name = "single loop"
		}
		b.Run(name, func(b *testing.B) {
			var loop *eventLoop
			var wg sync.WaitGroup
			if single {
				loop = newEventLoop()
				wg.Go(loop.run)
			}
			fn := consumer(ConsumerConfig{SingleLoop: single}, loop)
			var m Message
			b.ReportAllocs()
			for b.Loop() {
				fn(&m)
			}
			if loop != nil {
				loop.stop()
				wg.Wait()
			}
		})
	}
}
