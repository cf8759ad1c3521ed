package gpumon

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// smiSampler reads GPUs through nvidia-smi: one long-running
// `--query-gpu=… --format=csv,noheader,nounits -lms N` process read as a
// stream, or, where -lms is refused or the stream dies, one nvidia-smi run
// per Sample (the Monitor's ticker keeps those on a drift-free schedule).
type smiSampler struct {
	path     string
	fields   []string
	query    string
	interval time.Duration
	log      *slog.Logger
	parser   *smiLineParser
	ngpu     int

	// mu guards st and closed, so that Close may end a Sample that waits
	// on the stream.
	mu     sync.Mutex
	st     *smiStream // nil in polling mode
	closed bool

	pollBuf []Sample
}

// smiStream is the running -lms process and the goroutine reading it.
type smiStream struct {
	cmd    *exec.Cmd
	stderr *limitedBuffer
	done   chan struct{} // closed when the reader has returned
	notify chan struct{} // a new batch is there (buffered, 1)

	mu     sync.Mutex
	batch  []Sample // latest complete batch, one per GPU
	seq    uint64   // batches published
	err    error    // why the stream ended
	read   uint64   // seq of the batch Sample returned last
	killed bool
}

// smiFallback names the older field that stands in for a newer one an
// older nvidia-smi rejects (driver 535 added both; it still accepts the
// clocks_throttle_reasons names).
var smiFallback = map[string]string{
	"clocks_event_reasons.active": "clocks_throttle_reasons.active",
	"power.draw.instant":          "power.draw",
	"power.draw.average":          "power.draw",
}

// OpenSMI starts the nvidia-smi sampler. It first runs nvidia-smi once to
// learn how many GPUs there are and which of cfg.SMIFields it accepts: a
// field it rejects (`Field "pcie.rx" is not a valid field to query.`) is
// replaced by its older equivalent (power.draw.instant by power.draw,
// clocks_event_reasons.active by clocks_throttle_reasons.active) or
// dropped, with a warning naming it. Then it starts the -lms stream; if
// nvidia-smi refuses -lms, it falls back to polling, with a warning.
//
// Fields at a 100 ms interval: each row is what nvidia-smi printed for
// that GPU, stamped with time.Now when the line arrived. nvidia-smi reads
// NVML's instantaneous or driver-averaged values (power.draw is a 1 s
// average on many boards, utilization.gpu covers 1/6 s to 1 s), so rows
// closer together than those windows repeat values. There is no energy
// counter and no PCIe throughput: those are NaN.
//
// ctx bounds only the probe run; the stream lives until Close.
func OpenSMI(ctx context.Context, cfg OpenConfig) (Sampler, error) {
	s := &smiSampler{path: cfg.SMIPath, interval: cfg.interval(), log: cfg.logger()}
	if s.path == "" {
		s.path = "nvidia-smi"
	}
	fields := cfg.SMIFields
	if fields == nil {
		fields = DefaultSMIFields()
	}
	fields = slices.Clone(fields)
	if !slices.Contains(fields, "index") {
		fields = append([]string{"index"}, fields...)
	}
	for _, f := range fields {
		if _, ok := smiSetters[f]; !ok {
			return nil, fmt.Errorf("gpumon: nvidia-smi: field %q is not one gpumon can record", f)
		}
	}
	// Probe: drop rejected fields, count GPUs.
	var lines [][]byte
	for {
		s.fields = fields
		s.query = "--query-gpu=" + strings.Join(fields, ",")
		out, err := s.runOnce(ctx)
		if f, ok := invalidField(out); ok && f != "index" && slices.Contains(fields, f) {
			fields = slices.Clone(fields)
			i := slices.Index(fields, f)
			if alt, ok := smiFallback[f]; ok && !slices.Contains(fields, alt) {
				s.log.Warn("gpumon: nvidia-smi rejected a field; using an older one", "field", f, "instead", alt)
				fields[i] = alt
				continue
			}
			s.log.Warn("gpumon: nvidia-smi rejected a field; dropping it", "field", f)
			fields = slices.Delete(fields, i, i+1)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		lines = nonEmptyLines(out)
		break
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("gpumon: nvidia-smi: %s reported no GPU", s.path)
	}
	s.ngpu = len(lines)
	var err error
	if s.parser, err = newSMILineParser(s.fields); err != nil {
		return nil, err
	}
	var probe Sample
	if err := s.parser.parse(lines[0], &probe); err != nil {
		return nil, withPrefix("gpumon: nvidia-smi: probe", err)
	}
	if cfg.SMINoStream {
		return s, nil
	}
	if err := s.startStream(); err != nil {
		s.log.Warn("gpumon: nvidia-smi -lms unavailable; polling instead", "err", err.Error())
		return s, nil
	}
	return s, nil
}

func nonEmptyLines(out []byte) [][]byte {
	var lines [][]byte
	for l := range bytes.Lines(out) {
		l = bytes.TrimSpace(l)
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return lines
}

func (s *smiSampler) Name() string { return string(KindSMI) }

// Streaming reports whether the sampler is reading an -lms stream (false:
// polling).
func (s *smiSampler) Streaming() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st != nil
}

// Interval is how often the -lms stream prints a round, or 0 when polling
// (then each Sample reads at once, so the caller's schedule paces it).
// A [Monitor] uses it to warn when the stream is slower than its own
// interval.
func (s *smiSampler) Interval() time.Duration {
	if s.Streaming() {
		return s.interval
	}
	return 0
}

// runOnce runs nvidia-smi once with the sampler's query and returns its
// standard output (and, on failure, its standard error appended, so the
// caller can find nvidia-smi's message).
func (s *smiSampler) runOnce(ctx context.Context) ([]byte, error) {
	return s.run(ctx, s.query, "--format=csv,noheader,nounits")
}

// run runs nvidia-smi once with args, for at most 10 s.
func (s *smiSampler) run(ctx context.Context, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.path, args...)
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := bytes.TrimSpace(append(out, stderr.Bytes()...))
		return msg, s.execError(err, msg)
	}
	return out, nil
}

// execError describes a failed run of nvidia-smi: the executable, what
// went wrong and what nvidia-smi said, if anything. An *exec.Error (not
// found, not executable) names the executable itself.
func (s *smiSampler) execError(err error, said []byte) error {
	prefix := "gpumon: nvidia-smi: " + s.path
	if _, ok := errors.AsType[*exec.Error](err); ok {
		prefix = "gpumon: nvidia-smi"
	}
	if len(said) == 0 {
		return fmt.Errorf("%s: %w", prefix, err)
	}
	return fmt.Errorf("%s: %w: %s", prefix, err, truncate(said))
}

// startStream starts the -lms process and waits for its first complete
// batch (or its early exit, which means -lms was refused).
func (s *smiSampler) startStream() error {
	ms := max(1, s.interval.Milliseconds())
	cmd := exec.Command(s.path, s.query, "--format=csv,noheader,nounits", "-lms", strconv.FormatInt(ms, 10))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("gpumon: nvidia-smi: %w", err)
	}
	st := &smiStream{cmd: cmd, stderr: &limitedBuffer{}, done: make(chan struct{}), notify: make(chan struct{}, 1)}
	cmd.Stderr = st.stderr
	if err := cmd.Start(); err != nil {
		return s.execError(err, nil)
	}
	go s.readStream(st, stdout)
	// Wait for the first batch: a refused -lms exits at once.
	timer := time.NewTimer(10*time.Second + 2*s.interval)
	defer timer.Stop()
	select {
	case <-st.notify:
		st.mu.Lock()
		var perr error
		for _, r := range st.batch {
			if r.Err == nil {
				perr = nil
				break
			}
			perr = r.Err
		}
		st.mu.Unlock()
		if perr == nil {
			// Leave it for the first Sample, unless the reader has already
			// announced a later batch (a blocking send hung here then).
			select {
			case st.notify <- struct{}{}:
			default:
			}
			s.mu.Lock()
			s.st = st
			s.mu.Unlock()
			return nil
		}
		st.stop()
		return withPrefix("gpumon: nvidia-smi: -lms output does not parse", perr)
	case <-st.done:
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.err
	case <-timer.C:
		// Stopping it makes the stream's own error "closed"; say why.
		st.stop()
		return fmt.Errorf("gpumon: nvidia-smi: no output from -lms within %v", 10*time.Second+2*s.interval)
	}
}

// readStream parses lines into batches of one Sample per GPU and publishes
// each complete batch.
func (s *smiSampler) readStream(st *smiStream, r io.Reader) {
	defer close(st.done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	parser := s.parser // owned by this goroutine while streaming
	n := s.ngpu
	work := make([]Sample, n)
	have := make([]bool, n)
	count, last := 0, -1
	publish := func(now time.Time) {
		for i := range work {
			if !have[i] { // nvidia-smi printed no line for this GPU this round
				work[i] = Missing(now, i, work[i].UUID, work[i].Name)
				work[i].Err = errNoLine
			}
		}
		st.mu.Lock()
		st.batch = append(st.batch[:0], work...)
		st.seq++
		st.mu.Unlock()
		select {
		case st.notify <- struct{}{}:
		default:
		}
		clear(have)
		count, last = 0, -1
	}
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		now := time.Now()
		guess := (last + 1) % n
		row := Missing(now, guess, work[guess].UUID, work[guess].Name)
		if err := parser.parse(line, &row); err != nil {
			idx := row.Index
			row = Missing(now, idx, "", "")
			row.Err = err
		}
		idx := row.Index
		if idx < 0 || idx >= n {
			idx = guess
			row.Index = guess
		}
		// Rounds are told apart by the index going back: a round that
		// lacks a GPU's line still ends, with a gap row for that GPU.
		if count > 0 && idx <= last {
			publish(now)
		}
		if row.UUID == "" && row.Err != nil {
			row.UUID, row.Name = work[idx].UUID, work[idx].Name
		}
		work[idx], have[idx] = row, true
		count++
		last = idx
		if count == n {
			publish(now)
		}
	}
	err := sc.Err()
	werr := st.cmd.Wait()
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.killed:
		st.err = ErrSamplerClosed
	case err != nil:
		st.err = fmt.Errorf("gpumon: nvidia-smi: reading -lms stream: %w", err)
	case werr != nil:
		st.err = withPrefix("gpumon: nvidia-smi: -lms stream ended", s.execError(werr, bytes.TrimSpace(st.stderr.Bytes())))
	default:
		st.err = errors.New("gpumon: nvidia-smi: -lms stream ended")
	}
}

var errNoLine = errors.New("gpumon: nvidia-smi: no line for this GPU in this round")

// stop kills the process and waits for the reader.
func (st *smiStream) stop() {
	st.mu.Lock()
	st.killed = true
	st.mu.Unlock()
	if st.cmd.Process != nil {
		st.cmd.Process.Kill()
	}
	<-st.done
}

// Sample returns the next batch of the stream (waiting for it if the
// previous one was already returned), or, when polling, runs nvidia-smi
// once. If the stream dies, the sampler logs why and polls from then on.
// Close may be called while Sample waits: Sample then returns
// [ErrSamplerClosed], and logs nothing.
func (s *smiSampler) Sample(ctx context.Context, dst []Sample) ([]Sample, error) {
	s.mu.Lock()
	st, closed := s.st, s.closed
	s.mu.Unlock()
	if closed {
		return dst, ErrSamplerClosed
	}
	if err := ctx.Err(); err != nil {
		return dst, err
	}
	if st != nil {
		for {
			st.mu.Lock()
			if st.seq > st.read {
				st.read = st.seq
				dst = append(dst, st.batch...)
				st.mu.Unlock()
				return dst, nil
			}
			st.mu.Unlock()
			select {
			case <-st.notify:
				continue
			case <-ctx.Done():
				return dst, ctx.Err()
			case <-st.done:
			}
			st.mu.Lock()
			err := st.err
			st.mu.Unlock()
			s.mu.Lock()
			closed := s.closed
			if !closed {
				s.st = nil
			}
			s.mu.Unlock()
			if closed || errors.Is(err, ErrSamplerClosed) {
				return dst, ErrSamplerClosed
			}
			s.log.Warn("gpumon: nvidia-smi stream stopped; polling instead", "err", err.Error())
			st.stop()
			break
		}
	}
	return s.poll(ctx, dst)
}

func (s *smiSampler) poll(ctx context.Context, dst []Sample) ([]Sample, error) {
	out, err := s.runOnce(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return dst, ctx.Err()
		}
		return dst, err
	}
	now := time.Now()
	lines := nonEmptyLines(out)
	if len(s.pollBuf) < len(lines) {
		s.pollBuf = make([]Sample, len(lines))
	}
	for i, line := range lines {
		row := &s.pollBuf[i]
		uuid, name := row.UUID, row.Name
		*row = Missing(now, i, uuid, name)
		if err := s.parser.parse(line, row); err != nil {
			*row = Missing(now, i, uuid, name)
			row.Err = err
		}
		dst = append(dst, *row)
	}
	return dst, nil
}

// smiInfoFields are the --query-gpu fields Info asks for. name goes last:
// it is the only value that may hold a comma. Fields an older nvidia-smi
// rejects (compute_cap before 510, memory.reserved) are dropped.
var smiInfoFields = []string{
	"index", "uuid", "driver_version", "pci.bus_id", "vbios_version", "compute_cap",
	"memory.total", "memory.reserved",
	"pcie.link.gen.current", "pcie.link.gen.max", "pcie.link.width.current", "pcie.link.width.max",
	"enforced.power.limit", "name",
}

// Info runs `nvidia-smi --query-gpu=driver_version,…` once, and plain
// `nvidia-smi` for the CUDA version its banner prints (--query-gpu has no
// such field). NVMLVersion stays empty.
func (s *smiSampler) Info(ctx context.Context) (SystemInfo, error) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return SystemInfo{}, ErrSamplerClosed
	}
	fields := slices.Clone(smiInfoFields)
	var out []byte
	for {
		var err error
		out, err = s.run(ctx, "--query-gpu="+strings.Join(fields, ","), "--format=csv,noheader,nounits")
		if f, ok := invalidField(out); ok && f != "index" && f != "name" && slices.Contains(fields, f) {
			fields = slices.DeleteFunc(fields, func(x string) bool { return x == f })
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return SystemInfo{}, ctx.Err()
			}
			return SystemInfo{}, withPrefix("gpumon: nvidia-smi: info", err)
		}
		break
	}
	info := SystemInfo{Sampler: s.Name()}
	for _, line := range nonEmptyLines(out) {
		g, driver, err := parseSMIInfo(line, fields)
		if err != nil {
			return SystemInfo{}, err
		}
		if info.DriverVersion == "" {
			info.DriverVersion = driver
		}
		info.GPUs = append(info.GPUs, g)
	}
	if banner, err := s.run(ctx); err == nil {
		info.CUDADriverVersion = bannerCUDAVersion(banner)
	} else if ctx.Err() != nil {
		return SystemInfo{}, ctx.Err()
	}
	return info, nil
}

// parseSMIInfo parses one line of the Info query. Missing values
// ("[N/A]") leave their field empty.
func parseSMIInfo(line []byte, fields []string) (GPUInfo, string, error) {
	var g GPUInfo
	var driver string
	vals := strings.SplitN(string(line), ",", len(fields)) // name, last, keeps its commas
	if len(vals) != len(fields) {
		return g, "", fmt.Errorf("gpumon: nvidia-smi: info: want %d fields in %q", len(fields), truncate(line))
	}
	for i, f := range fields {
		v := strings.TrimSpace(vals[i])
		if missingValue([]byte(v)) || lostValue([]byte(v)) {
			continue
		}
		num := func() float64 {
			x, ok := parseDecimal(trimUnit([]byte(v)))
			if !ok {
				return 0
			}
			return x
		}
		switch f {
		case "index":
			if err := setInt(&g.Index, []byte(v)); err != nil {
				return g, "", fmt.Errorf("gpumon: nvidia-smi: info: index: %w", err)
			}
		case "uuid":
			g.UUID = v
		case "name":
			g.Name = v
		case "driver_version":
			driver = v
		case "pci.bus_id":
			g.PCIBusID = v
		case "vbios_version":
			g.VBIOSVersion = v
		case "compute_cap":
			g.ComputeCapability = v
		case "memory.total":
			g.MemoryTotalMiB = num()
		case "memory.reserved":
			g.MemoryReservedMiB = num()
		case "pcie.link.gen.current":
			g.PCIeLinkGen = int(num())
		case "pcie.link.gen.max":
			g.PCIeLinkGenMax = int(num())
		case "pcie.link.width.current":
			g.PCIeLinkWidth = int(num())
		case "pcie.link.width.max":
			g.PCIeLinkWidthMax = int(num())
		case "enforced.power.limit":
			g.PowerLimitW = num()
		}
	}
	return g, driver, nil
}

// bannerCUDAVersion finds "CUDA Version: 12.4" in nvidia-smi's banner.
func bannerCUDAVersion(out []byte) string {
	const key = "CUDA Version:"
	i := bytes.Index(out, []byte(key))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(out[i+len(key):], " ")
	j := 0
	for j < len(rest) && (rest[j] == '.' || '0' <= rest[j] && rest[j] <= '9') {
		j++
	}
	return string(rest[:j])
}

// Close stops the nvidia-smi process, if one runs, and waits for it. It
// may be called while Sample waits on the stream (that Sample returns
// [ErrSamplerClosed]); it is idempotent.
func (s *smiSampler) Close() error {
	s.mu.Lock()
	st := s.st
	s.st, s.closed = nil, true
	s.mu.Unlock()
	if st != nil {
		st.stop()
	}
	return nil
}

// limitedBuffer keeps the first 4 KiB written to it; it is safe for
// concurrent use (exec copies stderr from its own goroutine).
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 4096 - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.buf)
}
