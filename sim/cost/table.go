package cost

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/headroom/headroom/scenarios"
)

//go:embed prices.yaml
var bundledYAML []byte

// BundledName is how errors and results name the embedded price table.
const BundledName = "prices.yaml"

// Table is a price table: every price the cost model knows, keyed as components report
// their usage.
type Table struct {
	// AsOf is the date the prices were collected (YYYY-MM-DD).
	AsOf     string
	Currency string
	// Region is the region the prices are for (informational: one table prices every
	// region of a scenario).
	Region string
	// HoursPerMonth is the month monthly figures extrapolate to.
	HoursPerMonth float64
	// Source is "bundled:prices.yaml" or the path of the user's file.
	Source  string
	entries []Entry
}

// Entry is one price.
type Entry struct {
	Key     string
	Service string
	Unit    string
	// Per is how many units a tier's USD buys (1,000,000 for "per million requests").
	Per float64
	// Tiers by monthly volume; a flat price is one tier with no bound.
	Tiers  []Tier
	Source string
	// Line is where the entry is written in its file.
	Line int
}

// Tier is one volume tier: USD per Per units for the monthly quantity up to UpTo units
// (cumulative; 0 on the last tier means no bound).
type Tier struct {
	UpTo float64
	USD  float64
}

var (
	defaultOnce  sync.Once
	defaultTable *Table
)

// Default returns the embedded price table. It is parsed once; a test keeps it valid.
func Default() *Table {
	defaultOnce.Do(func() {
		t, err := Parse(BundledName, bundledYAML)
		if err != nil {
			panic(fmt.Sprintf("the embedded price table is invalid: %v", err))
		}
		t.Source = "bundled:" + BundledName
		defaultTable = t
	})
	return defaultTable
}

// Load reads a price table from a file. Errors are *scenarios.Error (or a
// scenarios.ErrorList), placed at file:line: key.
func Load(path string) (*Table, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &scenarios.Error{File: path, Msg: fmt.Sprintf("cannot read the price table: %v", err)}
	}
	t, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	t.Source = path
	return t, nil
}

// Entry returns the price under key.
func (t *Table) Entry(key string) (Entry, bool) {
	for _, e := range t.entries {
		if e.Key == key {
			return e, true
		}
	}
	return Entry{}, false
}

// Entries lists every price in file order.
func (t *Table) Entries() []Entry { return slices.Clone(t.entries) }

// Cost is the cost of a monthly quantity q under the entry's tiers.
func (e Entry) Cost(q float64) float64 {
	var sum, lo float64
	for _, tier := range e.Tiers {
		hi := tier.UpTo
		if hi == 0 || q < hi {
			hi = q
		}
		if hi > lo {
			sum += (hi - lo) * tier.USD / e.Per
		}
		if tier.UpTo == 0 || q <= tier.UpTo {
			break
		}
		lo = tier.UpTo
	}
	return sum
}

// parser reads the YAML tree and collects every problem.
type parser struct {
	file string
	errs scenarios.ErrorList
}

func (p *parser) fail(n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.errs = append(p.errs, &scenarios.Error{File: p.file, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	switch len(p.errs) {
	case 0:
		return nil
	case 1:
		return p.errs[0]
	}
	return p.errs
}

var (
	keyRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	yamlLn = regexp.MustCompile(`line (\d+)`)
)

// Parse reads a price table; name is how errors name the file.
func Parse(name string, data []byte) (*Table, error) {
	p := &parser{file: name}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &scenarios.Error{File: name, Line: 1, Msg: "empty price table: it needs as_of and prices"}
		}
		line := 0
		if m := yamlLn.FindStringSubmatch(err.Error()); m != nil {
			fmt.Sscan(m[1], &line)
		}
		return nil, &scenarios.Error{File: name, Line: line, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, &scenarios.Error{File: name, Line: root.Line, Msg: "a price table is a mapping (as_of, currency, hours_per_month, prices)"}
	}
	t := &Table{HoursPerMonth: 730, Currency: "USD"}
	var prices *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			p.fail(k, k.Value, "given twice")
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "as_of":
			s, ok := p.text(v, "as_of")
			if ok {
				if _, err := time.Parse("2006-01-02", s); err != nil {
					p.fail(v, "as_of", "expected the date the prices were collected, YYYY-MM-DD, got %q", s)
				}
				t.AsOf = s
			}
		case "currency":
			t.Currency, _ = p.text(v, "currency")
		case "region":
			t.Region, _ = p.text(v, "region")
		case "hours_per_month":
			if x, ok := p.number(v, "hours_per_month"); ok {
				if x <= 0 || x > 744 {
					p.fail(v, "hours_per_month", "must be > 0 and at most 744 (31 days), got %g", x)
				}
				t.HoursPerMonth = x
			}
		case "prices":
			prices = v
		default:
			p.unknown(k, "", "a price table", []string{"as_of", "currency", "region", "hours_per_month", "prices"})
		}
	}
	if !seen["as_of"] {
		p.fail(root, "as_of", "missing as_of: the date the prices were collected (YYYY-MM-DD)")
	}
	if prices == nil {
		p.fail(root, "prices", "missing prices: a mapping of price keys (lambda.requests, ...) to prices")
	} else {
		p.prices(t, prices)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return t, nil
}

func (p *parser) prices(t *Table, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		p.fail(n, "prices", "expected a mapping of price keys to prices")
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := "prices." + k.Value
		if first, dup := seen[k.Value]; dup {
			p.fail(k, path, "given twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		if !keyRE.MatchString(k.Value) {
			p.fail(k, path, "bad price key %q: lower-case letters, digits, '.', '_' and '-'", k.Value)
			continue
		}
		if e, ok := p.entry(k, v, path); ok {
			t.entries = append(t.entries, e)
		}
	}
	if len(t.entries) == 0 && len(p.errs) == 0 {
		p.fail(n, "prices", "no prices")
	}
}

var entryKeys = []string{"service", "unit", "per", "usd", "tiers", "source"}

func (p *parser) entry(k, v *yaml.Node, path string) (Entry, bool) {
	e := Entry{Key: k.Value, Per: 1, Line: k.Line}
	if v.Kind != yaml.MappingNode {
		p.fail(v, path, "expected the price's keys (%s)", strings.Join(entryKeys, ", "))
		return e, false
	}
	before := len(p.errs)
	var usd, tiers *yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		ek, ev := v.Content[i], v.Content[i+1]
		kp := path + "." + ek.Value
		if seen[ek.Value] {
			p.fail(ek, kp, "given twice")
			continue
		}
		seen[ek.Value] = true
		switch ek.Value {
		case "service":
			e.Service, _ = p.text(ev, kp)
		case "unit":
			e.Unit, _ = p.text(ev, kp)
		case "source":
			e.Source, _ = p.text(ev, kp)
		case "per":
			if x, ok := p.number(ev, kp); ok {
				if x <= 0 {
					p.fail(ev, kp, "must be > 0 (how many units the price is for), got %g", x)
				}
				e.Per = x
			}
		case "usd":
			usd = ev
		case "tiers":
			tiers = ev
		default:
			p.unknown(ek, path, "a price", entryKeys)
		}
	}
	for _, req := range []struct {
		key string
		val string
		why string
	}{
		{"service", e.Service, "the service the price belongs to, for the per-service totals"},
		{"unit", e.Unit, "what the quantity counts (requests, GB-s, instance-hours)"},
		{"source", e.Source, "where the price comes from: every price needs one"},
	} {
		if req.val == "" && !seen[req.key] {
			p.fail(k, path+"."+req.key, "missing %s: %s", req.key, req.why)
		} else if req.val == "" {
			p.fail(k, path+"."+req.key, "must not be empty: %s", req.why)
		}
	}
	switch {
	case usd != nil && tiers != nil:
		p.fail(tiers, path+".tiers", "give usd (a flat price) or tiers, not both")
	case usd != nil:
		if x, ok := p.number(usd, path+".usd"); ok {
			if x < 0 {
				p.fail(usd, path+".usd", "must be >= 0, got %g", x)
			}
			e.Tiers = []Tier{{USD: x}}
		}
	case tiers != nil:
		e.Tiers = p.tiers(tiers, path+".tiers")
	default:
		p.fail(k, path+".usd", "missing usd (the price of `per` units) or tiers")
	}
	return e, len(p.errs) == before
}

func (p *parser) tiers(n *yaml.Node, path string) []Tier {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.fail(n, path, "expected a list of tiers: [{up_to: N, usd: X}, ..., {usd: Y}]")
		return nil
	}
	var out []Tier
	prev := 0.0
	for i, item := range n.Content {
		ip := fmt.Sprintf("%s[%d]", path, i)
		last := i == len(n.Content)-1
		if item.Kind != yaml.MappingNode {
			p.fail(item, ip, "expected {up_to: N, usd: X}")
			continue
		}
		var tier Tier
		hasUpTo, hasUSD := false, false
		for j := 0; j+1 < len(item.Content); j += 2 {
			tk, tv := item.Content[j], item.Content[j+1]
			switch tk.Value {
			case "up_to":
				hasUpTo = true
				if x, ok := p.number(tv, ip+".up_to"); ok {
					if x <= prev {
						p.fail(tv, ip+".up_to", "must be above the previous tier's bound (%g), got %g", prev, x)
					}
					tier.UpTo, prev = x, x
				}
			case "usd":
				hasUSD = true
				if x, ok := p.number(tv, ip+".usd"); ok {
					if x < 0 {
						p.fail(tv, ip+".usd", "must be >= 0, got %g", x)
					}
					tier.USD = x
				}
			default:
				p.unknown(tk, ip, "a tier", []string{"up_to", "usd"})
			}
		}
		if !hasUSD {
			p.fail(item, ip+".usd", "missing usd")
		}
		switch {
		case last && hasUpTo:
			p.fail(item, ip+".up_to", "the last tier has no up_to: it prices everything above the previous bound")
		case !last && !hasUpTo:
			p.fail(item, ip+".up_to", "missing up_to: every tier but the last ends at a monthly quantity")
		}
		out = append(out, tier)
	}
	return out
}

func (p *parser) text(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		p.fail(n, key, "expected a text value")
		return "", false
	}
	return n.Value, true
}

func (p *parser) number(n *yaml.Node, key string) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var f float64
		if err := n.Decode(&f); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return f, true
		}
	}
	got := "a mapping or a list"
	if n.Kind == yaml.ScalarNode {
		got = fmt.Sprintf("%q", n.Value)
	}
	p.fail(n, key, "expected a number, got %s", got)
	return 0, false
}

func (p *parser) unknown(k *yaml.Node, path, what string, valid []string) {
	key := k.Value
	if path != "" {
		key = path + "." + k.Value
	}
	msg := fmt.Sprintf("unknown key %q for %s", k.Value, what)
	if s := nearest(k.Value, valid); s != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", s)
	}
	p.fail(k, key, "%s; valid keys: %s", msg, strings.Join(valid, ", "))
}

// nearest returns the valid key within two edits of key, or "".
func nearest(key string, valid []string) string {
	best, bestD := "", 3
	for _, v := range valid {
		if d := editDistance(key, v); d < bestD {
			best, bestD = v, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
