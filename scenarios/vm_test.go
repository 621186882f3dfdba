package scenarios

import (
	"strings"
	"testing"
)

// vmSystem is a valid architecture-B scenario; line numbers are in the comments.
func vmSystem(extra ...string) string {
	return y(append([]string{
		"name: b", // 1
		"horizon: 1h",
		"workload: {rate_rps: 100, entry: lb, mix: {op: {query: 0.7, insert: 0.3}}}", // 3
		"components:",
		"  lb: {kind: loadbalancer, next: web}", // 5
		"  web: {kind: vmtier, instances: 3, workers: 2, io: async, cpu_time: {dist: constant, value_ms: 1}, next: svc}",
		"  svc: {kind: vmtier, host: web, workers: 8, cpu_time: {dist: constant, value_ms: 1}, next: cache}", // 7
		"  cache: {kind: cache, working_set: 1000, database: db}",
		"  db: {kind: database, replicas: 2}", // 9
	}, extra...)...)
}

func TestVMSystemLoads(t *testing.T) {
	s, err := loadFiles(map[string]string{"b.yaml": vmSystem()}, "b.yaml")
	if err != nil {
		t.Fatal(err)
	}
	web, svc := s.Component("web").VMTier, s.Component("svc").VMTier
	if web.InstanceType != "m5.large" || web.IO != "async" || svc.InstanceType != "" || svc.Instances != 0 || svc.IO != "blocking" {
		t.Errorf("web %+v, svc %+v: the defaults give web its m5.large and leave the hosted svc without VMs", web, svc)
	}
	var names []string
	for _, it := range s.InstanceTypes {
		names = append(names, it.Name)
	}
	if got := strings.Join(names, ","); got != "m5.large,db.m5.large,cache.m5.large" {
		t.Errorf("instance types %s, want the three used, in table order", got)
	}
	if db := s.Component("db").Database; db.PoolSize != 10 || db.BytesPerConnection != 12582880 || db.Engine != "mysql" {
		t.Errorf("database defaults %+v", db)
	}
}

func TestVMSystemErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		sets []string
		want string
	}{
		{"unknown instance type", []string{"components.web.instance_type=m5.lage"},
			`--set components.web.instance_type=m5.lage: components.web.instance_type: no instance type "m5.lage" in instance_types (did you mean m5.large?)`},
		{"hosted tier with its own VMs", []string{"components.svc.instances=2"},
			`components.svc.instances: a tier with a host runs on the host's VMs: give no instance_type or instances`},
		{"host is not a tier", []string{"components.svc.host=db"},
			`components.svc.host: db is a database; a host must be a vmtier`},
		{"unknown op", []string{"workload.mix.op={query: 0.7, upsert: 0.3}"},
			`workload.mix.op.upsert: unknown operation "upsert"; the op attribute (read by web) takes query, insert, update, delete`},
		{"cache without a database", []string{"components.cache.database=web"},
			`components.cache.database: web is a vmtier; a cache's database must be a database`},
		{"hit ratio", []string{"components.cache.hit_ratio=1.5"},
			`components.cache.hit_ratio: a ratio is between 0 and 1, got 1.5`},
		{"load balancer in front of a cache", []string{"components.lb.next=cache"},
			`components.lb.next: cache is a cache; the next of a loadbalancer must be a vmtier`},
		{"io", []string{"components.web.io=evented"},
			`components.web.io: unknown value "evented"; one of async, blocking`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadFiles(map[string]string{"b.yaml": vmSystem()}, "b.yaml", tc.sets...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
}
