package ollamaserver_test

import (
	"context"
	"fmt"
	"os"

	"tr117/internal/ollamaserver"
)

// Launch and CreateTiny run a real server outside a test; tests use Start.
func Example() {
	ctx := context.Background()
	srv, err := ollamaserver.Launch(ctx, ollamaserver.Config{})
	if err != nil {
		fmt.Println(err) // ollamaserver: no ollama binary: run scripts/install-ollama.sh or set TR117_OLLAMA_BIN
		return
	}
	defer srv.Stop()
	dir, err := os.MkdirTemp("", "tiny")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := ollamaserver.CreateTiny(ctx, srv, dir); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("POST", srv.URL+"/api/generate", `{"model":"tiny","prompt":"hi","options":{"num_predict":16}}`)
}
