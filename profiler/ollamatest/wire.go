package ollamatest

import "time"

// The response types below mirror github.com/ollama/ollama@v0.6.5/api field
// for field and in the same order, so that encoding/json writes the bytes
// Ollama writes (Go's encoder also escapes <, > and & the same way).

type metrics struct {
	TotalDuration      time.Duration `json:"total_duration,omitempty"`
	LoadDuration       time.Duration `json:"load_duration,omitempty"`
	PromptEvalCount    int           `json:"prompt_eval_count,omitempty"`
	PromptEvalDuration time.Duration `json:"prompt_eval_duration,omitempty"`
	EvalCount          int           `json:"eval_count,omitempty"`
	EvalDuration       time.Duration `json:"eval_duration,omitempty"`
}

type generateResponse struct {
	Model      string    `json:"model"`
	CreatedAt  time.Time `json:"created_at"`
	Response   string    `json:"response"`
	Done       bool      `json:"done"`
	DoneReason string    `json:"done_reason,omitempty"`
	Context    []int     `json:"context,omitempty"`
	metrics
}

type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type chatResponse struct {
	Model      string    `json:"model"`
	CreatedAt  time.Time `json:"created_at"`
	Message    message   `json:"message"`
	DoneReason string    `json:"done_reason,omitempty"`
	Done       bool      `json:"done"`
	metrics
}

type errorResponse struct {
	Error string `json:"error"`
}

type versionResponse struct {
	Version string `json:"version"`
}

type modelDetails struct {
	ParentModel       string   `json:"parent_model"`
	Format            string   `json:"format"`
	Family            string   `json:"family"`
	Families          []string `json:"families"`
	ParameterSize     string   `json:"parameter_size"`
	QuantizationLevel string   `json:"quantization_level"`
}

type listModel struct {
	Name       string       `json:"name"`
	Model      string       `json:"model"`
	ModifiedAt time.Time    `json:"modified_at"`
	Size       int64        `json:"size"`
	Digest     string       `json:"digest"`
	Details    modelDetails `json:"details,omitempty"`
}

type listResponse struct {
	Models []listModel `json:"models"`
}

type processModel struct {
	Name      string       `json:"name"`
	Model     string       `json:"model"`
	Size      int64        `json:"size"`
	Digest    string       `json:"digest"`
	Details   modelDetails `json:"details,omitempty"`
	ExpiresAt time.Time    `json:"expires_at"`
	SizeVRAM  int64        `json:"size_vram"`
}

type processResponse struct {
	Models []processModel `json:"models"`
}

type showResponse struct {
	License      string         `json:"license,omitempty"`
	Modelfile    string         `json:"modelfile,omitempty"`
	Parameters   string         `json:"parameters,omitempty"`
	Template     string         `json:"template,omitempty"`
	System       string         `json:"system,omitempty"`
	Details      modelDetails   `json:"details,omitempty"`
	Messages     []message      `json:"messages,omitempty"`
	ModelInfo    map[string]any `json:"model_info,omitempty"`
	Tensors      []tensorInfo   `json:"tensors,omitempty"`
	Capabilities []string       `json:"capabilities,omitempty"`
	ModifiedAt   time.Time      `json:"modified_at,omitempty"`
}

type tensorInfo struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Shape []uint64 `json:"shape"`
}

// Requests. Only the fields the simulator acts on are decoded.

type options struct {
	NumPredict *float64 `json:"num_predict"`
	Seed       *float64 `json:"seed"`
	Stop       []string `json:"stop"`
}

type generateRequest struct {
	Model     string   `json:"model"`
	Prompt    string   `json:"prompt"`
	System    string   `json:"system"`
	Stream    *bool    `json:"stream"`
	Raw       bool     `json:"raw"`
	KeepAlive any      `json:"keep_alive"`
	Options   *options `json:"options"`
	Context   []int    `json:"context"`
}

type chatRequest struct {
	Model     string    `json:"model"`
	Messages  []message `json:"messages"`
	Stream    *bool     `json:"stream"`
	KeepAlive any       `json:"keep_alive"`
	Options   *options  `json:"options"`
}

type showRequest struct {
	Model string `json:"model"`
	Name  string `json:"name"`
}
