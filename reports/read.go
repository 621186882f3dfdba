package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strings"

	"github.com/headroom/headroom/result"
)

// Read decodes one result written by JSON and checks that its schema string is the one
// this build understands. Fields unknown to this build are ignored, so a newer v1 result
// with added figures still reads.
func Read(rd io.Reader) (*result.Result, error) {
	dec := json.NewDecoder(rd)
	var r result.Result
	if err := dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("read result: empty input")
		}
		return nil, fmt.Errorf("read result: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read result: unexpected data after the result (at byte %d)", dec.InputOffset())
	}
	if r.Schema != result.Schema {
		if r.Schema == "" {
			return nil, fmt.Errorf("read result: no \"schema\" field: not a Headroom result (want %q)", result.Schema)
		}
		return nil, fmt.Errorf("read result: schema %q is not supported (want %q)", r.Schema, result.Schema)
	}
	return &r, nil
}

// checkFinite returns an error naming the first field of r, in encoding order, that holds
// a NaN or an infinity. JSON has no encoding for them, and a report showing "NaN" hides a
// bug in whatever produced the result.
func checkFinite(r *result.Result) error {
	if r == nil {
		return errors.New("nil result")
	}
	if path := firstNonFinite(reflect.ValueOf(*r), ""); path != "" {
		return fmt.Errorf("result field %s is not a finite number", path)
	}
	return nil
}

func firstNonFinite(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("%s (%v)", path, f)
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return firstNonFinite(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			name := jsonName(t.Field(i))
			if name == "" {
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			if s := firstNonFinite(v.Field(i), p); s != "" {
				return s
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			if s := firstNonFinite(v.Index(i), elemPath(path, v.Index(i), i)); s != "" {
				return s
			}
		}
	}
	return ""
}

// elemPath names a list element by its name when it has one (components[workers]), by
// its index otherwise (series.offered_rps[3]).
func elemPath(path string, elem reflect.Value, i int) string {
	if elem.Kind() == reflect.Struct {
		for _, key := range []string{"Name", "Figure"} {
			if f := elem.FieldByName(key); f.IsValid() && f.Kind() == reflect.String && f.String() != "" {
				return fmt.Sprintf("%s[%s]", path, f.String())
			}
		}
	}
	return fmt.Sprintf("%s[%d]", path, i)
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name
	}
	return f.Name
}
