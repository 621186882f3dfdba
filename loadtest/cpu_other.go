//go:build !unix

package loadtest

func selfCPU() (float64, bool) { return 0, false }
