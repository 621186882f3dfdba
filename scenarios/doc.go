// Package scenarios defines Headroom's scenario format and loads it: a YAML file that
// describes a workload, the quotas of each region, and a graph of typed components (pool,
// gateway, function, table, topic, queue; loadbalancer, vmtier, cache, database;
// deployment) linked by next, calls and routes. The same
// format expresses the seed architectures, their scaling alternatives and a bare M/M/c
// queue; the simulator, the real system and the load harness all read the resolved
// Scenario and nothing else.
//
// Load takes a bundled name ("baseline", "mmc"; see Bundled) or a file path. Loading is a
// pipeline over YAML trees that remember, for every value, the file and line it came from:
//
//  1. parse the file and, recursively, the scenario it extends (a bundled name or a path
//     relative to the extending file); merge them, the extending file winning key by key;
//  2. apply the --set overrides (WithSets) by dotted path;
//  3. lay the defaults of defaults.yaml underneath: scenario-wide keys, region quotas,
//     per-kind component defaults, cold-start distributions per runtime, a deployment's
//     node provisioner's delays, an HTTP API's timeout and overhead, the instance types
//     table;
//  4. decode into the Go types of scenario.go, by reflection (a field's key is its name in
//     snake_case, a Duration or Dist field takes unit suffixes);
//  5. validate ranges, references, the graph and the shared quotas.
//
// Every problem is an *Error naming file, line and key and saying what is expected
// ("baseline.yaml:12: components.api.rate_rps: must be > 0"); a load with several returns
// an ErrorList. Defaults are data, not code: every number the loader fills in is in
// defaults.yaml with its date and source. FORMAT.md is the reference of the format.
package scenarios
