package tinymodel_test

import (
	"fmt"
	"os"
	"path/filepath"

	"tr117/internal/tinymodel"
)

func Example() {
	dir, err := os.MkdirTemp("", "tinymodel")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path, err := tinymodel.Ensure(dir, tinymodel.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	tokens, _, types := tinymodel.Vocab()
	fmt.Println(filepath.Base(path))
	fmt.Println(len(tokens), "tokens:", tokens[0], tokens[1], tokens[2], tokens[3], tokens[258], tokens[259])
	fmt.Println("types:", types[0], types[1], types[3], types[259])
	// Output:
	// tiny-l2-e64-h4-f128-c4096-s0.gguf
	// 455 tokens: <unk> <s> </s> <0x00> <0xFF> ▁the
	// types: 2 3 6 1
}
