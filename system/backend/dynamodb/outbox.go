package dynamodb

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/headroom/headroom/system"
)

// batchGetMax is BatchGetItem's limit of keys per call.
const batchGetMax = 100

// Unpublished implements system.Outbox: the outbox index, shard by shard and oldest first
// within each, then a strongly consistent re-read of what it names (see doc.go).
func (s *Store) Unpublished(ctx context.Context, olderThan time.Time, limit int) ([]system.Request, error) {
	if err := s.usable("unpublished"); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	ids, err := s.outboxIDs(ctx, olderThan, limit)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	found := make(map[string]system.Request, len(ids))
	for start := 0; start < len(ids); start += batchGetMax {
		if err := s.batchGet(ctx, ids[start:min(start+batchGetMax, len(ids))], found); err != nil {
			return nil, err
		}
	}
	cut := olderThan.UnixNano()
	out := make([]system.Request, 0, len(found))
	for _, id := range ids { // in index order
		if r, ok := found[id]; ok && r.UpdatedAt.UnixNano() <= cut {
			out = append(out, r)
		}
	}
	return out, nil
}

// outboxIDs queries the outbox index for up to limit ids updated up to olderThan.
func (s *Store) outboxIDs(ctx context.Context, olderThan time.Time, limit int) ([]string, error) {
	first := int(s.nextShard.Add(1)) % s.shards
	var ids []string
	for i := 0; i < s.shards && len(ids) < limit; i++ {
		in := &dynamodb.QueryInput{
			TableName:              s.table,
			IndexName:              aws.String(outboxIndex),
			KeyConditionExpression: aws.String("ob = :s AND ua <= :t"),
			ExpressionAttributeValues: item{
				":s": str(fmt.Sprint((first + i) % s.shards)),
				":t": num(olderThan.UnixNano()),
			},
		}
		for len(ids) < limit {
			in.Limit = aws.Int32(int32(min(limit-len(ids), MaxPageSize)))
			out, err := s.client.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("dynamodb %s: unpublished: query %s: %w", *s.table, outboxIndex, err)
			}
			for _, it := range out.Items {
				if v, ok := it[attrID].(*types.AttributeValueMemberS); ok {
					ids = append(ids, v.Value)
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	return ids, nil
}

// batchGet reads ids consistently into found, keeping the items still unpublished.
func (s *Store) batchGet(ctx context.Context, ids []string, found map[string]system.Request) error {
	keys := make([]map[string]types.AttributeValue, len(ids))
	for i, id := range ids {
		keys[i] = key(id)
	}
	req := map[string]types.KeysAndAttributes{*s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	pause := 10 * time.Millisecond
	for len(req) > 0 {
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return fmt.Errorf("dynamodb %s: unpublished: batch get: %w", *s.table, err)
		}
		for _, it := range out.Responses[*s.table] {
			if _, pending := it[attrOutbox]; !pending {
				continue // published since the index was read
			}
			r, err := decode(it)
			if err != nil {
				return fmt.Errorf("dynamodb %s: unpublished: %w", *s.table, err)
			}
			found[r.ID] = r
		}
		req = out.UnprocessedKeys
		if len(req) > 0 {
			// Throttled: DynamoDB asks for a back-off before the rest.
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
			pause = min(2*pause, time.Second)
		}
	}
	return nil
}
