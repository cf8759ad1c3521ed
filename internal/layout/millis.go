package layout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

// The one convention for durations in tr117's files: float milliseconds
// under a name that ends in "_ms" ("timeout_ms": 120000). A struct keeps
// its fields as time.Duration and gets this JSON from two one-line methods:
//
//	func (c Config) MarshalJSON() ([]byte, error)  { return layout.MarshalMillis(c) }
//	func (c *Config) UnmarshalJSON(b []byte) error { return layout.UnmarshalMillis(b, c) }
//
// UnmarshalMillis also reads the spellings of older files, so that an
// existing output root still resumes: "timeout_ns" (integer nanoseconds)
// and "timeout" (a Go duration string such as "10ms", or a number of
// nanoseconds).

var durationType = reflect.TypeFor[time.Duration]()

// isDuration reports whether t is time.Duration or a named type of it
// (such as a package's own Duration).
func isDuration(t reflect.Type) bool {
	return t == durationType || t.Kind() == reflect.Int64 && t.Name() == "Duration"
}

// jsonField is one field of a struct as encoding/json sees it.
type jsonField struct {
	name      string
	omitEmpty bool
	v         reflect.Value
}

// fields lists v's JSON fields in order, with those of embedded structs
// without a JSON name promoted, as encoding/json does.
func fields(v reflect.Value) []jsonField {
	var out []jsonField
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
			out = append(out, fields(v.Field(i))...)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, jsonField{name: name, omitEmpty: strings.Contains(opts, "omitempty"), v: v.Field(i)})
	}
	return out
}

// isMillis reports whether f is written as float milliseconds: a duration
// (or a slice of them) under a name ending in "_ms".
func (f jsonField) isMillis() bool {
	t := f.v.Type()
	if t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return strings.HasSuffix(f.name, "_ms") && isDuration(t)
}

// ms is d in float milliseconds.
func ms(d int64) float64 { return float64(d) / float64(time.Millisecond) }

// MarshalMillis marshals v, a struct or a pointer to one, as encoding/json
// would without v's own MarshalJSON, except that a time.Duration field
// (or a slice of them) whose JSON name ends in "_ms" is written as float
// milliseconds. Nested values are marshalled with their own methods.
func MarshalMillis(v any) ([]byte, error) {
	rv := reflect.Indirect(reflect.ValueOf(v))
	var buf bytes.Buffer
	buf.WriteByte('{')
	for _, f := range fields(rv) {
		if f.omitEmpty && (f.v.IsZero() || f.v.Kind() == reflect.Slice && f.v.Len() == 0) {
			continue
		}
		var val any = f.v.Interface()
		if f.isMillis() {
			if f.v.Kind() == reflect.Slice {
				s := make([]float64, f.v.Len())
				for i := range s {
					s[i] = ms(f.v.Index(i).Int())
				}
				val = s
			} else {
				val = ms(f.v.Int())
			}
		}
		b, err := json.Marshal(val)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(f.name)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(b)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalMillis reads into v, a pointer to a struct, what MarshalMillis
// writes, and for each "_ms" duration also an older spelling: the name
// with "_ns" (integer nanoseconds) or without a unit (a Go duration
// string, or integer nanoseconds). As with json.Unmarshal, keys that match
// no field are ignored.
func UnmarshalMillis(b []byte, v any) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return err
	}
	if top == nil { // null
		return nil
	}
	for _, f := range fields(reflect.ValueOf(v).Elem()) {
		if err := f.read(top); err != nil {
			return err
		}
	}
	return nil
}

// read sets f from its key in top (for a "_ms" duration: from each of its
// spellings present, the newest last).
func (f jsonField) read(top map[string]json.RawMessage) error {
	if !f.isMillis() {
		raw, ok := top[f.name]
		if !ok {
			return nil
		}
		if err := json.Unmarshal(raw, f.v.Addr().Interface()); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		return nil
	}
	stem := strings.TrimSuffix(f.name, "_ms")
	for _, k := range []struct {
		key  string
		unit func(json.RawMessage) (int64, error)
	}{{stem, oldValue}, {stem + "_ns", nsValue}, {f.name, msValue}} {
		raw, ok := top[k.key]
		if !ok {
			continue
		}
		if err := setDurations(f.v, raw, k.unit); err != nil {
			return fmt.Errorf("%s: %w", k.key, err)
		}
	}
	return nil
}

// setDurations sets dst, a duration or a slice of them, from raw.
func setDurations(dst reflect.Value, raw json.RawMessage, unit func(json.RawMessage) (int64, error)) error {
	if dst.Kind() != reflect.Slice {
		d, err := unit(raw)
		dst.SetInt(d)
		return err
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return err
	}
	s := reflect.MakeSlice(dst.Type(), len(elems), len(elems))
	for i, e := range elems {
		d, err := unit(e)
		if err != nil {
			return err
		}
		s.Index(i).SetInt(d)
	}
	dst.Set(s)
	return nil
}

// msValue reads float milliseconds.
func msValue(raw json.RawMessage) (int64, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, err
	}
	return int64(math.Round(f * float64(time.Millisecond))), nil
}

// nsValue reads integer nanoseconds.
func nsValue(raw json.RawMessage) (int64, error) {
	var n int64
	err := json.Unmarshal(raw, &n)
	return n, err
}

// oldValue reads a Go duration string ("10ms") or integer nanoseconds.
func oldValue(raw json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return nsValue(raw)
	}
	d, err := time.ParseDuration(s)
	return int64(d), err
}
