package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModel(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"model", "--dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	mf := strings.TrimSpace(out.String())
	b, err := os.ReadFile(mf)
	if err != nil {
		t.Fatal(err)
	}
	from := strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "FROM ")
	if !filepath.IsAbs(from) {
		t.Errorf("FROM %q is not absolute", from)
	}
	if _, err := os.Stat(from); err != nil {
		t.Error(err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"model", "--bogus"}, {"sim", "-jitter", "1"}} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
}

func TestSimStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"sim", "-addr", "127.0.0.1:0"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.HasPrefix(out.String(), "ollama simulator on http://127.0.0.1:") {
		t.Errorf("stdout %q", out.String())
	}
}
