package throttle_test

import (
	"context"
	"fmt"

	"tr117/profiler"
	"tr117/profiler/ollamatest"
	"tr117/throttle"
)

// Read a stream no faster than 200 tokens a second.
func ExampleWrap() {
	srv := ollamatest.NewServer(ollamatest.Config{Unpaced: true})
	defer srv.Close()
	c := profiler.NewClient(profiler.ClientConfig{})
	defer c.CloseIdleConnections()

	s := throttle.Wrap(c, throttle.New(200))
	req := &profiler.Request{URL: srv.URL, Model: "gemma3:latest", Prompt: "hi", Options: map[string]any{"num_predict": 20}}
	res, err := s.Stream(context.Background(), req, func(*profiler.Message) error { return nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	bp := throttle.Measure(200, res)
	fmt.Println("tokens:", bp.Tokens, "held to the cap:", bp.ClientTokensPerSec <= 200)
	// Output:
	// tokens: 20 held to the cap: true
}
