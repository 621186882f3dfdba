package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// The decoder turns the merged tree into the Go types. It is driven by reflection over the
// types in scenario.go, so a new field is a new key with no decoder change: the key is the
// field name in snake_case (RateRPS → rate_rps, MemoryMB → memory_mb), a Duration or Dist
// field also accepts the unit suffixes, and the few keys with a shape of their own (a pool's
// queue, the mix, filter policies, the named maps of regions and components) have hooks.
// It keeps going after a problem so that one load reports every independent mistake, and it
// records where each key was written so that validation can place its errors too.

type decoder struct {
	errs
	pos map[string]Pos // dotted key → where it was written
}

func newDecoder() *decoder { return &decoder{pos: map[string]Pos{}} }

func (d *decoder) failAt(src *source, line int, key, format string, args ...any) {
	name := ""
	if src != nil {
		name = src.name
	}
	d.add(&Error{File: name, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) fail(n *node, key, format string, args ...any) {
	d.failAt(n.src, n.line, key, format, args...)
}

func (d *decoder) mark(key string, e *entry) {
	d.pos[key] = Pos{File: e.src.name, Line: e.line}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *node) string {
	switch n.kind {
	case mapNode:
		return "a mapping"
	case seqNode:
		return "a list"
	case nullNode:
		return "nothing"
	}
	return strconv.Quote(n.y.Value)
}

var (
	durationType = reflect.TypeFor[Duration]()
	distType     = reflect.TypeFor[Dist]()
)

// hook decodes one field with a shape of its own. unit is the key's duration unit, if any.
type hook func(d *decoder, n *node, path string, v reflect.Value)

// fieldSpec is one key of a struct.
type fieldSpec struct {
	key   string // YAML key; for a Duration or Dist, the stem the unit suffixes attach to
	index int
	units bool // a Duration or Dist: takes unit suffixes
	hook  hook
}

// special lists the fields that do not follow the snake_case rule or are not keys at all.
func special(t reflect.Type, name string) (f fieldSpec, skip, ok bool) {
	switch t {
	case reflect.TypeFor[Scenario]():
		switch name {
		case "SLOs":
			return fieldSpec{key: "slos", hook: decodeSLOs}, false, true
		case "Regions":
			return fieldSpec{key: "regions", hook: decodeRegions}, false, true
		case "Components":
			return fieldSpec{key: "components", hook: decodeComponents}, false, true
		case "InstanceTypes":
			return fieldSpec{key: "instance_types", hook: decodeInstanceTypes}, false, true
		case "Source":
			return f, true, true
		}
	case reflect.TypeFor[Region]():
		if name == "Name" {
			return f, true, true
		}
	case reflect.TypeFor[InstanceType]():
		switch name {
		case "Name":
			return f, true, true
		case "VCPUs":
			return fieldSpec{key: "vcpus"}, false, true
		}
	case reflect.TypeFor[Workload]():
		if name == "Mix" {
			return fieldSpec{key: "mix", hook: decodeMix}, false, true
		}
	case reflect.TypeFor[Route]():
		if name == "Filter" {
			return fieldSpec{key: "filter", hook: decodeFilter}, false, true
		}
	case reflect.TypeFor[Pool]():
		if name == "QueueCapacity" {
			return fieldSpec{key: "queue", hook: decodeQueueCapacity}, false, true
		}
	}
	return f, false, false
}

var fieldCache sync.Map // reflect.Type → []fieldSpec

// fieldsOf returns the keys of a struct type, in field order.
func fieldsOf(t reflect.Type) []fieldSpec {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.([]fieldSpec)
	}
	var fs []fieldSpec
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		f, skip, ok := special(t, sf.Name)
		if skip {
			continue
		}
		if !ok {
			f = fieldSpec{key: snake(sf.Name), units: sf.Type == durationType || sf.Type == distType}
		}
		f.index = i
		fs = append(fs, f)
	}
	fieldCache.Store(t, fs)
	return fs
}

// snake turns a Go field name into its key: APIGatewayRateRPS → api_gateway_rate_rps.
func snake(name string) string {
	r := []rune(name)
	var b strings.Builder
	for i, c := range r {
		if unicode.IsUpper(c) && i > 0 {
			prev := r[i-1]
			nextLower := i+1 < len(r) && unicode.IsLower(r[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// keysOf lists the valid keys of a struct, for "unknown key" messages.
func keysOf(t reflect.Type, extra []string) []string {
	keys := append([]string(nil), extra...)
	for _, f := range fieldsOf(t) {
		keys = append(keys, f.key)
	}
	return keys
}

// choice is the entry picked for one key, with the unit its spelling carries.
type choice struct {
	e    *entry
	unit time.Duration
}

// pick resolves the spellings of one key: "timeout", "timeout_s" and "timeout_ms" name the
// same value, so when several are present the one from the higher layer (a --set over the
// file, the file over defaults.yaml) wins, and two in the same layer are a mistake.
func (d *decoder) pick(chosen map[string]choice, stem string, e *entry, unit time.Duration, path string) {
	if prev, ok := chosen[stem]; ok {
		switch {
		case prev.e.src.layer == e.src.layer:
			d.failAt(e.src, e.line, join(path, e.key), "%s is also given as %s on line %d; give it once", stem, prev.e.key, prev.e.line)
			return
		case prev.e.src.layer > e.src.layer:
			return
		}
	}
	chosen[stem] = choice{e: e, unit: unit}
}

// structure decodes a mapping into the struct v. what names the struct in messages ("a
// pool"); extra are keys the caller handles itself, listed among the valid ones.
func (d *decoder) structure(n *node, path, what string, v reflect.Value, extra ...string) {
	if n.kind != mapNode {
		d.fail(n, path, "expected a mapping (the keys of %s), got %s", what, describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	byKey := map[string]fieldSpec{}
	for _, f := range fields {
		byKey[f.key] = f
	}
	chosen := map[string]choice{}
	var order []string
	for _, e := range n.entries {
		if slices.Contains(extra, e.key) {
			continue
		}
		f, ok := byKey[e.key]
		var unit time.Duration
		if !ok {
			if stem, u, has := splitUnit(e.key); has {
				if g, found := byKey[stem]; found && g.units {
					f, unit, ok = g, u, true
				}
			}
		}
		if !ok {
			d.unknownKey(e, path, what, keysOf(v.Type(), extra))
			continue
		}
		if e.val.kind == nullNode {
			continue
		}
		if _, seen := chosen[f.key]; !seen {
			order = append(order, f.key)
		}
		d.pick(chosen, f.key, e, unit, path)
	}
	for _, key := range order {
		c, ok := chosen[key]
		if !ok {
			continue
		}
		f := byKey[key]
		p := join(path, key)
		d.mark(p, c.e)
		fv := v.Field(f.index)
		switch {
		case f.hook != nil:
			f.hook(d, c.e.val, p, fv)
		case fv.Type() == durationType:
			if x, ok := d.duration(c.e, key, c.unit, path); ok {
				fv.SetInt(int64(x))
			}
		case fv.Type() == distType:
			if x, ok := d.dist(c.e, key, c.unit, path); ok {
				fv.Set(reflect.ValueOf(x))
			}
		default:
			d.value(c.e.val, p, fv)
		}
	}
}

// unknownKey reports a key that is not one of valid, suggesting the nearest one.
func (d *decoder) unknownKey(e *entry, path, what string, valid []string) {
	msg := fmt.Sprintf("unknown key %q for %s", e.key, what)
	if s := suggest(e.key, valid); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	msg += "; valid keys: " + strings.Join(valid, ", ")
	d.failAt(e.src, e.line, join(path, e.key), "%s", msg)
}

// suggest returns the valid key nearest to key, or "": a small edit distance, the same key
// with a unit suffix ("rate" → "rate_rps"), or a unit suffix on a key that takes none.
func suggest(key string, valid []string) string {
	best, bestD := "", 3
	for _, v := range valid {
		if strings.HasPrefix(v, key+"_") || strings.HasPrefix(key, v+"_") {
			return v
		}
		if dist := editDistance(key, v); dist < bestD && dist < max(len(v), len(key)) {
			best, bestD = v, dist
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// value decodes a node into v by v's type.
func (d *decoder) value(n *node, path string, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		s, ok := n.scalar()
		if !ok {
			d.fail(n, path, "expected a name or text, got %s", describe(n))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		if b, ok := d.boolean(n, path); ok {
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x, ok := d.integer(n, path); ok {
			if v.OverflowInt(x) {
				d.fail(n, path, "%d is out of range", x)
				return
			}
			v.SetInt(x)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if x, ok := d.integer(n, path); ok {
			if x < 0 || v.OverflowUint(uint64(x)) {
				d.fail(n, path, "must be a whole number >= 0 in range, got %d", x)
				return
			}
			v.SetUint(uint64(x))
		}
	case reflect.Pointer:
		// An optional value: nil when the key is absent.
		p := reflect.New(v.Type().Elem())
		d.value(n, path, p.Elem())
		v.Set(p)
	case reflect.Float32, reflect.Float64:
		if x, ok := d.number(n, path); ok {
			v.SetFloat(x)
		}
	case reflect.Struct:
		d.structure(n, path, path, v)
	case reflect.Slice:
		if n.kind != seqNode {
			d.fail(n, path, "expected a list, got %s", describe(n))
			return
		}
		out := reflect.MakeSlice(v.Type(), len(n.items), len(n.items))
		for i, item := range n.items {
			p := index(path, i)
			d.pos[p] = Pos{File: item.src.name, Line: item.line}
			if item.kind == nullNode {
				d.fail(item, p, "empty list item")
				continue
			}
			d.value(item, p, out.Index(i))
		}
		v.Set(out)
	default:
		d.fail(n, path, "internal error: no decoder for %s", v.Type())
	}
}

func (d *decoder) boolean(n *node, path string) (bool, bool) {
	if n.kind == scalarNode && n.y.ShortTag() == "!!bool" {
		var b bool
		if err := n.y.Decode(&b); err == nil {
			return b, true
		}
	}
	d.fail(n, path, "expected true or false, got %s", describe(n))
	return false, false
}

// number decodes a finite number.
func (d *decoder) number(n *node, path string) (float64, bool) {
	if n.kind == scalarNode {
		switch n.y.ShortTag() {
		case "!!int", "!!float":
			var f float64
			if err := n.y.Decode(&f); err == nil {
				if math.IsNaN(f) || math.IsInf(f, 0) {
					d.fail(n, path, "must be a finite number, got %s", describe(n))
					return 0, false
				}
				return f, true
			}
		}
	}
	d.fail(n, path, "expected a number, got %s", describe(n))
	return 0, false
}

// integer decodes a whole number; 8e6 is accepted as 8000000.
func (d *decoder) integer(n *node, path string) (int64, bool) {
	if n.kind == scalarNode {
		switch n.y.ShortTag() {
		case "!!int":
			var x int64
			if err := n.y.Decode(&x); err == nil {
				return x, true
			}
			d.fail(n, path, "%s is out of range", describe(n))
			return 0, false
		case "!!float":
			var f float64
			if err := n.y.Decode(&f); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				return int64(f), true
			}
			d.fail(n, path, "expected a whole number, got %s", describe(n))
			return 0, false
		}
	}
	d.fail(n, path, "expected a whole number, got %s", describe(n))
	return 0, false
}

// duration decodes the value of key (stem plus unit) in the mapping at path.
func (d *decoder) duration(e *entry, stem string, unit time.Duration, path string) (time.Duration, bool) {
	n, key := e.val, join(path, e.key)
	if n.kind != scalarNode {
		d.fail(n, key, "expected a duration like 30s, got %s", describe(n))
		return 0, false
	}
	tag := n.y.ShortTag()
	numeric := tag == "!!int" || tag == "!!float"
	var x time.Duration
	switch {
	case unit == 0 && numeric:
		f, ok := d.number(n, key)
		if !ok {
			return 0, false
		}
		if f != 0 {
			d.fail(n, key, "needs a unit: %s: %ss, or %s_s: %s", stem, n.y.Value, stem, n.y.Value)
			return 0, false
		}
	case unit == 0:
		v, err := parseDuration(n.y.Value)
		if err != nil {
			d.fail(n, key, "expected a duration like 30s, 250ms or 1.5h, got %s", describe(n))
			return 0, false
		}
		x = v
	case numeric:
		f, ok := d.number(n, key)
		if !ok {
			return 0, false
		}
		v, err := scaleDuration(f, unit)
		if err != nil {
			d.fail(n, key, "%v", err)
			return 0, false
		}
		x = v
	default:
		d.fail(n, key, "expected a number of %s, got %s (a duration string goes under %s)", unitWord(unit), describe(n), stem)
		return 0, false
	}
	if x < 0 {
		d.fail(n, key, "must not be negative, got %s", describe(n))
		return 0, false
	}
	return x, true
}

func unitWord(u time.Duration) string {
	switch u {
	case time.Microsecond:
		return "microseconds"
	case time.Millisecond:
		return "milliseconds"
	case time.Second:
		return "seconds"
	case time.Minute:
		return "minutes"
	case time.Hour:
		return "hours"
	}
	return unitName(u)
}

// decodeQueueCapacity reads a pool's "queue: unbounded | none | N".
func decodeQueueCapacity(d *decoder, n *node, path string, v reflect.Value) {
	s, _ := n.scalar()
	switch s {
	case "unbounded":
		v.SetInt(QueueUnbounded)
		return
	case "none":
		v.SetInt(QueueNone)
		return
	}
	if n.kind == scalarNode && n.y.ShortTag() == "!!int" {
		if x, ok := d.integer(n, path); ok && x >= 0 && x <= math.MaxInt32 {
			v.SetInt(x)
			return
		}
	}
	d.fail(n, path, "expected unbounded, none, or a number of waiting places >= 0, got %s", describe(n))
}

// decodeMix reads "mix: {state: {pending: 0.5, approved: 0.5}}", keeping file order.
func decodeMix(d *decoder, n *node, path string, v reflect.Value) {
	if n.kind != mapNode {
		d.fail(n, path, "expected a mapping of attributes to {value: probability}, got %s", describe(n))
		return
	}
	var out []Attribute
	for _, e := range n.entries {
		p := join(path, e.key)
		d.mark(p, e)
		if e.val.kind != mapNode {
			d.failAt(e.src, e.line, p, "expected a mapping of values to probabilities, e.g. {%s: {a: 0.5, b: 0.5}}, got %s", e.key, describe(e.val))
			continue
		}
		a := Attribute{Name: e.key}
		for _, ve := range e.val.entries {
			vp := join(p, ve.key)
			d.mark(vp, ve)
			if ve.val.kind == nullNode {
				continue
			}
			f, ok := d.number(ve.val, vp)
			if !ok {
				continue
			}
			a.Values = append(a.Values, WeightedValue{Value: ve.key, P: f})
		}
		out = append(out, a)
	}
	v.Set(reflect.ValueOf(out))
}

// decodeFilter reads an SNS filter policy: {attr: [v1, v2]}, {attr: v} or {attr: {exists: true}}.
func decodeFilter(d *decoder, n *node, path string, v reflect.Value) {
	if n.kind != mapNode {
		d.fail(n, path, "expected a mapping of attributes to values, e.g. {state: [pending]}, got %s", describe(n))
		return
	}
	var out []FilterCond
	for _, e := range n.entries {
		p := join(path, e.key)
		d.mark(p, e)
		c := FilterCond{Attribute: e.key}
		switch e.val.kind {
		case scalarNode:
			c.AnyOf = []string{e.val.y.Value}
		case seqNode:
			for i, item := range e.val.items {
				s, ok := item.scalar()
				if !ok {
					d.fail(item, index(p, i), "expected a value, got %s", describe(item))
					continue
				}
				c.AnyOf = append(c.AnyOf, s)
			}
			if len(e.val.items) == 0 {
				d.failAt(e.src, e.line, p, "an empty list matches nothing; list the values to match")
			}
		case mapNode:
			for _, ce := range e.val.entries {
				cp := join(p, ce.key)
				if ce.key != "exists" {
					d.unknownKey(ce, p, "a filter condition", []string{"exists"})
					continue
				}
				d.mark(cp, ce)
				if b, ok := d.boolean(ce.val, cp); ok {
					c.Exists = &b
				}
			}
			if c.Exists == nil {
				d.failAt(e.src, e.line, p, "expected a list of values or {exists: true|false}")
			}
		default:
			d.failAt(e.src, e.line, p, "expected a list of values or {exists: true|false}, got nothing")
		}
		out = append(out, c)
	}
	v.Set(reflect.ValueOf(out))
}
