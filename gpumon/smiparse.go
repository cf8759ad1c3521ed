package gpumon

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
)

// DefaultSMIFields returns the --query-gpu fields the nvidia-smi sampler
// asks for. nvidia-smi has no PCIe throughput field (pcie.rx and pcie.tx are
// rejected) and no energy counter field. power.draw is what the original
// study recorded: on Ampere and newer a 1 s average (ask for power.draw.instant,
// driver 535+, for the instantaneous value); clocks_throttle_reasons.active
// is accepted by old and new drivers alike (535+ print it as
// clocks_event_reasons.active).
func DefaultSMIFields() []string {
	return []string{
		"index", "uuid", "name",
		"power.draw", "utilization.gpu", "utilization.memory",
		"memory.used", "memory.total", "clocks.sm", "clocks.mem",
		"temperature.gpu", "pstate", "clocks_throttle_reasons.active",
	}
}

// smiSetters maps the --query-gpu fields gpumon understands onto Sample.
var smiSetters = map[string]func(s *Sample, v []byte) error{
	"index":              func(s *Sample, v []byte) error { return setInt(&s.Index, v) },
	"uuid":               func(s *Sample, v []byte) error { s.UUID = intern(s.UUID, v); return nil },
	"name":               func(s *Sample, v []byte) error { s.Name = intern(s.Name, v); return nil },
	"gpu_uuid":           func(s *Sample, v []byte) error { s.UUID = intern(s.UUID, v); return nil },
	"gpu_name":           func(s *Sample, v []byte) error { s.Name = intern(s.Name, v); return nil },
	"power.draw":         func(s *Sample, v []byte) error { return setFloat(&s.PowerW, v) },
	"power.draw.instant": func(s *Sample, v []byte) error { return setFloat(&s.PowerW, v) },
	"power.draw.average": func(s *Sample, v []byte) error { return setFloat(&s.PowerW, v) },
	"utilization.gpu":    func(s *Sample, v []byte) error { return setFloat(&s.UtilGPU, v) },
	"utilization.memory": func(s *Sample, v []byte) error { return setFloat(&s.UtilMem, v) },
	"memory.used":        func(s *Sample, v []byte) error { return setFloat(&s.MemUsedMiB, v) },
	"memory.total":       func(s *Sample, v []byte) error { return setFloat(&s.MemTotalMiB, v) },
	"clocks.sm":          func(s *Sample, v []byte) error { return setFloat(&s.ClockSMMHz, v) },
	"clocks.current.sm":  func(s *Sample, v []byte) error { return setFloat(&s.ClockSMMHz, v) },
	"clocks.mem":         func(s *Sample, v []byte) error { return setFloat(&s.ClockMemMHz, v) },
	"clocks.current.memory": func(s *Sample, v []byte) error {
		return setFloat(&s.ClockMemMHz, v)
	},
	"temperature.gpu":                func(s *Sample, v []byte) error { return setFloat(&s.TempC, v) },
	"pstate":                         setPState,
	"clocks_throttle_reasons.active": setReasons,
	"clocks_event_reasons.active":    setReasons,
}

// errSMILost is the Err of a row nvidia-smi printed as "[GPU is lost]" or
// "[GPU requires reset]".
var errSMILost = withPrefix("gpumon: nvidia-smi", ErrGPULost)

// lostValue reports whether v is nvidia-smi's marker for a GPU that fell
// off the bus or must be reset before it answers again.
func lostValue(v []byte) bool {
	return bytes.Equal(v, []byte("[GPU is lost]")) || bytes.Equal(v, []byte("[GPU requires reset]"))
}

// missingValue reports whether v is one of nvidia-smi's "no value" markers:
// [N/A], [Not Supported], [Unknown Error], [Insufficient Permissions] and
// the like, or N/A without brackets. ("[GPU is lost]" and "[GPU requires
// reset]" make the whole row a gap: see lostValue.)
func missingValue(v []byte) bool {
	return len(v) == 0 || v[0] == '[' || bytes.Equal(v, []byte("N/A"))
}

// trimUnit cuts a unit suffix (" W", " %", " MiB", " MHz") that nvidia-smi
// appends when --format lacks nounits.
func trimUnit(v []byte) []byte {
	if i := bytes.IndexByte(v, ' '); i > 0 {
		return v[:i]
	}
	return v
}

func setFloat(dst *float64, v []byte) error {
	if missingValue(v) {
		return nil // stays NaN
	}
	f, ok := parseDecimal(trimUnit(v))
	if !ok {
		return fmt.Errorf("bad number %q", v)
	}
	*dst = f
	return nil
}

func setInt(dst *int, v []byte) error {
	f, ok := parseDecimal(v)
	if !ok || f != math.Trunc(f) || f < 0 || f > 1<<20 {
		return fmt.Errorf("bad index %q", v)
	}
	*dst = int(f)
	return nil
}

func setPState(s *Sample, v []byte) error {
	if missingValue(v) {
		return nil
	}
	if len(v) < 2 || v[0] != 'P' {
		return fmt.Errorf("bad pstate %q", v)
	}
	f, ok := parseDecimal(v[1:])
	if !ok || f < 0 || f > 15 || f != math.Trunc(f) {
		return fmt.Errorf("bad pstate %q", v)
	}
	s.PState = int(f)
	return nil
}

func setReasons(s *Sample, v []byte) error {
	if missingValue(v) {
		return nil
	}
	h := v
	if len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		h = h[2:]
	}
	if len(h) == 0 || len(h) > 16 {
		return fmt.Errorf("bad clock reasons %q", v)
	}
	var x uint64
	for _, c := range h {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return fmt.Errorf("bad clock reasons %q", v)
		}
		x = x<<4 | uint64(d)
	}
	s.ClockReasons, s.ClockReasonsOK = x, true
	return nil
}

// intern returns old when it already equals v, so that a stream of lines
// for the same GPU does not allocate a new string per line.
func intern(old string, v []byte) string {
	if missingValue(v) {
		return ""
	}
	if old == string(v) {
		return old
	}
	return string(v)
}

// parseDecimal parses an optionally signed decimal such as "72.51" without
// allocating; anything else goes through strconv.
func parseDecimal(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	i, neg := 0, false
	if b[0] == '-' || b[0] == '+' {
		neg, i = b[0] == '-', 1
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if digits >= 18 {
				return slowFloat(b)
			}
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return slowFloat(b)
		}
	}
	if digits == 0 {
		return 0, false
	}
	f := float64(mant)
	if frac > 0 {
		f /= math.Pow10(frac)
	}
	if neg {
		f = -f
	}
	return f, true
}

func slowFloat(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// smiLineParser parses nvidia-smi --query-gpu CSV lines for a fixed list of
// fields. It is not safe for concurrent use.
type smiLineParser struct {
	fields  []string
	setters []func(*Sample, []byte) error
}

func newSMILineParser(fields []string) (*smiLineParser, error) {
	p := &smiLineParser{fields: fields}
	for _, f := range fields {
		set, ok := smiSetters[f]
		if !ok {
			return nil, fmt.Errorf("gpumon: nvidia-smi: field %q is not one gpumon can record", f)
		}
		p.setters = append(p.setters, set)
	}
	return p, nil
}

// parse parses one CSV line (without its newline) into out, which the
// caller has reset with Missing (keeping UUID and Name from the previous
// line of the same GPU lets intern reuse them). nvidia-smi quotes nothing:
// fields are separated by ", " and no value holds a comma, except a GPU
// name, which is handled by splitting the name field off from both ends.
func (p *smiLineParser) parse(line []byte, out *Sample) error {
	line = bytes.TrimRight(line, "\r")
	n := len(p.fields)
	if bytes.Count(line, []byte{','}) < n-1 {
		return fmt.Errorf("gpumon: nvidia-smi: want %d fields, got %d in %q", n, bytes.Count(line, []byte{','})+1, truncate(line))
	}
	nameAt := -1
	for i, f := range p.fields {
		if f == "name" || f == "gpu_name" {
			nameAt = i
		}
	}
	rest := line
	lost := false
	for i := range n {
		var v []byte
		switch {
		case i == n-1:
			v, rest = rest, nil
			if bytes.IndexByte(v, ',') >= 0 {
				return fmt.Errorf("gpumon: nvidia-smi: want %d fields, got more in %q", n, truncate(line))
			}
		case i == nameAt:
			// The name may hold commas: take it up to the comma that
			// leaves exactly the remaining field count.
			cut := len(rest)
			for k := 0; k < n-1-i; k++ {
				cut = bytes.LastIndexByte(rest[:cut], ',')
				if cut < 0 {
					return fmt.Errorf("gpumon: nvidia-smi: want %d fields in %q", n, truncate(line))
				}
			}
			v, rest = rest[:cut], rest[cut+1:]
		default:
			j := bytes.IndexByte(rest, ',')
			v, rest = rest[:j], rest[j+1:]
		}
		v = bytes.TrimSpace(v)
		if lostValue(v) {
			lost = true
			continue
		}
		if err := p.setters[i](out, v); err != nil {
			return fmt.Errorf("gpumon: nvidia-smi: %s: %w", p.fields[i], err)
		}
	}
	if lost {
		// A lost GPU's row is a gap: whatever nvidia-smi still printed
		// (its index, cached identity) is kept, no value is.
		*out = Missing(out.Time, out.Index, out.UUID, out.Name)
		out.Err = errSMILost
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// parseSMILine parses one line of `nvidia-smi --query-gpu=FIELDS
// --format=csv,noheader[,nounits]` output for the given fields into a
// Sample taken at out.Time. Values nvidia-smi could not read ("[N/A]",
// "[Not Supported]", "[Unknown Error]") are NaN; a row with "[GPU is
// lost]" or "[GPU requires reset]" is a gap whose Err wraps [ErrGPULost];
// unit suffixes ("72.50 W") are accepted. It
// returns an error naming the field for a malformed line, and for a field
// gpumon does not know.
func parseSMILine(line []byte, fields []string, out *Sample) error {
	p, err := newSMILineParser(fields)
	if err != nil {
		return err
	}
	*out = Missing(out.Time, 0, "", "")
	return p.parse(line, out)
}

// invalidField extracts X from nvidia-smi's `Field "X" is not a valid field
// to query.` message.
func invalidField(out []byte) (string, bool) {
	const pre, post = `Field "`, `" is not a valid field to query`
	i := bytes.Index(out, []byte(pre))
	if i < 0 {
		return "", false
	}
	rest := out[i+len(pre):]
	j := bytes.Index(rest, []byte(post))
	if j <= 0 {
		return "", false
	}
	return string(rest[:j]), true
}
