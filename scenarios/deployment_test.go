package scenarios

import (
	"strings"
	"testing"
)

// The EKS VPC CNI's pods per node, interfaces × (IPv4 addresses per interface − 1) + 2,
// from the instance table in defaults.yaml: the values of amazon-eks-ami's eni-max-pods.txt.
func TestENIMaxPodsFromTheInstanceTable(t *testing.T) {
	s, err := Load("kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	if got := s.InstanceType("m5.large").ENIMaxPods(); got != 29 {
		t.Errorf("m5.large: %d pods, want 29 (3 × (10 − 1) + 2)", got)
	}
	// The scenario keeps only the types it uses; the table has the others.
	for name, want := range map[string]int{"t3.medium": 17, "m5.xlarge": 58, "m5.4xlarge": 234, "m5.16xlarge": 737} {
		sc, err := Load("kubernetes", WithSets([]string{"components.processor.node_type=" + name}))
		if err != nil {
			t.Fatal(err)
		}
		if got := sc.InstanceType(name).ENIMaxPods(); got != want {
			t.Errorf("%s: %d pods, want %d", name, got, want)
		}
	}
}

// Pods of the bundled kubernetes scenario (150m CPU, 256 MiB) on an m5.large: allocatable
// CPU is 2 − 6 % − 1 % = 1.93 vCPU, memory 8,192 − (255 + 11 × 29) − 100 = 7,518 MiB. Less
// the DaemonSets' 0.125 vCPU, 1.805 / 0.15 = 12 pods fit; memory would take 29 and the ENI
// formula 27 (29 less aws-node and kube-proxy): CPU binds at 12, and 50,000 pods need
// ⌈50,000 / 12⌉ = 4,167 nodes (1,725 at the ENI formula's 29, 455 at 110).
func TestNodeFitOfTheKubernetesPods(t *testing.T) {
	s, err := Load("kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	d := s.Component("processor").Deployment
	f := NodeFit(s.InstanceType("m5.large"), d)
	if f.MaxPods != 29 || f.ENIMaxPods != 29 || f.PodsPerNode != 12 || f.Limit != "cpu" {
		t.Errorf("fit %+v, want 29 max pods, 12 per node bound by cpu", f)
	}
	if f.AllocatableCPU < 1.93-1e-9 || f.AllocatableCPU > 1.93+1e-9 || f.AllocatableMemoryMB != 7518 {
		t.Errorf("allocatable %g vCPU, %g MiB; want 1.93 and 7518", f.AllocatableCPU, f.AllocatableMemoryMB)
	}
	nodes := func(pods, perNode int) int { return (pods + perNode - 1) / perNode }
	if n := nodes(50000, f.PodsPerNode); n != 4167 {
		t.Errorf("%d nodes for 50,000 pods, want 4,167", n)
	}
	if nodes(50000, 29) != 1725 || nodes(50000, 110) != 455 {
		t.Error("the reference sheet's 1,725 and 455")
	}
	// With small pods the pod limit binds instead: 50m CPU fits 36, memory 58, pods 27.
	small := *d
	small.CPURequest, small.MemoryRequestMB = 0.05, 128
	if f := NodeFit(s.InstanceType("m5.large"), &small); f.PodsPerNode != 27 || f.Limit != "max pods" {
		t.Errorf("small pods: %+v, want 27 bound by max pods", f)
	}
	// A prefix-delegation CNI allows 110 below 30 vCPUs.
	small.CNI = "prefix"
	if f := NodeFit(s.InstanceType("m5.large"), &small); f.MaxPods != 110 {
		t.Errorf("prefix: %d max pods, want 110", f.MaxPods)
	}
}

// A pod that fits on no node is refused at load, with the figures.
func TestDeploymentPodMustFitANode(t *testing.T) {
	_, err := Load("kubernetes", WithSets([]string{"components.processor.cpu_request=4"}))
	if err == nil || !strings.Contains(err.Error(), "components.processor.cpu_request: a pod (4 vCPU, 256 MB) does not fit on a m5.large node") {
		t.Errorf("err = %v", err)
	}
}
