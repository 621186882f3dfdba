package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// The loader works on its own small tree rather than on yaml.Node so that every node
// remembers which file it came from and how strongly it binds (its layer): extends,
// defaults and --set overrides are merged as trees, and an error found after merging still
// points at the file and line that wrote the offending value.

type nodeKind uint8

const (
	nullNode nodeKind = iota
	scalarNode
	mapNode
	seqNode
)

// source is one input of a load: a scenario file, defaults.yaml or one --set override.
type source struct {
	name  string // as shown in errors
	layer int    // higher wins when two unit spellings of one key meet
}

// Layers: defaults lie under every file; a file lies under the file that extends it
// (fileLayer − depth); --set overrides lie over everything, the later over the earlier.
const (
	defaultsLayer = 0
	fileLayer     = 1000
	setLayer      = 2000
)

type node struct {
	kind    nodeKind
	src     *source
	line    int
	y       *yaml.Node // scalar: the parsed scalar, for typed decoding
	entries []*entry   // mapNode, in file order
	items   []*node    // seqNode
}

// entry is one key of a mapping; line is the line of the key.
type entry struct {
	key  string
	line int
	src  *source
	val  *node
}

// get returns the value under key, or nil.
func (n *node) get(key string) *node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	for _, e := range n.entries {
		if e.key == key {
			return e.val
		}
	}
	return nil
}

// scalar returns the text of a scalar node, or "" and false.
func (n *node) scalar() (string, bool) {
	if n == nil || n.kind != scalarNode {
		return "", false
	}
	return n.y.Value, true
}

// set replaces or appends the entry for key.
func (n *node) set(key string, line int, src *source, val *node) {
	for _, e := range n.entries {
		if e.key == key {
			e.line, e.src, e.val = line, src, val
			return
		}
	}
	n.entries = append(n.entries, &entry{key: key, line: line, src: src, val: val})
}

// delete removes the entry for key.
func (n *node) delete(key string) {
	for i, e := range n.entries {
		if e.key == key {
			n.entries = append(n.entries[:i:i], n.entries[i+1:]...)
			return
		}
	}
}

// Limits that keep hostile input (alias bombs, deep nesting) from exhausting the machine.
const (
	maxNodes = 200_000
	maxDepth = 64
)

var yamlLine = regexp.MustCompile(`(?:yaml: )?line (\d+)`)

// parseYAML parses one YAML document into a tree owned by src.
func parseYAML(src *source, data []byte) (n *node, err error) {
	defer func() {
		// yaml.v3 is not known to panic on any input, but the loader promises never to.
		if r := recover(); r != nil {
			n, err = nil, &Error{File: src.name, Msg: fmt.Sprintf("not valid YAML (%v)", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &node{kind: nullNode, src: src, line: 1}, nil
		}
		return nil, yamlError(src, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: src.name, Line: extra.Line, Msg: "more than one YAML document; a scenario is one document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(src, err)
	}
	c := converter{src: src}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return &node{kind: nullNode, src: src, line: 1}, nil
		}
		root = root.Content[0]
	}
	n = c.convert(root, 0)
	if c.err != nil {
		return nil, c.err
	}
	return n, nil
}

func yamlError(src *source, err error) *Error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = strings.TrimPrefix(msg[m[1]:], ":")
	}
	msg = strings.TrimSpace(strings.TrimPrefix(msg, "yaml:"))
	return &Error{File: src.name, Line: line, Msg: "not valid YAML: " + msg}
}

// converter turns a yaml.Node tree into a node tree, expanding aliases and merge keys
// ("<<: *base") so that later stages never meet them.
type converter struct {
	src   *source
	count int
	err   *Error
}

func (c *converter) fail(line int, msg string) *node {
	if c.err == nil {
		c.err = &Error{File: c.src.name, Line: line, Msg: msg}
	}
	return &node{kind: nullNode, src: c.src, line: line}
}

func (c *converter) convert(y *yaml.Node, depth int) *node {
	if c.err != nil {
		return &node{kind: nullNode, src: c.src}
	}
	c.count++
	if c.count > maxNodes {
		return c.fail(y.Line, fmt.Sprintf("document too large: more than %d values after expanding aliases", maxNodes))
	}
	if depth > maxDepth {
		return c.fail(y.Line, fmt.Sprintf("nested more than %d levels deep (an alias that contains itself?)", maxDepth))
	}
	switch y.Kind {
	case yaml.AliasNode:
		if y.Alias == nil {
			return c.fail(y.Line, "alias to an unknown anchor")
		}
		return c.convert(y.Alias, depth+1)
	case yaml.ScalarNode:
		if y.ShortTag() == "!!null" {
			return &node{kind: nullNode, src: c.src, line: y.Line}
		}
		return &node{kind: scalarNode, src: c.src, line: y.Line, y: y}
	case yaml.SequenceNode:
		n := &node{kind: seqNode, src: c.src, line: y.Line}
		for _, item := range y.Content {
			n.items = append(n.items, c.convert(item, depth+1))
		}
		return n
	case yaml.MappingNode:
		return c.mapping(y, depth)
	case yaml.DocumentNode:
		return c.fail(y.Line, "nested YAML document")
	}
	return c.fail(y.Line, "unsupported YAML node")
}

func (c *converter) mapping(y *yaml.Node, depth int) *node {
	n := &node{kind: mapNode, src: c.src, line: y.Line}
	seen := map[string]int{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(y.Content); i += 2 {
		k, v := y.Content[i], y.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return c.fail(k.Line, "a key must be a plain name, not a list or a mapping")
		}
		if first, dup := seen[k.Value]; dup {
			return c.fail(k.Line, fmt.Sprintf("key %q given twice (first on line %d)", k.Value, first))
		}
		seen[k.Value] = k.Line
		n.entries = append(n.entries, &entry{key: k.Value, line: k.Line, src: c.src, val: c.convert(v, depth+1)})
	}
	// Merge keys: the mapping's own keys win, then earlier merged mappings over later ones.
	for _, m := range merges {
		var parts []*node
		switch mv := c.convert(m, depth+1); mv.kind {
		case mapNode:
			parts = []*node{mv}
		case seqNode:
			parts = mv.items
		default:
			return c.fail(m.Line, "<< must merge a mapping or a list of mappings")
		}
		for _, p := range parts {
			if p.kind != mapNode {
				return c.fail(m.Line, "<< must merge a mapping or a list of mappings")
			}
			for _, e := range p.entries {
				if _, ok := seen[e.key]; !ok {
					seen[e.key] = e.line
					n.entries = append(n.entries, e)
				}
			}
		}
	}
	return n
}

// Discriminator keys: when an override names another kind of component or another
// distribution family, it replaces the mapping instead of merging into it, so that keys of
// the old kind do not leak into the new one. A distribution given whole — its family
// named, even the same one — replaces the inherited one too: a lognormal written as mean
// and sigma over one written as median and p99 would otherwise inherit two parameters of
// the other form and be refused. Changing one parameter is done by giving that key alone.
var discriminators = []string{"kind", "dist"}

// merge lays over on top of base and returns the result; neither input is modified.
// Mappings merge key by key (base order first, new keys after, in over's order); a null
// value removes the key; anything else in over replaces what base had.
func merge(base, over *node) *node {
	if over == nil {
		return base
	}
	if base == nil || base.kind != mapNode || over.kind != mapNode {
		return over
	}
	for _, k := range discriminators {
		b, bok := base.get(k).scalar()
		o, ook := over.get(k).scalar()
		if bok && ook && (b != o || k == "dist") {
			return over
		}
	}
	out := &node{kind: mapNode, src: over.src, line: over.line}
	out.entries = make([]*entry, 0, len(base.entries)+len(over.entries))
	for _, e := range base.entries {
		cp := *e
		out.entries = append(out.entries, &cp)
	}
	for _, e := range over.entries {
		if e.val.kind == nullNode {
			out.delete(e.key)
			continue
		}
		if b := out.get(e.key); b != nil {
			out.set(e.key, e.line, e.src, merge(b, e.val))
			continue
		}
		cp := *e
		out.entries = append(out.entries, &cp)
	}
	return out
}

// stripNulls removes the keys whose value is null, so that "key: ~" means the same in a
// lone file as in one that extends another: the key is not given, and its default applies.
// A region given as null is kept (as an empty mapping): "us-east-1: ~" names a region with
// every quota from the defaults.
func stripNulls(n *node, path string) {
	if n.kind == seqNode {
		for _, item := range n.items {
			stripNulls(item, path)
		}
		return
	}
	if n.kind != mapNode {
		return
	}
	kept := n.entries[:0:0]
	for _, e := range n.entries {
		if e.val.kind == nullNode {
			if path == "regions" {
				e.val = &node{kind: mapNode, src: e.src, line: e.line}
				kept = append(kept, e)
			}
			continue
		}
		stripNulls(e.val, join(path, e.key))
		kept = append(kept, e)
	}
	n.entries = kept
}
