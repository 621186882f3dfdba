package scenarios

import (
	_ "embed"
)

// defaultsYAML holds every default the loader applies: dated, with a source per number.
//
//go:embed defaults.yaml
var defaultsYAML []byte

// defaultsFile is how errors name the data file.
const defaultsFile = "defaults.yaml"

// DefaultRegion is the name of the region a scenario gets when it names none.
const DefaultRegion = "default"

// applyDefaults lays the data file under the scenario tree: the scenario section under the
// top level, region quotas under each region (creating DefaultRegion when there are none),
// the kind's defaults under each component (with its provisioner's or API type's between
// them and the component's own), the runtime's cold start under each function that gives
// no init, and the profile kind's defaults under the profile. The user's values win
// everywhere because the defaults are the base of each merge.
func applyDefaults(top, defs *node) *node {
	if top.kind != mapNode {
		return top
	}
	out := merge(defs.get("scenario"), top)

	regions := out.get("regions")
	if regions == nil {
		regions = &node{kind: mapNode, src: defs.src}
		regions.entries = []*entry{{key: DefaultRegion, src: defs.src, val: &node{kind: mapNode, src: defs.src}}}
		out.set("regions", 0, defs.src, regions)
	}
	if regions.kind == mapNode {
		for _, e := range regions.entries {
			if e.val.kind == nullNode {
				e.val = &node{kind: mapNode, src: e.src, line: e.line}
			}
			base := merge(defs.get("region"), defs.get("regions").get(e.key))
			e.val = merge(base, e.val)
		}
	}

	if types := defs.get("instance_types"); types != nil {
		out.set("instance_types", entryLine(out, "instance_types"), entrySrc(out, "instance_types"), merge(types, out.get("instance_types")))
	}

	if comps := out.get("components"); comps != nil && comps.kind == mapNode {
		for _, e := range comps.entries {
			kind, ok := e.val.get("kind").scalar()
			if !ok {
				continue
			}
			c := merge(defs.get("kinds").get(kind), e.val)
			if sub, ok := subDefaults[Kind(kind)]; ok { // the sub-kind's defaults lie between the kind's and the user's
				v, _ := c.get(sub.key).scalar()
				if sd := defs.get(sub.section).get(v); sd != nil {
					c = merge(merge(defs.get("kinds").get(kind), sd), e.val)
				}
			}
			if Kind(kind) == KindFunction && !hasStem(c, "init") {
				rt, _ := c.get("runtime").scalar()
				if init := defs.get("runtimes").get(rt).get("init"); init != nil {
					if c == e.val { // merge returned the user's own node: copy before adding
						c = merge(&node{kind: mapNode, src: c.src, line: c.line}, c)
					}
					c.set("init", init.line, init.src, init)
				}
			}
			e.val = c
		}
	}

	if w := out.get("workload"); w != nil && w.kind == mapNode {
		if p := w.get("profile"); p != nil {
			if kind, ok := p.get("kind").scalar(); ok {
				w.set("profile", entryLine(w, "profile"), entrySrc(w, "profile"), merge(defs.get("profiles").get(kind), p))
			}
		}
	}
	return out
}

// subDefaults names, per kind, the key that selects further defaults and the section of
// defaults.yaml that holds them: a deployment's provisioner (its delays), a gateway's API
// type (an HTTP API's timeout and overhead).
var subDefaults = map[Kind]struct{ key, section string }{
	KindDeployment: {"provisioner", "provisioners"},
	KindGateway:    {"api", "apis"},
}

// hasStem reports whether mapping n has key stem under any unit spelling.
func hasStem(n *node, stem string) bool {
	for _, e := range n.entries {
		if s, _, _ := splitUnit(e.key); e.key == stem || s == stem {
			return true
		}
	}
	return false
}

func entryLine(n *node, key string) int {
	for _, e := range n.entries {
		if e.key == key {
			return e.line
		}
	}
	return 0
}

func entrySrc(n *node, key string) *source {
	for _, e := range n.entries {
		if e.key == key {
			return e.src
		}
	}
	return n.src
}

// runtimesIn lists the runtimes that have a cold-start default.
func runtimesIn(defs *node) []string {
	var out []string
	if rt := defs.get("runtimes"); rt != nil {
		for _, e := range rt.entries {
			out = append(out, e.key)
		}
	}
	return out
}
