package profiler

import (
	"bytes"
)

// A framer splits the bytes a bodyReader holds into messages: next returns
// the next complete message and its 1-based line number in the body, and
// consumes it; ok is false when the bytes hold no complete message yet.
// The message is valid until the next read.
type framer interface {
	next(r *bodyReader) (msg []byte, line int, ok bool)
	// atEOF returns what the body's unterminated end holds, when it
	// counts as a message (an NDJSON line without its newline).
	atEOF(r *bodyReader) (msg []byte, line int, ok bool)
	// seen is the number of lines seen so far.
	seen() int
}

// lineFramer frames NDJSON: one message per line, blank lines included
// (the decoder skips them).
type lineFramer struct {
	line int
}

func (f *lineFramer) next(r *bodyReader) ([]byte, int, bool) {
	i := bytes.IndexByte(r.buf[r.scan:r.hi], '\n')
	if i < 0 {
		r.scan = r.hi
		return nil, 0, false
	}
	end := r.scan + i
	msg := r.buf[r.lo:end]
	r.lo, r.scan = end+1, end+1
	f.line++
	return msg, f.line, true
}

func (f *lineFramer) seen() int { return f.line }

func (f *lineFramer) atEOF(r *bodyReader) ([]byte, int, bool) {
	if len(bytes.TrimSpace(r.rest())) == 0 {
		return nil, 0, false
	}
	f.line++
	msg := r.rest()
	r.lo, r.scan = r.hi, r.hi
	return msg, f.line, true
}

// sseFramer frames server-sent events (the WHATWG HTML "event stream"
// format): an event is the "data" field lines up to a blank line, joined
// with newlines. Lines end with LF or CRLF (a lone CR, which the format
// also allows, is not recognised). Comment lines (": ping") and the
// "id" and "retry" fields are consumed without effect; "event" names the
// event (see eventName); unknown fields are ignored. An event without data
// is not dispatched, and neither is an unterminated one at the end of the
// body.
//
// The event's bytes stay in the reader's buffer until it is dispatched
// (r.lo stays at its first line), so a one-line event, the common case, is
// returned without a copy.
type sseFramer struct {
	line      int  // lines seen
	dataLine  int  // line of the event's first data field
	hasData   bool // the event has a data field
	multi     bool // more than one data line: the data is in joined
	d0, d1    int  // the single data line's value, relative to r.lo
	joined    []byte
	eventName []byte // the event's "event" field, valid with the message
	nameBuf   []byte
}

func (f *sseFramer) next(r *bodyReader) ([]byte, int, bool) {
	for {
		i := bytes.IndexByte(r.buf[r.scan:r.hi], '\n')
		if i < 0 {
			return nil, 0, false
		}
		start, end := r.scan, r.scan+i
		r.scan = end + 1
		f.line++
		b := r.buf[start:end]
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		if len(b) == 0 {
			if msg, line, ok := f.dispatch(r); ok {
				return msg, line, true
			}
			continue
		}
		f.field(r, b, start)
	}
}

// field processes one non-blank line b, which starts at buf[start].
func (f *sseFramer) field(r *bodyReader, b []byte, start int) {
	if b[0] == ':' {
		return // a comment: keep-alive pings
	}
	name, value := b, b[len(b):]
	if c := bytes.IndexByte(b, ':'); c >= 0 {
		name, value = b[:c], b[c+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(name) {
	case "data":
		f.addData(r, value, start+(len(b)-len(value)))
	case "event":
		f.nameBuf = append(f.nameBuf[:0], value...)
	}
}

// addData adds one data line's value, which starts at buf[at].
func (f *sseFramer) addData(r *bodyReader, value []byte, at int) {
	switch {
	case !f.hasData:
		f.hasData, f.dataLine = true, f.line
		f.d0, f.d1 = at-r.lo, at-r.lo+len(value)
	case !f.multi:
		f.multi = true
		f.joined = append(f.joined[:0], r.buf[r.lo+f.d0:r.lo+f.d1]...)
		fallthrough
	default:
		f.joined = append(f.joined, '\n')
		f.joined = append(f.joined, value...)
	}
}

// dispatch ends the event at a blank line: it returns the event's data,
// when it had any, and consumes its lines.
func (f *sseFramer) dispatch(r *bodyReader) ([]byte, int, bool) {
	var msg []byte
	ok, line := f.hasData, f.dataLine
	switch {
	case f.multi:
		msg = f.joined
	case ok:
		msg = r.buf[r.lo+f.d0 : r.lo+f.d1]
	}
	f.eventName = append(f.eventName[:0], f.nameBuf...)
	f.nameBuf = f.nameBuf[:0]
	f.hasData, f.multi = false, false
	r.lo = r.scan
	return msg, line, ok
}

func (f *sseFramer) atEOF(*bodyReader) ([]byte, int, bool) { return nil, 0, false }

func (f *sseFramer) seen() int { return f.line }
