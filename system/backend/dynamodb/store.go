package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/awsclient"
)

// DefaultPageSize is the List page size when the caller gives none; MaxPageSize bounds it.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// maxAttempts bounds the retries of a conditional write whose failed condition turned out
// to hold on the follow-up read (the item changed in between, twice in a row is rare).
const maxAttempts = 5

// Store is a system.Store on one DynamoDB table. See doc.go.
type Store struct {
	client    *dynamodb.Client
	table     *string
	shards    int
	conns     *awsclient.Conns
	now       func() time.Time
	closed    atomic.Bool
	nextShard atomic.Uint32 // where Unpublished starts, so no shard starves the others
}

var (
	_ system.Store  = (*Store)(nil)
	_ system.Pinger = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store read time from now instead of time.Now.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open opens the store a DSN describes (see ParseDSN), creating its table if missing.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: %w", err)
	}
	return OpenConfig(ctx, cfg, opts...)
}

// OpenConfig opens the store cfg describes, creating its table if missing.
func OpenConfig(ctx context.Context, cfg Config, opts ...Option) (*Store, error) {
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	if cfg.OutboxShards == 0 {
		cfg.OutboxShards = DefaultOutboxShards
	}
	awsCfg, err := awsclient.LoadConfig(ctx, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: %w", err)
	}
	conns := awsclient.NewConns()
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.HTTPClient = conns.Tune(o.HTTPClient)
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	s := &Store{client: client, table: aws.String(cfg.Table), shards: cfg.OutboxShards, conns: conns, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if err := ensureTable(ctx, client, cfg.Table, !cfg.NoCreate); err != nil {
		conns.CloseAll()
		return nil, fmt.Errorf("dynamodb (region %s, endpoint %s): %w", awsCfg.Region, endpointOf(cfg, awsCfg), err)
	}
	return s, nil
}

// endpointOf names where requests go, for errors: the DSN's, the environment's or AWS's.
func endpointOf(cfg Config, awsCfg aws.Config) string {
	switch {
	case cfg.Endpoint != "":
		return cfg.Endpoint
	case awsCfg.BaseEndpoint != nil:
		return *awsCfg.BaseEndpoint
	}
	return "AWS (AWS_ENDPOINT_URL_DYNAMODB unset)"
}

// Table returns the table's name.
func (s *Store) Table() string { return *s.table }

// Client returns the SDK client, for tests and tools that administer the table.
func (s *Store) Client() *dynamodb.Client { return s.client }

func (s *Store) usable(op string) error {
	if s.closed.Load() {
		return fmt.Errorf("dynamodb %s: %s: %w", *s.table, op, system.ErrClosed)
	}
	return nil
}

func (s *Store) fail(op, id string, err error) error {
	return fmt.Errorf("dynamodb %s: %s %s: %w", *s.table, op, id, err)
}

// conditionFailed returns the item a failed condition saw (nil when the server did not
// send it) and whether err is that failure.
func conditionFailed(err error) (item, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

// current returns the item as a failed condition saw it: from the failure when the server
// returned it, else by a strongly consistent read. nil means the request does not exist.
func (s *Store) current(ctx context.Context, seen item, id string) (item, error) {
	if seen != nil {
		return seen, nil
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// Create implements system.Writer.
func (s *Store) Create(ctx context.Context, r system.Request) (system.Request, error) {
	if err := s.usable("create"); err != nil {
		return system.Request{}, err
	}
	if r.ID == "" {
		return system.Request{}, fmt.Errorf("dynamodb %s: create: empty id: %w", *s.table, system.ErrInvalid)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now()
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	r.Version, r.ProcessedVersion = 1, 0
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           s.table,
		Item:                encode(&r, s.shards),
		ConditionExpression: aws.String("attribute_not_exists(id)"),
	})
	if _, ok := conditionFailed(err); ok {
		return system.Request{}, s.fail("create", r.ID, system.ErrExists)
	}
	if err != nil {
		return system.Request{}, s.fail("create", r.ID, err)
	}
	return r, nil
}

// Get implements system.Reader, with a strongly consistent read.
func (s *Store) Get(ctx context.Context, id string) (system.Request, error) {
	if err := s.usable("get"); err != nil {
		return system.Request{}, err
	}
	if id == "" {
		return system.Request{}, s.fail("get", id, system.ErrNotFound)
	}
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return system.Request{}, s.fail("get", id, err)
	}
	if out.Item == nil {
		return system.Request{}, s.fail("get", id, system.ErrNotFound)
	}
	r, err := decode(out.Item)
	if err != nil {
		return system.Request{}, s.fail("get", id, err)
	}
	return r, nil
}

// Update implements system.Writer: one UpdateItem conditional on the version.
func (s *Store) Update(ctx context.Context, r system.Request) (system.Request, error) {
	if err := s.usable("update"); err != nil {
		return system.Request{}, err
	}
	if r.ID == "" {
		return system.Request{}, s.fail("update", r.ID, system.ErrNotFound)
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = s.now()
	}
	values := item{
		":st": str(r.State),
		":v":  num(r.Version),
		":nv": num(r.Version + 1),
		":ua": num(r.UpdatedAt.UnixNano()),
		":ob": str(shardOf(r.ID, s.shards)),
	}
	expr := "SET st = :st, v = :nv, ua = :ua, ob = :ob"
	if len(r.Payload) > 0 {
		values[":pl"] = &types.AttributeValueMemberB{Value: r.Payload}
		expr += ", pl = :pl"
	} else {
		expr += " REMOVE pl"
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 key(r.ID),
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String("v = :v"),
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		out, err := s.client.UpdateItem(ctx, in)
		if err == nil {
			got, err := decode(out.Attributes)
			if err != nil {
				return system.Request{}, s.fail("update", r.ID, err)
			}
			return got, nil
		}
		seen, ok := conditionFailed(err)
		if !ok {
			return system.Request{}, s.fail("update", r.ID, err)
		}
		cur, err := s.current(ctx, seen, r.ID)
		if err != nil {
			return system.Request{}, s.fail("update", r.ID, err)
		}
		if cur == nil {
			return system.Request{}, s.fail("update", r.ID, system.ErrNotFound)
		}
		if v := numOf(cur, attrVersion); v != r.Version {
			return system.Request{}, s.fail("update", r.ID,
				fmt.Errorf("version %d, current %d: %w", r.Version, v, system.ErrConflict))
		}
		// The condition holds now: the request changed back in between; try again.
	}
	return system.Request{}, s.fail("update", r.ID, fmt.Errorf("condition kept changing under %d attempts", maxAttempts))
}

// Delete implements system.Writer.
func (s *Store) Delete(ctx context.Context, id string, version int64) error {
	if err := s.usable("delete"); err != nil {
		return err
	}
	if id == "" {
		return s.fail("delete", id, system.ErrNotFound)
	}
	in := &dynamodb.DeleteItemInput{
		TableName:                           s.table,
		Key:                                 key(id),
		ConditionExpression:                 aws.String("attribute_exists(id)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if version >= 0 {
		in.ConditionExpression = aws.String("v = :v")
		in.ExpressionAttributeValues = item{":v": num(version)}
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		_, err := s.client.DeleteItem(ctx, in)
		if err == nil {
			return nil
		}
		seen, ok := conditionFailed(err)
		if !ok {
			return s.fail("delete", id, err)
		}
		cur, err := s.current(ctx, seen, id)
		if err != nil {
			return s.fail("delete", id, err)
		}
		if cur == nil {
			return s.fail("delete", id, system.ErrNotFound)
		}
		if v := numOf(cur, attrVersion); version >= 0 && v != version {
			return s.fail("delete", id, fmt.Errorf("version %d, current %d: %w", version, v, system.ErrConflict))
		}
	}
	return s.fail("delete", id, fmt.Errorf("condition kept changing under %d attempts", maxAttempts))
}

// List implements system.Reader with a strongly consistent Scan.
func (s *Store) List(ctx context.Context, cursor string, limit int) (system.Page, error) {
	if err := s.usable("list"); err != nil {
		return system.Page{}, err
	}
	if limit <= 0 {
		limit = DefaultPageSize
	}
	limit = min(limit, MaxPageSize)
	start, err := decodeCursor(cursor)
	if err != nil {
		return system.Page{}, fmt.Errorf("dynamodb %s: %w", *s.table, err)
	}
	out, err := s.client.Scan(ctx, &dynamodb.ScanInput{
		TableName:         s.table,
		Limit:             aws.Int32(int32(limit)),
		ExclusiveStartKey: start,
		ConsistentRead:    aws.Bool(true),
	})
	if err != nil {
		return system.Page{}, fmt.Errorf("dynamodb %s: list: %w", *s.table, err)
	}
	page := system.Page{Items: make([]system.Request, 0, len(out.Items))}
	for _, it := range out.Items {
		r, err := decode(it)
		if err != nil {
			return system.Page{}, fmt.Errorf("dynamodb %s: list: %w", *s.table, err)
		}
		page.Items = append(page.Items, r)
	}
	if page.Next, err = encodeCursor(out.LastEvaluatedKey); err != nil {
		return system.Page{}, fmt.Errorf("dynamodb %s: %w", *s.table, err)
	}
	return page, nil
}

// MarkProcessed implements system.Effector: SET pv = :v IF v = :v AND pv < :v.
func (s *Store) MarkProcessed(ctx context.Context, id string, version int64) (system.Outcome, error) {
	if err := s.usable("mark processed"); err != nil {
		return 0, err
	}
	if id == "" {
		return system.Gone, nil
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                           s.table,
		Key:                                 key(id),
		UpdateExpression:                    aws.String("SET pv = :v"),
		ConditionExpression:                 aws.String("v = :v AND pv < :v"),
		ExpressionAttributeValues:           item{":v": num(version)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		_, err := s.client.UpdateItem(ctx, in)
		if err == nil {
			return system.Applied, nil
		}
		seen, ok := conditionFailed(err)
		if !ok {
			return 0, s.fail("mark processed", id, err)
		}
		cur, err := s.current(ctx, seen, id)
		if err != nil {
			return 0, s.fail("mark processed", id, err)
		}
		if cur == nil {
			return system.Gone, nil
		}
		switch pv, v := numOf(cur, attrProcessed), numOf(cur, attrVersion); {
		case pv == version:
			return system.Duplicate, nil
		case pv > version, v != version:
			return system.Superseded, nil
		}
	}
	return 0, s.fail("mark processed", id, fmt.Errorf("condition kept changing under %d attempts", maxAttempts))
}

// MarkPublished implements system.Outbox: REMOVE ob IF v = :v, which takes the version out
// of the outbox index. A newer version keeps its mark; a deleted request has none.
func (s *Store) MarkPublished(ctx context.Context, id string, version int64) error {
	if err := s.usable("mark published"); err != nil {
		return err
	}
	if id == "" {
		return nil
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       key(id),
		UpdateExpression:          aws.String("REMOVE ob"),
		ConditionExpression:       aws.String("v = :v AND attribute_exists(ob)"),
		ExpressionAttributeValues: item{":v": num(version)},
	})
	if _, ok := conditionFailed(err); ok {
		return nil
	}
	if err != nil {
		return s.fail("mark published", id, err)
	}
	return nil
}

// Ping implements system.Pinger: the table answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.usable("ping"); err != nil {
		return err
	}
	if _, err := s.client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: s.table}); err != nil {
		return fmt.Errorf("dynamodb %s: ping: %w", *s.table, err)
	}
	return nil
}

// Close ends the store's connections; every call after it fails with ErrClosed.
func (s *Store) Close() error {
	if !s.closed.Swap(true) {
		s.conns.CloseAll()
	}
	return nil
}
