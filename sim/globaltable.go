package sim

import (
	"fmt"
	"math"
	"strings"

	"github.com/headroom/headroom/result"
	"github.com/headroom/headroom/scenarios"
)

// replica is a table's part in a DynamoDB global table: the tables linked through replicas
// (one per region) hold the same items, and every write to one of them is replicated to all
// the others, asynchronously.
//
// A replicated write costs the receiving replica what a local write costs: it is billed
// there (as replicated write units) and it spends that replica's write capacity — on-demand
// units of the second, or provisioned tokens. It is never refused: DynamoDB does not drop
// replication, it falls behind, so a replica whose capacity the replicated writes use up
// throttles its own region's writes instead. That is why a second region multiplies the
// cost of writes but not the write headroom: each replica absorbs the writes of every
// region.
//
// The replicated write is charged to the replica's capacity when the write is made (the
// lag is under a second; capacity is counted per second), and its lag, drawn from the
// writing table's replication_lag, is what the replica reports: the window in which a read
// there still sees the old item. Conflicts (last writer wins) and stale reads are not
// modelled beyond that figure. No event: replication is settled when the write is made.
// Since the lag shapes nothing else, it is drawn for one replicated write in lagEvery
// (systematically, so the figure is the same distribution at a sixteenth of the draws: a
// day at 8 million users replicates 320 million writes).
type replica struct {
	t     *table
	peers []*table
	lag   Sampler
	// Received from the other replicas (measured period): writes, units, and their lag.
	writes int64
	units  float64
	lagMS  *Latency
	_      [40]byte // whole cache lines: see TestHotObjectsOwnTheirCacheLines
}

// linkReplicas joins t to its global table, if it is part of one.
func (t *table) linkReplicas() error {
	group := scenarios.GlobalTable(t.m.sc, t.spec)
	if len(group) <= 1 {
		return nil
	}
	lag, err := NewSampler(t.spec.Table.ReplicationLag)
	if err != nil {
		return fmt.Errorf("replication_lag: %w", err)
	}
	rep := &replica{t: t, lag: lag, lagMS: NewLatency(t.m.horizon)}
	regions := map[*region]string{}
	for _, c := range group {
		p, ok := t.m.component(c.Name).(*table)
		if !ok {
			return fmt.Errorf("replicas: %s is not a table", c.Name)
		}
		if other, dup := regions[p.region]; dup {
			return fmt.Errorf("replicas: %s and %s are both in region %s; a global table has one replica per region", other, p.name, p.region.spec.Name)
		}
		regions[p.region] = p.name
		if p != t {
			rep.peers = append(rep.peers, p)
		}
	}
	t.rep = rep
	return nil
}

// lagEvery is how many replicated writes there are per lag drawn (see replica).
const lagEvery = 16

// replicate sends a write of units made at now to every other replica.
func (r *replica) replicate(now Time, units float64) {
	for _, p := range r.peers {
		p.rep.receive(now, units, r)
	}
}

// receive applies a replicated write of units, made at now by the replica from.
func (r *replica) receive(now Time, units float64, from *replica) {
	t := r.t
	if t.provisioned {
		t.wBucket.refill(now)
		t.wBucket.level -= int64(math.Ceil(units * tokenScale))
	} else {
		t.wOD.roll(now)
		t.wOD.used += units
		t.wOD.peak = max(t.wOD.peak, t.wOD.used)
	}
	if s := int64(now / Second); s != t.sec {
		t.sec, t.secUnits = s, 0
	}
	t.secUnits += units
	t.peakUnits = max(t.peakUnits, t.secUnits)
	r.writes++
	r.units += units
	if r.writes%lagEvery == 1 {
		r.lagMS.Record(from.lag.Sample(&from.t.rng))
	}
}

func (r *replica) resetStats() {
	r.writes, r.units = 0, 0
	r.lagMS.Reset()
}

func (r *replica) report(c *result.Component) {
	c.ReplicatedWrites = r.writes
	if r.lagMS.Count() > 0 {
		s := r.lagMS.Stats()
		c.ReplicationLag = &s
	}
}

// usage bills a replica: its own reads and writes as any table's, plus what replication
// costs. On demand, every write received from another replica is replicated write units;
// provisioned, the write capacity of a global table's replica is billed as replicated
// capacity (rWCU-hours) instead of WCU-hours.
func (r *replica) usage(span Time) []result.Usage {
	t := r.t
	out := t.ownUsage(span)
	var names []string
	for _, p := range r.peers {
		names = append(names, p.name)
	}
	from := strings.Join(names, ", ")
	if t.provisioned {
		for i := range out {
			if out[i].Price == "dynamodb.provisioned.wcu_hours" {
				out[i].Price = "dynamodb.provisioned.replicated_wcu_hours"
				out[i].Item += " (a global table's replica)"
			}
		}
		return out
	}
	return append(out, result.Usage{
		Price:    "dynamodb.on_demand.replicated_write_units",
		Item:     "replicated write units from " + from,
		Quantity: r.units,
	})
}
