package agentcmd

import (
	"flag"
	"fmt"
	"os"

	"tr117/profiler"
)

// StreamFlags are the flags that say how a command streams: --api,
// --api-key and --read-mode.
type StreamFlags struct {
	api, apiKey, readMode *string
}

// AddStreamFlags registers the stream flags on fs.
func AddStreamFlags(fs *flag.FlagSet) *StreamFlags {
	return &StreamFlags{
		api:      fs.String("api", string(profiler.APIGenerate), "endpoint: generate or chat (Ollama), openai-chat or openai-completions (any OpenAI-compatible server); URLs stay the server root"),
		apiKey:   fs.String("api-key", "", "bearer token for the OpenAI APIs (default: $OPENAI_API_KEY); never written to any file"),
		readMode: fs.String("read-mode", string(profiler.ReadBound), "how --read-buffer-size cuts the body: bound (each read, at most the size) or exact (pieces of exactly the size, as httpx aiter_bytes)"),
	}
}

// Apply checks the flags and sets them in cfg, naming the flag in errors.
func (f *StreamFlags) Apply(cmd string, cfg *profiler.Config) error {
	api, err := profiler.ParseAPI(*f.api)
	if err != nil {
		return fmt.Errorf("%s: --api: %q is not generate, chat, openai-chat or openai-completions", cmd, *f.api)
	}
	mode, err := profiler.ParseReadMode(*f.readMode)
	if err != nil {
		return fmt.Errorf("%s: --read-mode: %q is not bound or exact", cmd, *f.readMode)
	}
	cfg.API, cfg.ReadMode = api, mode
	cfg.APIKey = *f.apiKey
	if cfg.APIKey == "" {
		cfg.APIKey = os.Getenv("OPENAI_API_KEY")
	}
	return nil
}

// OpenAI reports whether --api names an OpenAI-compatible API.
func (f *StreamFlags) OpenAI() bool {
	api, err := profiler.ParseAPI(*f.api)
	return err == nil && api.OpenAI()
}
