package tokenizer

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// LoadHFNode loads a tokenizer.json with Hugging Face's tokenizers library
// in a child node process (see BackendHFNode and HFNodeConfig). The child
// runs until Close. It fails, naming the file and the backend, when node or
// the package is missing (wrapping ErrNoHFNode), node is older than
// HFNodeMinNode, or the library refuses the file.
//
// Besides Encode, the tokenizer has
//
//	EncodeTimed(texts []string) (tokens int, d time.Duration, err error)
//
// which encodes texts in the child (one batch encode when there are
// several) and returns the total count and the encode time the child
// measured, without process start-up or the pipe transfer: a caller that
// times encodes asserts that method rather than timing Encode.
func LoadHFNode(path string, cfg HFNodeConfig) (Tokenizer, error) {
	cfg = cfg.withDefaults()
	wrap := func(err error) error {
		return fmt.Errorf("tokenizer: %s: backend %s: %w", path, BackendHFNode, err)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	pkg, err := cfg.packageDir()
	if err != nil {
		return nil, wrap(err)
	}
	nodeVersion, err := checkNode(cfg.Node, cfg.Timeout)
	if err != nil {
		return nil, wrap(err)
	}
	h := &hfNodeTok{path: path, timeout: cfg.Timeout}
	if err := h.start(cfg, pkg); err != nil {
		h.kill()
		return nil, wrap(err)
	}
	var hello struct {
		Version   string `json:"version"`
		Node      string `json:"node"`
		VocabSize int    `json:"vocab_size"`
	}
	if err := h.read(&hello); err != nil {
		h.kill()
		return nil, wrap(err)
	}
	model, notes := jsonModelType(path)
	h.info = Info{
		Backend: BackendHFNode, Model: model, Format: "tokenizer.json", Source: path,
		VocabSize: hello.VocabSize,
		Library:   fmt.Sprintf("Hugging Face tokenizers %s (npm) on Node.js %s", hello.Version, hello.Node),
		Notes: []string{
			fmt.Sprintf("Hugging Face's own library in a child node process (%s); passes timed inside it: the encode alone, not process start or pipe transfer", nodeVersion),
			fmt.Sprintf("several shards are one encodeBatch on %d thread(s) (RAYON_NUM_THREADS)", cfg.Threads),
		},
	}
	h.info.Notes = append(h.info.Notes, notes...)
	return h, nil
}

// jsonModelType returns the lower-cased model.type of a tokenizer.json
// ("bpe", "wordpiece", "unigram"; "hf" if it cannot be read) and notes on
// the parts of its pipeline the child turns off.
func jsonModelType(path string) (string, []string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "hf", nil
	}
	var f struct {
		Model struct {
			Type   string          `json:"type"`
			Merges json.RawMessage `json:"merges"`
			Prefix *string         `json:"continuing_subword_prefix"`
			UnkID  *int            `json:"unk_id"`
		} `json:"model"`
		Truncation json.RawMessage `json:"truncation"`
		Padding    json.RawMessage `json:"padding"`
	}
	if json.Unmarshal(data, &f) != nil {
		return "hf", nil
	}
	var notes []string
	for name, v := range map[string]json.RawMessage{"truncation": f.Truncation, "padding": f.Padding} {
		if len(v) > 0 && string(v) != "null" {
			notes = append(notes, fmt.Sprintf("the file's %s %s is turned off: every token is counted, as tr117's backends do", name, v))
		}
	}
	slices.Sort(notes)
	typ := strings.ToLower(f.Model.Type)
	switch {
	case typ != "":
	case f.Model.Merges != nil: // untagged: the library reads it by its fields
		typ = "bpe"
	case f.Model.Prefix != nil:
		typ = "wordpiece"
	case f.Model.UnkID != nil:
		typ = "unigram"
	default:
		typ = "hf"
	}
	return typ, notes
}

// hfNodeTok is the hf-node backend: one child node process. It is safe for
// concurrent use: requests to the child are serialised. Every
// request either gets an answer within timeout or kills the child; after
// that every call returns the error that ended it.
type hfNodeTok struct {
	path    string
	timeout time.Duration
	info    Info

	mu     sync.Mutex
	cmd    *exec.Cmd
	tmp    string   // holds the script and the child's stderr
	stdin  *os.File // write end of the child's stdin
	stdout *os.File // read end of the child's stdout
	r      *bufio.Reader
	stderr *os.File
	dead   error // why the child is gone; nil while it runs
}

// start writes the script to a temporary directory and starts node on it,
// with pipes this process reads and writes with deadlines (no goroutines).
func (h *hfNodeTok) start(cfg HFNodeConfig, pkg string) error {
	tmp, err := os.MkdirTemp("", "tr117-hfnode-")
	if err != nil {
		return err
	}
	h.tmp = tmp
	script := filepath.Join(tmp, "hfnode.js")
	if err := os.WriteFile(script, hfNodeScript, 0o600); err != nil {
		return err
	}
	if h.stderr, err = os.Create(filepath.Join(tmp, "stderr")); err != nil {
		return err
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return err
	}
	h.stdin, h.stdout, h.r = inW, outR, bufio.NewReaderSize(outR, 1<<16)
	h.cmd = exec.Command(cfg.Node, script, pkg, h.path)
	h.cmd.Stdin, h.cmd.Stdout, h.cmd.Stderr = inR, outW, h.stderr
	h.cmd.Env = append(os.Environ(), "RAYON_NUM_THREADS="+strconv.Itoa(cfg.Threads), "TOKENIZERS_PARALLELISM=true")
	err = h.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		h.cmd = nil
		return err
	}
	return nil
}

// hfNodeRequest and hfNodeAnswer are the child's protocol (see hfnode.js).
type hfNodeRequest struct {
	Texts   []string `json:"texts"`
	IDs     bool     `json:"ids,omitempty"`
	Offsets bool     `json:"offsets,omitempty"`
}

type hfNodeAnswer struct {
	Error   string   `json:"error"`
	NS      string   `json:"ns"`
	Counts  []int    `json:"counts"`
	IDs     []string `json:"ids"`
	Offsets []string `json:"offsets"`
}

// call sends one request and reads its answer. A timeout, a broken pipe or
// an answer that is not JSON kills the child; an error the child reports
// for this request (a JS exception) does not.
func (h *hfNodeTok) call(req hfNodeRequest) (*hfNodeAnswer, error) {
	for _, t := range req.Texts {
		if !utf8.ValidString(t) {
			return nil, fmt.Errorf("tokenizer: %s: backend %s: text is not valid UTF-8", h.path, BackendHFNode)
		}
	}
	line, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: %s: backend %s: %w", h.path, BackendHFNode, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dead != nil {
		return nil, h.dead
	}
	h.stdin.SetWriteDeadline(time.Now().Add(h.timeout))
	if _, err := h.stdin.Write(append(line, '\n')); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, h.fail(fmt.Errorf("node did not read the request in %s", h.timeout))
		}
		return nil, h.fail(h.exitError(err))
	}
	var ans hfNodeAnswer
	if err := h.read(&ans); err != nil {
		return nil, h.fail(err)
	}
	if ans.Error != "" {
		return nil, fmt.Errorf("tokenizer: %s: backend %s: %s", h.path, BackendHFNode, ans.Error)
	}
	if len(ans.Counts) != len(req.Texts) {
		return nil, h.fail(fmt.Errorf("%d counts for %d texts", len(ans.Counts), len(req.Texts)))
	}
	return &ans, nil
}

// read reads one JSON line from the child within the timeout. An answer
// {"error": …} to the start is returned as an error.
func (h *hfNodeTok) read(v any) error {
	h.stdout.SetReadDeadline(time.Now().Add(h.timeout))
	line, err := h.r.ReadBytes('\n')
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("no answer from node in %s", h.timeout)
	}
	if err != nil {
		return h.exitError(err)
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(line, &e) == nil && e.Error != "" && h.info.Backend == "" {
		return errors.New(e.Error)
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("answer from node is not JSON: %w", err)
	}
	return nil
}

// exitError describes a child whose stdout ended: its exit status and the
// end of its stderr.
func (h *hfNodeTok) exitError(err error) error {
	h.stop()
	msg := "node stopped answering (" + err.Error() + ")"
	if st := h.cmd.ProcessState; st != nil {
		msg = "node exited: " + st.String()
	}
	if tail := h.stderrTail(); tail != "" {
		msg += "; its stderr ends: " + tail
	}
	return errors.New(msg)
}

func (h *hfNodeTok) stderrTail() string {
	data, _ := os.ReadFile(filepath.Join(h.tmp, "stderr"))
	s := strings.TrimSpace(string(data))
	if len(s) > 600 {
		s = "…" + s[len(s)-600:]
	}
	return strings.ReplaceAll(s, "\n", " | ")
}

// fail kills the child and records why, for this call and every later one.
func (h *hfNodeTok) fail(err error) error {
	h.kill()
	h.dead = fmt.Errorf("tokenizer: %s: backend %s: %w", h.path, BackendHFNode, err)
	return h.dead
}

// stop ends the child if it runs and waits for it.
func (h *hfNodeTok) stop() {
	if h.cmd != nil && h.cmd.ProcessState == nil {
		h.cmd.Process.Kill()
		h.cmd.Wait()
	}
}

// kill ends the child (if it runs), waits for it and removes its files.
func (h *hfNodeTok) kill() {
	h.stop()
	for _, f := range []*os.File{h.stdin, h.stdout, h.stderr} {
		if f != nil {
			f.Close()
		}
	}
	if h.tmp != "" {
		os.RemoveAll(h.tmp)
		h.tmp = ""
	}
}

// Encode returns Hugging Face's ids for text, no special token added.
func (h *hfNodeTok) Encode(text string) ([]int32, error) {
	ans, err := h.call(hfNodeRequest{Texts: []string{text}, IDs: true})
	if err != nil {
		return nil, err
	}
	ids, err := decodeU32(ans.IDs, ans.Counts[0])
	if err != nil {
		return nil, h.failLocked(err)
	}
	return ids, nil
}

// EncodeOffsets returns Hugging Face's ids for text and the byte offset in
// text where each token starts.
func (h *hfNodeTok) EncodeOffsets(text string) ([]int32, []int, error) {
	ans, err := h.call(hfNodeRequest{Texts: []string{text}, IDs: true, Offsets: true})
	if err != nil {
		return nil, nil, err
	}
	ids, err := decodeU32(ans.IDs, ans.Counts[0])
	if err != nil {
		return nil, nil, h.failLocked(err)
	}
	chars, err := decodeU32(ans.Offsets, ans.Counts[0])
	if err != nil {
		return nil, nil, h.failLocked(err)
	}
	return ids, charsToBytes(text, chars), nil
}

// EncodeTimed encodes texts (one batch when there are several) and returns
// the token count and the encode time the child measured (see LoadHFNode).
func (h *hfNodeTok) EncodeTimed(texts []string) (int, time.Duration, error) {
	ans, err := h.call(hfNodeRequest{Texts: texts})
	if err != nil {
		return 0, 0, err
	}
	ns, err := strconv.ParseInt(ans.NS, 10, 64)
	if err != nil || ns < 0 {
		return 0, 0, h.failLocked(fmt.Errorf("encode time %q from node: not nanoseconds", ans.NS))
	}
	n := 0
	for _, c := range ans.Counts {
		n += c
	}
	return n, time.Duration(ns), nil
}

func (h *hfNodeTok) failLocked(err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fail(err)
}

func (h *hfNodeTok) Info() Info { return h.info }

// Close ends the child: it closes its stdin, waits for it to exit (killing
// it after the timeout) and removes its temporary files. It is idempotent.
func (h *hfNodeTok) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dead != nil {
		return nil
	}
	h.dead = fmt.Errorf("tokenizer: %s: backend %s: encode after Close", h.path, BackendHFNode)
	h.stdin.Close()
	t := time.AfterFunc(h.timeout, func() { h.cmd.Process.Kill() })
	h.cmd.Wait()
	t.Stop()
	h.kill()
	return nil
}

// decodeU32 decodes the child's base64 little-endian uint32 array of one
// text, which must hold n values that fit an int32.
func decodeU32(b64 []string, n int) ([]int32, error) {
	if len(b64) != 1 {
		return nil, fmt.Errorf("%d id arrays for one text", len(b64))
	}
	raw, err := base64.StdEncoding.DecodeString(b64[0])
	if err != nil || len(raw) != 4*n {
		return nil, fmt.Errorf("id array from node: %d bytes for %d ids (%v)", len(raw), n, err)
	}
	out := make([]int32, n)
	for i := range out {
		v := binary.LittleEndian.Uint32(raw[4*i:])
		if v > math.MaxInt32 {
			return nil, fmt.Errorf("id %d out of int32 range", v)
		}
		out[i] = int32(v)
	}
	return out, nil
}

// charsToBytes turns offsets counted in Unicode code points into byte
// offsets in text (an offset past the end becomes len(text)).
func charsToBytes(text string, chars []int32) []int {
	out := make([]int, len(chars))
	b, c := 0, int32(0)
	for i, want := range chars {
		for c < want && b < len(text) {
			_, size := utf8.DecodeRuneInString(text[b:])
			b += size
			c++
		}
		if want < c { // offsets not in order: count again from the start
			b, c = 0, 0
			for c < want && b < len(text) {
				_, size := utf8.DecodeRuneInString(text[b:])
				b += size
				c++
			}
		}
		out[i] = b
	}
	return out
}
