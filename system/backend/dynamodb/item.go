package dynamodb

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/headroom/headroom/system"
)

// Attribute names: short, since DynamoDB bills item size by the byte, names included, and
// none is a reserved word, so expressions need no #placeholders.
const (
	attrID        = "id" // S, the key
	attrState     = "st" // S
	attrPayload   = "pl" // B, absent when there is no payload
	attrVersion   = "v"  // N
	attrCreated   = "ca" // N, Unix nanoseconds
	attrUpdated   = "ua" // N, Unix nanoseconds; the outbox index's sort key
	attrProcessed = "pv" // N, ProcessedVersion
	attrOutbox    = "ob" // S, the outbox index's shard; present iff the version is unpublished
)

// outboxIndex is the sparse global secondary index over unpublished writes.
const outboxIndex = "outbox"

type item = map[string]types.AttributeValue

func str(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func key(id string) item { return item{attrID: str(id)} }

// shardOf spreads ids over the outbox index's partitions.
func shardOf(id string, shards int) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return strconv.Itoa(int(h.Sum32() % uint32(shards)))
}

// encode is the whole item of a stored request, unpublished.
func encode(r *system.Request, shards int) item {
	it := item{
		attrID:        str(r.ID),
		attrState:     str(r.State),
		attrVersion:   num(r.Version),
		attrCreated:   num(r.CreatedAt.UnixNano()),
		attrUpdated:   num(r.UpdatedAt.UnixNano()),
		attrProcessed: num(r.ProcessedVersion),
		attrOutbox:    str(shardOf(r.ID, shards)),
	}
	if len(r.Payload) > 0 {
		it[attrPayload] = &types.AttributeValueMemberB{Value: r.Payload}
	}
	return it
}

// decode reads a stored item back; a malformed one (written by something else) is an
// error naming the attribute.
func decode(it item) (system.Request, error) {
	var r system.Request
	var err error
	s := func(name string) string {
		if v, ok := it[name].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		if err == nil {
			err = fmt.Errorf("item attribute %q: missing or not a string", name)
		}
		return ""
	}
	n := func(name string) int64 {
		v, ok := it[name].(*types.AttributeValueMemberN)
		if !ok {
			if err == nil {
				err = fmt.Errorf("item attribute %q: missing or not a number", name)
			}
			return 0
		}
		x, perr := strconv.ParseInt(v.Value, 10, 64)
		if perr != nil && err == nil {
			err = fmt.Errorf("item attribute %q: %w", name, perr)
		}
		return x
	}
	r.ID = s(attrID)
	r.State = s(attrState)
	r.Version = n(attrVersion)
	r.CreatedAt = time.Unix(0, n(attrCreated)).UTC()
	r.UpdatedAt = time.Unix(0, n(attrUpdated)).UTC()
	r.ProcessedVersion = n(attrProcessed)
	if p, ok := it[attrPayload].(*types.AttributeValueMemberB); ok {
		r.Payload = p.Value
	}
	if err != nil {
		return system.Request{}, fmt.Errorf("request %q: %w", r.ID, err)
	}
	return r, nil
}

// numOf reads a number attribute, or -1 when the item lacks it.
func numOf(it item, name string) int64 {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		if x, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
			return x
		}
	}
	return -1
}
