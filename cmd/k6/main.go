// Command k6 is k6 with Headroom's extensions compiled in — the binary the xk6 builder
// would produce, written by hand: the JS module k6/x/headroom and the output headroom
// (package loadtest/k6ext). Build it with
//
//	go build -o k6 ./cmd/k6
//
// `k6 version` lists the extensions. `headroom loadtest` and `headroom validate` run it;
// cmd/k6/Dockerfile builds the image a k6-operator TestRun uses.
package main

import (
	k6cmd "go.k6.io/k6/cmd"

	_ "github.com/headroom/headroom/loadtest/k6ext"
)

func main() { k6cmd.Execute() }
