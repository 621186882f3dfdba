package scenarios

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// InstanceType is a machine size that components run on (VM tiers, caches, databases,
// Kubernetes nodes): what the models need to know of it. The table lives in defaults.yaml
// under instance_types (dated, sourced); a scenario may add types or correct one under its
// own instance_types key, merged over the table key by key.
type InstanceType struct {
	Name     string
	VCPUs    int
	MemoryMB float64
	// NetworkInterfaces and AddressesPerInterface are the elastic network interfaces an
	// instance can attach and the IPv4 addresses each holds: they bound the pods per node
	// under the EKS VPC CNI (interfaces × (addresses − 1) + 2). 0 for types that are never
	// Kubernetes nodes (database and cache types).
	NetworkInterfaces     int
	AddressesPerInterface int
}

// ENIMaxPods returns the EKS VPC CNI's pods-per-node limit for the type:
// interfaces × (IPv4 addresses per interface − 1) + 2 (the primary address of each
// interface is the node's own; the two host-network pods, aws-node and kube-proxy, need none).
func (t *InstanceType) ENIMaxPods() int {
	if t.NetworkInterfaces < 1 || t.AddressesPerInterface < 2 {
		return 0
	}
	return t.NetworkInterfaces*(t.AddressesPerInterface-1) + 2
}

// InstanceType returns the instance type named name, or nil.
func (s *Scenario) InstanceType(name string) *InstanceType {
	for _, t := range s.InstanceTypes {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Instance type names carry dots and digits (m5.large, db.m5.large, cache.m5.large).
var instanceTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,63}$`)

// decodeInstanceTypes reads the instance_types mapping (name → figures), keeping file order.
func decodeInstanceTypes(d *decoder, n *node, path string, v reflect.Value) {
	if n.kind != mapNode {
		d.fail(n, path, "expected a mapping of instance type names to {vcpus: ..., memory_mb: ...}, got %s", describe(n))
		return
	}
	var out []*InstanceType
	for _, e := range n.entries {
		p := join(path, e.key)
		d.mark(p, e)
		if !instanceTypeRE.MatchString(e.key) {
			d.failAt(e.src, e.line, p, "bad instance type name %q: lower-case letters, digits, '.' and '-' (as in m5.large)", e.key)
			continue
		}
		t := &InstanceType{Name: e.key}
		d.structure(e.val, p, "an instance type", reflect.ValueOf(t).Elem())
		out = append(out, t)
	}
	v.Set(reflect.ValueOf(out))
}

// instanceTypes checks the table and keeps, in table order, only the types the components
// use: the table is data for the models, and a scenario carries the part it relies on.
func (v *validator) instanceTypes() {
	used := map[string]bool{}
	for _, c := range v.s.Components {
		for _, name := range c.instanceTypes() {
			used[name] = true
		}
	}
	var kept []*InstanceType
	for _, t := range v.s.InstanceTypes {
		if !used[t.Name] {
			continue
		}
		p := "instance_types." + t.Name
		if t.VCPUs < 1 {
			v.fail(p+".vcpus", "must be >= 1, got %d", t.VCPUs)
		}
		v.positive(p+".memory_mb", t.MemoryMB)
		v.nonNegative(p+".network_interfaces", float64(t.NetworkInterfaces))
		v.nonNegative(p+".addresses_per_interface", float64(t.AddressesPerInterface))
		kept = append(kept, t)
	}
	v.s.InstanceTypes = kept
}

// instanceTypes lists the instance types a component names.
func (c *Component) instanceTypes() []string {
	var out []string
	switch {
	case c.VMTier != nil && c.VMTier.InstanceType != "":
		out = append(out, c.VMTier.InstanceType)
	case c.Cache != nil:
		out = append(out, c.Cache.InstanceType)
	case c.Database != nil:
		out = append(out, c.Database.InstanceType)
	case c.Deployment != nil:
		out = append(out, c.Deployment.NodeType)
	}
	return out
}

// instanceType checks that key names a type of the table, with the figures the caller needs
// (nodes need network interfaces), and returns it.
func (v *validator) instanceType(key, name, want string, needsNetwork bool) *InstanceType {
	if name == "" {
		v.missing(key, "missing: an instance type such as %s", want)
		return nil
	}
	t := v.s.InstanceType(name)
	if t == nil {
		var names []string
		for _, x := range v.s.InstanceTypes {
			names = append(names, x.Name)
		}
		hint := ""
		if s := suggest(name, names); s != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", s)
		}
		v.fail(key, "no instance type %q in instance_types%s; known: %s; add it under instance_types: in the scenario", name, hint, strings.Join(names, ", "))
		return nil
	}
	if needsNetwork && t.ENIMaxPods() == 0 {
		v.fail(key, "instance type %s has no network_interfaces and addresses_per_interface (needed for pods per node); give them under instance_types.%s", name, name)
	}
	return t
}
