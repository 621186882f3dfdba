package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// A --set override "a.b.c=value" replaces one key of the merged scenario before defaults
// are applied and before anything is decoded, so it is checked exactly like a value
// written in the file. The value is YAML ("37", "none", "30s", "{dist: constant,
// value_ms: 5}"); an empty value removes the key. Mappings are addressed by key
// (components.workers.concurrency), lists by index (components.events.routes.0.to, or
// routes[0].to).

// splitPath splits a dotted path into its segments, turning "routes[0]" into "routes", "0".
func splitPath(path string) ([]string, bool) {
	var out []string
	for _, seg := range strings.Split(path, ".") {
		for {
			i := strings.IndexByte(seg, '[')
			if i < 0 {
				break
			}
			j := strings.IndexByte(seg, ']')
			if j < i || i == 0 && len(out) == 0 {
				return nil, false
			}
			if i > 0 {
				out = append(out, seg[:i])
			}
			out = append(out, seg[i+1:j])
			seg = seg[j+1:]
		}
		if seg != "" {
			out = append(out, seg)
		}
	}
	for _, s := range out {
		if s == "" {
			return nil, false
		}
	}
	return out, len(out) > 0
}

// applySet applies one override to root, which it may modify.
func applySet(root *node, expr string, layer int) *Error {
	src := &source{name: "--set " + expr, layer: layer}
	path, value, ok := strings.Cut(expr, "=")
	path = strings.TrimSpace(path)
	if !ok {
		return &Error{File: src.name, Msg: "expected key=value, e.g. components.workers.concurrency=37"}
	}
	segs, ok := splitPath(path)
	if !ok {
		return &Error{File: src.name, Msg: fmt.Sprintf("bad key %q: dotted names, e.g. workload.rate_rps", path)}
	}
	val, err := parseYAML(src, []byte(value))
	if err != nil {
		e := err.(*Error)
		e.Line, e.Key = 0, path
		return e
	}
	zeroLines(val) // an override has no lines: its place is the --set itself
	if root.kind != mapNode {
		return &Error{File: src.name, Key: path, Msg: "the scenario is not a mapping of keys"}
	}
	cur := root
	for i, seg := range segs {
		last := i == len(segs)-1
		switch cur.kind {
		case mapNode:
			next := cur.get(seg)
			if last {
				if val.kind == nullNode {
					cur.delete(seg)
					return nil
				}
				if slices.Contains(discriminators, seg) {
					// Another kind or family: the mapping's other keys belonged to the old one
					// (as when a file overrides it, see merge). A later --set adds parameters.
					old, had := next.scalar()
					if nv, _ := val.scalar(); had && old != nv {
						cur.entries = cur.entries[:0]
					}
				}
				cur.set(seg, 0, src, val)
				return nil
			}
			if next == nil || next.kind == nullNode {
				if i == 1 && segs[0] == "components" {
					return &Error{File: src.name, Key: path, Msg: fmt.Sprintf("no component named %q%s", seg, nameList(cur, seg))}
				}
				next = &node{kind: mapNode, src: src}
				cur.set(seg, 0, src, next)
			}
			cur = next
		case seqNode:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n > len(cur.items) || (n == len(cur.items) && !last) {
				return &Error{File: src.name, Key: path, Msg: fmt.Sprintf("%s is a list of %d; address an item by its index 0 to %d", strings.Join(segs[:i], "."), len(cur.items), len(cur.items)-1)}
			}
			if last {
				if n == len(cur.items) {
					cur.items = append(cur.items, val)
				} else {
					cur.items[n] = val
				}
				return nil
			}
			cur = cur.items[n]
		default:
			return &Error{File: src.name, Key: path, Msg: fmt.Sprintf("%s is a single value, it has no key %q", strings.Join(segs[:i], "."), seg)}
		}
	}
	return nil
}

// nameList lists the keys of a mapping for "no such name" messages.
func nameList(n *node, missing string) string {
	var names []string
	for _, e := range n.entries {
		names = append(names, e.key)
	}
	s := "; components: " + strings.Join(names, ", ")
	if g := suggest(missing, names); g != "" {
		s = fmt.Sprintf(" (did you mean %s?)", g) + s
	}
	return s
}

func zeroLines(n *node) {
	n.line = 0
	for _, e := range n.entries {
		e.line = 0
		zeroLines(e.val)
	}
	for _, item := range n.items {
		zeroLines(item)
	}
}
