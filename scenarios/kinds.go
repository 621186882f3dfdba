package scenarios

import (
	"reflect"
	"regexp"
	"strings"
)

// kindSpec is everything the loader knows about one component kind. Adding a kind is a
// type and a pointer on Component (scenario.go), an entry here, its defaults in
// defaults.yaml, and a section in FORMAT.md; the decoder finds its keys by reflection.
type kindSpec struct {
	kind Kind
	// attach allocates the kind's struct on c and returns it, addressable, for decoding.
	attach func(c *Component) reflect.Value
	// next lists the kinds this kind's next may name; nil means it takes no next.
	next []Kind
	// nextHint says how a kind that takes no next passes work on, and how it is reached
	// (it is no component's next either: it takes no synchronous requests).
	nextHint string
	// validate checks the kind's own values (the graph is checked for every kind alike).
	validate func(v *validator, c *Component)
}

var kindSpecs []kindSpec

func init() {
	kindSpecs = []kindSpec{
		{
			kind:     KindPool,
			attach:   func(c *Component) reflect.Value { c.Pool = new(Pool); return reflect.ValueOf(c.Pool).Elem() },
			next:     []Kind{KindPool, KindGateway, KindFunction, KindQueue, KindDeployment},
			validate: validatePool,
		},
		{
			kind:     KindGateway,
			attach:   func(c *Component) reflect.Value { c.Gateway = new(Gateway); return reflect.ValueOf(c.Gateway).Elem() },
			next:     []Kind{KindFunction, KindPool, KindQueue, KindDeployment},
			validate: validateGateway,
		},
		{
			kind: KindFunction,
			attach: func(c *Component) reflect.Value {
				c.Function = new(Function)
				return reflect.ValueOf(c.Function).Elem()
			},
			next:     []Kind{KindFunction, KindPool, KindQueue},
			validate: validateFunction,
		},
		{
			kind:     KindTable,
			attach:   func(c *Component) reflect.Value { c.Table = new(Table); return reflect.ValueOf(c.Table).Elem() },
			nextHint: "a function reaches a table through calls: [{to: TABLE, op: write}]",
			validate: validateTable,
		},
		{
			kind:     KindTopic,
			attach:   func(c *Component) reflect.Value { c.Topic = new(Topic); return reflect.ValueOf(c.Topic).Elem() },
			nextHint: "a function publishes to a topic through calls: [{to: TOPIC}], and a topic delivers through routes: [{to: QUEUE, filter: {...}}]",
			validate: validateTopic,
		},
		{
			kind:     KindQueue,
			attach:   func(c *Component) reflect.Value { c.Queue = new(Queue); return reflect.ValueOf(c.Queue).Elem() },
			next:     []Kind{KindFunction, KindDeployment},
			validate: validateQueue,
		},
		{
			kind: KindLoadBalancer,
			attach: func(c *Component) reflect.Value {
				c.LoadBalancer = new(LoadBalancer)
				return reflect.ValueOf(c.LoadBalancer).Elem()
			},
			next:     []Kind{KindVMTier},
			validate: validateLoadBalancer,
		},
		{
			kind:     KindVMTier,
			attach:   func(c *Component) reflect.Value { c.VMTier = new(VMTier); return reflect.ValueOf(c.VMTier).Elem() },
			next:     []Kind{KindVMTier, KindCache, KindDatabase},
			validate: validateVMTier,
		},
		{
			kind:     KindCache,
			attach:   func(c *Component) reflect.Value { c.Cache = new(Cache); return reflect.ValueOf(c.Cache).Elem() },
			nextHint: "a vmtier reaches a cache through next, and the cache reaches its database through database:",
			validate: validateCache,
		},
		{
			kind: KindDatabase,
			attach: func(c *Component) reflect.Value {
				c.Database = new(Database)
				return reflect.ValueOf(c.Database).Elem()
			},
			nextHint: "a vmtier reaches a database through next, or a cache through database:",
			validate: validateDatabase,
		},
		{
			kind: KindDeployment,
			attach: func(c *Component) reflect.Value {
				c.Deployment = new(Deployment)
				return reflect.ValueOf(c.Deployment).Elem()
			},
			next:     []Kind{KindFunction, KindPool, KindQueue, KindDeployment},
			validate: validateDeployment,
		},
		{
			kind:     KindRouter,
			attach:   func(c *Component) reflect.Value { c.Router = new(Router); return reflect.ValueOf(c.Router).Elem() },
			nextHint: "a router is the workload's entry (DNS in front of the regions) and passes requests on through routes: [{to: API, weight: 1}, ...]",
			validate: validateRouter,
		},
	}
}

func lookupKind(k string) *kindSpec {
	for i := range kindSpecs {
		if string(kindSpecs[i].kind) == k {
			return &kindSpecs[i]
		}
	}
	return nil
}

func kindNames() string {
	var ks []string
	for _, s := range kindSpecs {
		ks = append(ks, string(s.kind))
	}
	return strings.Join(ks, ", ")
}

// Call operations per target kind; the first is the default when op is omitted.
var callOps = map[Kind][]string{
	KindTable: {"write", "read"},
	KindTopic: {"publish"},
}

// Names of components and regions appear in dotted keys (--set components.NAME.key=v) and
// in results, so they are plain words.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)

const nameRule = "names are letters, digits, _ and - (at most 128), starting with a letter or digit"

// decodeComponents reads the components mapping, keeping file order.
func decodeComponents(d *decoder, n *node, path string, v reflect.Value) {
	if n.kind != mapNode {
		d.fail(n, path, "expected a mapping of component names to components, got %s", describe(n))
		return
	}
	var out []*Component
	for _, e := range n.entries {
		p := join(path, e.key)
		d.mark(p, e)
		if !nameRE.MatchString(e.key) {
			d.failAt(e.src, e.line, p, "bad component name %q: %s", e.key, nameRule)
			continue
		}
		if e.val.kind != mapNode {
			d.failAt(e.src, e.line, p, "expected the component's keys (kind: %s ...), got %s", kindNames(), describe(e.val))
			continue
		}
		c := &Component{Name: e.key, Pos: Pos{File: e.src.name, Line: e.line}}
		kn := e.val.get("kind")
		ks, ok := kn.scalar()
		if !ok {
			d.failAt(e.src, e.line, join(p, "kind"), "missing kind: one of %s", kindNames())
			continue
		}
		spec := lookupKind(ks)
		if spec == nil {
			d.fail(kn, join(p, "kind"), "unknown kind %q; one of %s", ks, kindNames())
			continue
		}
		c.Kind = spec.kind
		for _, ce := range e.val.entries {
			switch ce.key {
			case "kind", "region", "next":
				d.mark(join(p, ce.key), ce)
			}
		}
		for _, k := range []struct {
			key string
			dst *string
		}{{"region", &c.Region}, {"next", &c.Next}} {
			if x := e.val.get(k.key); x != nil && x.kind != nullNode {
				d.value(x, join(p, k.key), reflect.ValueOf(k.dst).Elem())
			}
		}
		d.structure(e.val, p, "a "+ks, spec.attach(c), "kind", "region", "next")
		out = append(out, c)
	}
	v.Set(reflect.ValueOf(out))
}

// decodeRegions reads the regions mapping (name → quotas), keeping file order.
func decodeRegions(d *decoder, n *node, path string, v reflect.Value) {
	if n.kind != mapNode {
		d.fail(n, path, "expected a mapping of region names to quotas, got %s", describe(n))
		return
	}
	var out []*Region
	for _, e := range n.entries {
		p := join(path, e.key)
		d.mark(p, e)
		if !nameRE.MatchString(e.key) {
			d.failAt(e.src, e.line, p, "bad region name %q: %s", e.key, nameRule)
			continue
		}
		r := &Region{Name: e.key}
		if e.val.kind != nullNode {
			d.structure(e.val, p, "a region", reflect.ValueOf(r).Elem())
		}
		out = append(out, r)
	}
	v.Set(reflect.ValueOf(out))
}
