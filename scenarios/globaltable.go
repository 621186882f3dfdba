package scenarios

import (
	"slices"
	"strings"
)

// globalTables checks the replicas of DynamoDB global tables. replicas may be written on one
// member or on several; the global table is every table linked through them, and it holds
// at most one replica per region (AWS's rule): a replica in the table's own region would
// be the same table.
func (v *validator) globalTables() {
	for _, c := range v.s.Components {
		t := c.Table
		if t == nil {
			continue
		}
		for i, name := range t.Replicas {
			p := index(compKey(c, "replicas"), i)
			r := v.ref(p, name, []Kind{KindTable}, "a replica")
			switch {
			case r == nil:
			case r == c:
				v.fail(p, "a table is not its own replica")
			case r.Region == c.Region:
				v.fail(p, "%s is in region %s too; a global table has one replica per region", name, c.Region)
			}
		}
		if len(t.Replicas) > 0 {
			v.required(compKey(c, "replication_lag"), t.ReplicationLag, "replication_lag")
		}
	}
	seen := map[string]bool{}
	for _, c := range v.s.Components {
		if c.Table == nil || seen[c.Name] {
			continue
		}
		group := GlobalTable(v.s, c)
		regions := map[string]string{}
		for _, m := range group {
			seen[m.Name] = true
			if other, dup := regions[m.Region]; dup && len(group) > 1 {
				var names []string
				for _, x := range group {
					names = append(names, x.Name)
				}
				v.fail(compKey(m, "replicas"), "%s and %s are both in region %s, and both replicas of the global table %s; a global table has one replica per region",
					other, m.Name, m.Region, strings.Join(names, ", "))
			}
			regions[m.Region] = m.Name
		}
	}
}

// GlobalTable returns the members of the global table t belongs to — t and every table linked
// to it through replicas, in either direction — in component order; just t when it has no
// replicas.
func GlobalTable(s *Scenario, t *Component) []*Component {
	in := map[string]bool{t.Name: true}
	for changed := true; changed; {
		changed = false
		for _, c := range s.Components {
			if c.Table == nil {
				continue
			}
			for _, r := range c.Table.Replicas {
				if in[c.Name] != in[r] && s.Component(r) != nil && s.Component(r).Table != nil {
					in[c.Name], in[r] = true, true
					changed = true
				}
			}
		}
	}
	var out []*Component
	for _, c := range s.Components {
		if in[c.Name] {
			out = append(out, c)
		}
	}
	return slices.Clip(out)
}
