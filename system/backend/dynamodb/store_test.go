package dynamodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/awstest"
	"github.com/headroom/headroom/system/backend/internal/awsclient"
	"github.com/headroom/headroom/system/backend/internal/netfault"
	"github.com/headroom/headroom/system/backend/internal/storecheck"
	"github.com/headroom/headroom/system/conformance"
)

// uniqueTable names a table no other test uses.
func uniqueTable(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "hrt-" + hex.EncodeToString(b[:])
}

// newStore opens a store on a fresh table, dropped when the test ends. Region, endpoint and
// credentials come from the environment awstest.Main set, as they would in production.
func newStore(t testing.TB, extra ...string) *Store {
	t.Helper()
	awstest.Endpoint(t, awstest.DynamoDB) // fails the test, naming why, if dynalite is gone
	table := uniqueTable(t)
	dsn := "table=" + table
	for _, e := range extra {
		dsn += "&" + e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() {
		dropTable(t, table)
		_ = s.Close()
	})
	return s
}

// admin is a client of the tests' own, for dropping tables of stores already closed.
var admin = sync.OnceValues(func() (*dynamodb.Client, error) {
	cfg, err := awsclient.LoadConfig(context.Background(), "")
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg), nil
})

func dropTable(t testing.TB, table string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := admin()
	if err != nil {
		t.Errorf("dropping table %s: %v", table, err)
		return
	}
	var missing *types.ResourceNotFoundException
	if _, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil && !errors.As(err, &missing) {
		t.Errorf("dropping table %s: %v", table, err)
	}
}

func TestStoreConformance(t *testing.T) {
	conformance.RunStoreSuite(t, func(t *testing.T) system.Store { return newStore(t) })
}

// TestStoreChecks runs the checks written for the SQL stores: byte-exact payloads,
// nanosecond times, case-sensitive ids, racing conditional writes, List under churn, the
// outbox's grace period, and ErrClosed after Close.
func TestStoreChecks(t *testing.T) {
	storecheck.Run(t, func(t *testing.T) system.Store { return newStore(t) })
}

// TestOneOutboxShard: the outbox works the same with its index on a single partition.
func TestOneOutboxShard(t *testing.T) {
	t.Run("Outbox", func(t *testing.T) { storecheck.Outbox(t, newStore(t, "outbox_shards=1")) })
}

// TestOutboxReadsTheBacklog: Unpublished answers from the sparse index, which holds only
// what is still unpublished, whatever the size of the table.
func TestOutboxReadsTheBacklog(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	old := time.Now().Add(-time.Hour)
	const n, pending = 300, 7
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("bk-%03d", i)
		if _, err := s.Create(ctx, system.Request{ID: id, State: "pending", CreatedAt: old.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if i >= pending {
			if err := s.MarkPublished(ctx, id, 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	var indexed int
	for shard := 0; shard < s.shards; shard++ {
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName: s.table, IndexName: aws.String(outboxIndex), Select: types.SelectCount,
			KeyConditionExpression:    aws.String("ob = :s"),
			ExpressionAttributeValues: item{":s": str(fmt.Sprint(shard))},
		})
		if err != nil {
			t.Fatal(err)
		}
		indexed += int(out.Count)
	}
	if indexed != pending {
		t.Fatalf("the outbox index holds %d items, want only the %d unpublished of %d", indexed, pending, n)
	}
	got, err := s.Unpublished(ctx, time.Now(), 100)
	if err != nil || len(got) != pending {
		t.Fatalf("Unpublished: %d requests, %v; want %d", len(got), err, pending)
	}
	for _, r := range got {
		if r.ID >= fmt.Sprintf("bk-%03d", pending) {
			t.Fatalf("Unpublished returned published %s", r.ID)
		}
	}
	// Oldest first within a shard: the index's sort key is the update time.
	if got, err := s.Unpublished(ctx, old.Add(2*time.Second), 100); err != nil || len(got) != 3 {
		t.Fatalf("Unpublished(up to the third write): %d, %v; want 3", len(got), err)
	}
}

// TestConditionClassification: the outcome of every failed condition, on the same item
// from both sides of a change.
func TestConditionClassification(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	if _, err := s.Create(ctx, system.Request{ID: "cc", State: "pending"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, system.Request{ID: "cc", State: "approved", Version: 2}); !errors.Is(err, system.ErrConflict) ||
		!strings.Contains(err.Error(), "current 1") {
		t.Fatalf("update at version 2 of 1: %v, want ErrConflict naming the current version", err)
	}
	if err := s.Delete(ctx, "cc", 5); !errors.Is(err, system.ErrConflict) {
		t.Fatalf("delete at version 5 of 1: %v, want ErrConflict", err)
	}
	if o, err := s.MarkProcessed(ctx, "cc", 2); err != nil || o != system.Superseded {
		t.Fatalf("mark processed of an unwritten version 2: %v, %v; want superseded", o, err)
	}
	if err := s.MarkPublished(ctx, "cc", 2); err != nil {
		t.Fatalf("mark published of an unwritten version: %v, want a no-op", err)
	}
	if rs, _ := s.Unpublished(ctx, time.Now().Add(time.Minute), 10); len(rs) != 1 {
		t.Fatalf("after marking another version: %d unpublished, want 1", len(rs))
	}
}

// TestOpenConcurrently: processes starting together on a missing table all create it or
// find it; none fails on the race.
func TestOpenConcurrently(t *testing.T) {
	table := uniqueTable(t)
	var wg sync.WaitGroup
	stores := make([]*Store, 5)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(context.Background(), "table="+table)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	t.Cleanup(func() { dropTable(t, table) })
	for i, s := range stores {
		if _, err := s.Create(context.Background(), system.Request{ID: fmt.Sprint("o", i), State: "pending"}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := stores[0].List(context.Background(), "", 10)
	if err != nil || len(p.Items) != len(stores) {
		t.Fatalf("list after concurrent opens: %d items, %v; want %d", len(p.Items), err, len(stores))
	}
}

// TestForeignTableRefused: a table with another key schema is not silently used.
func TestForeignTableRefused(t *testing.T) {
	s := newStore(t)
	table := uniqueTable(t)
	_, err := s.client.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropTable(t, table) })
	_, err = Open(context.Background(), "table="+table)
	if !errors.Is(err, system.ErrInvalid) || !strings.Contains(err.Error(), "key schema [pk HASH]") {
		t.Fatalf("open of a foreign table: %v, want ErrInvalid naming its key schema", err)
	}
	_, err = Open(context.Background(), "create=false&table="+uniqueTable(t))
	if !errors.Is(err, system.ErrNotFound) || !strings.Contains(err.Error(), "create=false") {
		t.Fatalf("open of a missing table with create=false: %v, want ErrNotFound saying why", err)
	}
}

// TestDSNEndpointOverridesEnvironment: endpoint= and region= in the DSN win over the
// SDK's environment; an endpoint where nothing listens fails Open, naming it.
func TestDSNEndpointOverridesEnvironment(t *testing.T) {
	ep := awstest.Endpoint(t, awstest.DynamoDB)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	table := uniqueTable(t)
	s, err := Open(ctx, "dynamodb://?region=eu-west-1&endpoint="+ep+"&table="+table)
	if err != nil {
		t.Fatalf("open with the DSN's endpoint: %v", err)
	}
	t.Cleanup(func() { dropTable(t, table); s.Close() })
	if _, err := s.Create(ctx, system.Request{ID: "x", State: "pending"}); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, "table="+table)
	if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1:1") {
		t.Fatalf("open against the environment's dead endpoint: %v, want an error naming it", err)
	}
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want Config
		err  string
	}{
		{dsn: "", want: Config{Table: DefaultTable, OutboxShards: DefaultOutboxShards}},
		{dsn: "table=t-1.x&region=eu-west-1&endpoint=http://127.0.0.1:8000&outbox_shards=2&create=false",
			want: Config{Table: "t-1.x", Region: "eu-west-1", Endpoint: "http://127.0.0.1:8000", OutboxShards: 2, NoCreate: true}},
		{dsn: "dynamodb://?table=abc", want: Config{Table: "abc", OutboxShards: DefaultOutboxShards}},
		{dsn: "?table=abc", want: Config{Table: "abc", OutboxShards: DefaultOutboxShards}},
		{dsn: "table=ab", err: `table="ab"`},
		{dsn: "table=a/b", err: `table="a/b"`},
		{dsn: "endpoint=127.0.0.1:8000", err: "endpoint="},
		{dsn: "outbox_shards=0", err: "outbox_shards="},
		{dsn: "create=maybe", err: "create="},
		{dsn: "tabel=x", err: `unknown parameter "tabel"`},
		{dsn: "table=abc&table=def", err: "table given 2 times"},
		{dsn: "%zz", err: "dsn"},
	} {
		got, err := ParseDSN(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, system.ErrInvalid) {
				t.Errorf("ParseDSN(%q): %v, want an error containing %q wrapping ErrInvalid", tc.dsn, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDSN(%q) = %+v, %v; want %+v", tc.dsn, got, err, tc.want)
		}
	}
}

func TestCursor(t *testing.T) {
	c, err := encodeCursor(key("a.b-c_9"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := decodeCursor(c)
	if err != nil || k[attrID].(*types.AttributeValueMemberS).Value != "a.b-c_9" {
		t.Fatalf("cursor %q decodes to %v, %v", c, k, err)
	}
	for _, bad := range []string{"!!not-a-cursor!!", "d1.", "d1.***", "x1.YQ", "YQ"} {
		if _, err := decodeCursor(bad); !errors.Is(err, system.ErrInvalid) {
			t.Errorf("decodeCursor(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

func TestRegisteredAndPings(t *testing.T) {
	table := uniqueTable(t)
	s, err := system.OpenStore(context.Background(), Name, "table="+table)
	if err != nil {
		t.Fatalf("OpenStore(%q): %v", Name, err)
	}
	ds := s.(*Store)
	t.Cleanup(func() { dropTable(t, table); ds.Close() })
	if err := ds.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	ds.Close()
	if err := ds.Ping(context.Background()); !errors.Is(err, system.ErrClosed) {
		t.Fatalf("ping after close: %v, want ErrClosed", err)
	}
}

// TestConnectionLoss: every connection to the endpoint is cut under an open store, and under
// a pipeline running on it (storecheck.RunConnectionLoss); the SDK dials again, and
// nothing accepted is lost or applied twice.
func TestConnectionLoss(t *testing.T) {
	storecheck.RunConnectionLoss(t, func(t *testing.T) (system.Store, *netfault.Proxy) { return proxiedStore(t) })
}

// proxiedStore opens a store on a fresh table through a proxy to the emulator.
func proxiedStore(t *testing.T) (*Store, *netfault.Proxy) {
	u, err := url.Parse(awstest.Endpoint(t, awstest.DynamoDB))
	if err != nil {
		t.Fatal(err)
	}
	p := netfault.NewProxy(t, u.Host)
	u.Host = p.Addr()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	table := uniqueTable(t)
	s, err := Open(ctx, "dynamodb://?endpoint="+url.QueryEscape(u.String())+"&table="+table)
	if err != nil {
		t.Fatalf("open through a proxy: %v", err)
	}
	t.Cleanup(func() { dropTable(t, table); s.Close() })
	return s, p
}
