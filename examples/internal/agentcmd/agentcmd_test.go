package agentcmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckURLFlagNamesTheFlag(t *testing.T) {
	if err := CheckURLFlag("profiler", "collector-ollama-url", "http://localhost:11434"); err != nil {
		t.Fatal(err)
	}
	err := CheckURLFlag("throttle", "insight-ollama-url", "notaurl")
	if err == nil || !strings.HasPrefix(err.Error(), "throttle: --insight-ollama-url: ") || strings.Count(err.Error(), "profiler:") > 0 {
		t.Fatalf("err = %v, want one prefixed by the command and the flag only", err)
	}
}

func TestPrepareOutputDirNamesOverwrite(t *testing.T) {
	dir := t.TempDir()
	if err := PrepareOutputDir(dir, false); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "run_1.json"), []byte("{}"), 0o644)
	if err := PrepareOutputDir(dir, false); err == nil || !strings.Contains(err.Error(), "--overwrite") {
		t.Fatalf("err = %v, want a refusal naming --overwrite", err)
	}
	if err := PrepareOutputDir(dir, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run_1.json")); !os.IsNotExist(err) {
		t.Errorf("--overwrite kept the earlier run file: %v", err)
	}
}

func TestNoneIfZero(t *testing.T) {
	if NoneIfZero(0) >= 0 || NoneIfZero(5) != 5 {
		t.Error("0 must map to the library's 'none' (negative), others unchanged")
	}
}
