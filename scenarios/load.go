package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed bundled/*.yaml
var bundledFS embed.FS

// Option configures Load.
type Option func(*loader)

// WithSets applies --set overrides ("components.workers.concurrency=37"), in order, over
// the scenario and everything it extends.
func WithSets(sets []string) Option {
	return func(l *loader) { l.sets = append(l.sets, sets...) }
}

// WithFS reads scenario files (the ref given to Load and the files they extend) from fsys
// instead of the operating system's file system. Paths are slash-separated and relative
// to fsys's root.
func WithFS(fsys fs.FS) Option {
	return func(l *loader) { l.fsys = fsys }
}

type loader struct {
	sets []string
	fsys fs.FS
}

// maxExtends bounds a chain of extends.
const maxExtends = 32

// Info describes a bundled scenario.
type Info struct {
	Name        string
	Description string // the first line of the scenario's description
}

// Bundled lists the scenarios embedded in the binary, by name.
func Bundled() []Info {
	var out []Info
	for _, name := range bundledNames() {
		data, _ := bundledFS.ReadFile("bundled/" + name + ".yaml")
		var head struct {
			Description string `yaml:"description"`
		}
		_ = yaml.Unmarshal(data, &head)
		first, _, _ := strings.Cut(strings.TrimSpace(head.Description), "\n")
		out = append(out, Info{Name: name, Description: first})
	}
	return out
}

func bundledNames() []string {
	entries, _ := bundledFS.ReadDir("bundled")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// isBundled reports whether ref names a bundled scenario rather than a file: a bare name
// (no separator, no .yaml) that is bundled. A file of the same name is reached as ./name.
func isBundled(ref string) bool {
	if strings.ContainsAny(ref, `/\`) || strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml") {
		return false
	}
	return slices.Contains(bundledNames(), ref)
}

// Load reads a scenario — a bundled name ("baseline", "mmc") or a file path — resolves its
// extends, applies the --set overrides and the defaults of defaults.yaml, decodes and
// validates it. Errors are *Error (or ErrorList for several), naming file, line and key.
func Load(ref string, opts ...Option) (*Scenario, error) {
	l := &loader{}
	for _, o := range opts {
		o(l)
	}
	if strings.TrimSpace(ref) == "" {
		return nil, &Error{Msg: fmt.Sprintf("no scenario given: a bundled name (%s) or a file", strings.Join(bundledNames(), ", "))}
	}
	tree, id, err := l.resolve(ref, nil, nil)
	if err != nil {
		return nil, err
	}
	top := tree.src.name
	for i, expr := range l.sets {
		if e := applySet(tree, expr, setLayer+i); e != nil {
			return nil, e
		}
	}
	stripNulls(tree, "")
	defs, err := parseYAML(&source{name: defaultsFile, layer: defaultsLayer}, defaultsYAML)
	if err != nil {
		return nil, fmt.Errorf("built-in defaults: %w", err)
	}
	tree = applyDefaults(tree, defs)

	d := newDecoder()
	s := &Scenario{Source: id}
	if tree.kind != mapNode {
		d.fail(tree, "", "a scenario is a mapping of keys (name, horizon, workload, components, ...), got %s", describe(tree))
		return nil, d.err()
	}
	d.structure(tree, "", "a scenario", reflect.ValueOf(s).Elem())
	if err := d.err(); err != nil {
		return nil, err
	}
	if s.Name == "" {
		s.Name = nameOf(id)
	}
	v := &validator{pos: d.pos, s: s, runtimes: runtimesIn(defs), root: Pos{File: top, Line: 1}}
	if len(s.Regions) == 0 {
		v.fail("regions", "a scenario needs at least one region (or no regions key, for the default region)")
		return nil, v.err()
	}
	v.scenario()
	if err := v.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// nameOf derives a scenario name from its source: the bundled name or the file's stem.
func nameOf(id string) string {
	if n, ok := strings.CutPrefix(id, "bundled:"); ok {
		return n
	}
	base := filepath.Base(id)
	return strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
}

// resolve reads ref (relative to the file that extends it, if any) and everything it
// extends, and returns the merged tree and ref's identity ("bundled:NAME" or a path).
// chain holds the identities on the way here, to detect a cycle.
func (l *loader) resolve(ref string, from *entry, chain []string) (*node, string, error) {
	var (
		id, display string
		data        []byte
		err         error
	)
	fromID := ""
	if len(chain) > 0 {
		fromID = chain[len(chain)-1]
	}
	switch {
	case isBundled(ref):
		id, display = "bundled:"+ref, ref+".yaml"
		data, err = bundledFS.ReadFile("bundled/" + ref + ".yaml")
	case strings.HasPrefix(fromID, "bundled:"):
		return nil, "", l.refError(from, fmt.Sprintf("no bundled scenario named %q (bundled: %s); a bundled scenario extends only bundled ones", ref, strings.Join(bundledNames(), ", ")))
	default:
		id = l.join(fromID, ref)
		display = id
		data, err = l.read(id)
		if err != nil {
			msg := fmt.Sprintf("cannot read %s: %v", id, unwrapPathError(err))
			if from == nil && !strings.ContainsAny(ref, `/\`) && !strings.HasSuffix(ref, ".yaml") && !strings.HasSuffix(ref, ".yml") {
				msg = fmt.Sprintf("no bundled scenario or file named %q (bundled: %s)", ref, strings.Join(bundledNames(), ", "))
			}
			return nil, "", l.refError(from, msg)
		}
	}
	if err != nil {
		return nil, "", l.refError(from, fmt.Sprintf("cannot read %s: %v", display, err))
	}
	if i := slices.Index(chain, id); i >= 0 {
		loop := append(slices.Clone(chain[i:]), id)
		for j := range loop {
			loop[j] = strings.TrimPrefix(loop[j], "bundled:")
		}
		return nil, "", l.refError(from, "extends cycle: "+strings.Join(loop, " → "))
	}
	if len(chain) >= maxExtends {
		return nil, "", l.refError(from, fmt.Sprintf("extends chain longer than %d", maxExtends))
	}
	chain = append(chain, id)

	src := &source{name: display, layer: fileLayer - len(chain)}
	tree, err := parseYAML(src, data)
	if err != nil {
		return nil, "", err
	}
	if tree.kind == nullNode {
		return nil, "", &Error{File: display, Line: 1, Msg: "empty scenario: it needs at least workload and components"}
	}
	if tree.kind != mapNode {
		return nil, "", &Error{File: display, Line: tree.line, Msg: fmt.Sprintf("a scenario is a mapping of keys (name, horizon, workload, components, ...), got %s", describe(tree))}
	}
	var ext *entry
	for _, e := range tree.entries {
		if e.key == "extends" {
			ext = e
		}
	}
	if ext == nil || ext.val.kind == nullNode {
		return tree, id, nil
	}
	parentRef, ok := ext.val.scalar()
	if !ok || parentRef == "" {
		return nil, "", &Error{File: display, Line: ext.line, Key: "extends", Msg: fmt.Sprintf("expected the name of a bundled scenario or a file path, got %s", describe(ext.val))}
	}
	base, _, err := l.resolve(parentRef, ext, chain)
	if err != nil {
		return nil, "", err
	}
	// A name and a description belong to the file that writes them, not to its variants.
	base.delete("name")
	base.delete("description")
	// Claims are statements about one scenario: a variant makes its own.
	base.delete("claims")
	return merge(base, tree), id, nil
}

// refError places a problem with a reference: at the extends key that made it, or
// without a place for the scenario named on the command line.
func (l *loader) refError(from *entry, msg string) error {
	if from == nil {
		return &Error{Msg: msg}
	}
	return &Error{File: from.src.name, Line: from.line, Key: "extends", Msg: msg}
}

// join resolves ref against the directory of the file fromID ("" for the command line).
func (l *loader) join(fromID, ref string) string {
	if l.fsys != nil {
		if fromID != "" && !path.IsAbs(ref) {
			ref = path.Join(path.Dir(fromID), ref)
		}
		return path.Clean(ref)
	}
	if fromID != "" && !filepath.IsAbs(ref) {
		ref = filepath.Join(filepath.Dir(fromID), ref)
	}
	return filepath.Clean(ref)
}

func (l *loader) read(p string) ([]byte, error) {
	if l.fsys != nil {
		if !fs.ValidPath(p) {
			return nil, fmt.Errorf("not a valid path in the scenario file system")
		}
		return fs.ReadFile(l.fsys, p)
	}
	return os.ReadFile(p)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
