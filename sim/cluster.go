package sim

import (
	"fmt"
	"time"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// The nodes of a deployment and their limits: where pods fit, how many nodes the cluster,
// the account and the network allow, and the provisioner (cluster-autoscaler or Karpenter)
// that launches and removes them.

// ipsPerNode is the subnet addresses one node takes: with the VPC CNI every interface and
// its addresses (attached as the node fills); with prefix delegation /28 prefixes for its
// pods and the node's own address; on an overlay, the node's own address only.
func ipsPerNode(t *scenarios.InstanceType, spec *scenarios.Deployment, fit scenarios.Fit) int {
	switch spec.CNI {
	case "vpc":
		if t.NetworkInterfaces > 0 {
			return t.NetworkInterfaces * t.AddressesPerInterface
		}
		return fit.MaxPods + 1
	case "prefix":
		return (fit.MaxPods+15)/16*16 + 1
	}
	return 1
}

// clusterLimits returns, for each limit, the most pods of the deployment it allows.
func clusterLimits(reg *scenarios.Region, t *scenarios.InstanceType, spec *scenarios.Deployment, fit scenarios.Fit, ips int) []result.ClusterLimit {
	ppn := int64(fit.PodsPerNode)
	out := []result.ClusterLimit{{Limit: "max replicas", Pods: int64(spec.MaxReplicas),
		Detail: fmt.Sprintf("the HPA's max_replicas, %d", spec.MaxReplicas)}}
	if spec.MaxNodes > 0 {
		out = append(out, result.ClusterLimit{Limit: "node group max", Pods: int64(spec.MaxNodes) * ppn,
			Detail: fmt.Sprintf("%d nodes × %d pods", spec.MaxNodes, ppn)})
	}
	out = append(out,
		result.ClusterLimit{Limit: "cluster nodes", Pods: int64(spec.ClusterMaxNodes) * ppn,
			Detail: fmt.Sprintf("%d nodes × %d pods", spec.ClusterMaxNodes, ppn)},
		result.ClusterLimit{Limit: "cluster pods", Pods: int64(spec.ClusterMaxPods) * ppn / (ppn + int64(spec.DaemonsetPods)),
			Detail: fmt.Sprintf("%d pods, of which %d DaemonSet pods on each node of %d", spec.ClusterMaxPods, spec.DaemonsetPods, ppn)})
	if reg != nil && reg.EC2VCPUQuota > 0 {
		nodes := int64(reg.EC2VCPUQuota / t.VCPUs)
		out = append(out, result.ClusterLimit{Limit: "vCPU quota", Pods: nodes * ppn,
			Detail: fmt.Sprintf("%d vCPUs / %d per %s = %d nodes × %d pods", reg.EC2VCPUQuota, t.VCPUs, t.Name, nodes, ppn)})
	}
	nodes := int64(spec.SubnetAddresses / ips)
	out = append(out, result.ClusterLimit{Limit: "IP addresses", Pods: nodes * ppn,
		Detail: fmt.Sprintf("%d subnet addresses / %d per node (%s CNI) = %d nodes × %d pods", spec.SubnetAddresses, ips, spec.CNI, nodes, ppn)})
	return out
}

// reachable returns the smallest of the limits.
func reachable(limits []result.ClusterLimit) result.ClusterLimit {
	best := limits[0]
	for _, l := range limits[1:] {
		if l.Pods < best.Pods {
			best = l
		}
	}
	return best
}

// maxNodes is the most nodes the deployment may have, and the limit that sets it.
func (d *deployment) maxNodes() (int, string) {
	spec := d.dspec
	n, name := spec.ClusterMaxNodes, "cluster nodes"
	if spec.MaxNodes > 0 && spec.MaxNodes < n {
		n, name = spec.MaxNodes, "node group max"
	}
	if reg := d.region.spec; reg.EC2VCPUQuota > 0 {
		if q := reg.EC2VCPUQuota / d.nodeType.VCPUs; q < n {
			n, name = q, "vCPU quota"
		}
	}
	if q := spec.SubnetAddresses / d.ipsPerNode; q < n {
		n, name = q, "IP addresses"
	}
	return n, name
}

// maxPods is the most pods the cluster's pod limit leaves for the deployment with n nodes.
func (d *deployment) maxPods(nodes int) int {
	return d.dspec.ClusterMaxPods - nodes*d.dspec.DaemonsetPods
}

// openNode returns a ready node with room for a pod, or -1.
func (d *deployment) openNode() int32 {
	for ; d.firstOpen < len(d.nodes); d.firstOpen++ {
		n := &d.nodes[d.firstOpen]
		if n.ready && !n.gone && n.pods < d.fit.PodsPerNode {
			return int32(d.firstOpen)
		}
	}
	return -1
}

// launchNode adds a node (not ready) and returns its index.
func (d *deployment) launchNode(now Time) int32 {
	nd := kNode{imageAt: -1, emptySince: now}
	var i int32
	if n := len(d.nodeFree); n > 0 {
		i = d.nodeFree[n-1]
		d.nodeFree = d.nodeFree[:n-1]
		d.nodes[i] = nd
	} else {
		d.nodes = append(d.nodes, nd)
		i = int32(len(d.nodes) - 1)
	}
	d.nLaunched++
	d.nodesG.Add(now, 1)
	d.nodeLaunches++
	return i
}

// removeNode takes an empty node away.
func (d *deployment) removeNode(i int32, now Time) {
	n := &d.nodes[i]
	n.gone = true
	if n.ready {
		d.nReady--
	}
	d.nLaunched--
	d.nodesG.Add(now, -1)
	d.nodeFree = append(d.nodeFree, i)
}

// provision is one scan of the node provisioner: nodes for the pods that fit nowhere, and
// empty nodes removed.
func (d *deployment) provision(now Time) {
	ppn := d.fit.PodsPerNode
	coming := (d.nLaunched - d.nReady) * ppn
	if need := d.nPend - coming; need > 0 {
		nodes := (need + ppn - 1) / ppn
		limit, name := d.maxNodes()
		if room := limit - d.nLaunched; nodes > room {
			d.bindOnceNamed(name, func() string {
				return fmt.Sprintf("%d pods pending need %d more %s nodes; %d are running or starting and the %s allows %d (%s)",
					d.nPend, nodes, d.nodeType.Name, d.nLaunched, name, limit, d.limitDetail(name))
			})
			nodes = max(room, 0)
		}
		for range nodes {
			i := d.launchNode(now)
			d.m.k.Schedule(now+d.nodeReady.Sample(&d.rng), d.id, opNodeReady, int64(i))
		}
	}
	if d.nPend > 0 && d.workWaited(now) {
		d.bindOnceNamed("node provisioning", func() string {
			return fmt.Sprintf("%d pods wait for nodes (%s: %v scans, nodes ready %s after launch) while work has waited %v",
				d.nPend, d.dspec.Provisioner, time.Duration(d.scan), distText(d.dspec.NodeReady), time.Duration(d.oldestWork(now)).Round(time.Second))
		})
	}
	if d.nPend > 0 {
		return
	}
	for i := range d.nodes {
		n := &d.nodes[i]
		if n.ready && !n.gone && n.pods == 0 && n.emptySince >= 0 && now-n.emptySince >= d.unneeded && d.nLaunched > d.dspec.MinNodes {
			d.removeNode(int32(i), now)
		}
	}
}

// limitDetail explains a static limit by its name.
func (d *deployment) limitDetail(name string) string {
	for _, l := range d.limits {
		if l.Limit == name {
			return l.Detail
		}
	}
	return ""
}
