package snssqs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/awstest"
	ddb "github.com/headroom/headroom/system/backend/dynamodb"
	"github.com/headroom/headroom/system/backend/internal/awsclient"
	"github.com/headroom/headroom/system/backend/internal/bustest"
	"github.com/headroom/headroom/system/conformance"
)

// admin holds clients of the tests' own, for removing what a closed bus declared.
var admin = sync.OnceValues(func() (*clients, error) {
	cfg, err := awsclient.LoadConfig(context.Background(), "")
	if err != nil {
		return nil, err
	}
	return &clients{sns: sns.NewFromConfig(cfg), sqs: sqs.NewFromConfig(cfg), ddb: dynamodb.NewFromConfig(cfg)}, nil
})

type clients struct {
	sns *sns.Client
	sqs *sqs.Client
	ddb *dynamodb.Client
}

// newBus opens a bus for one test; when the test ends it is closed and its topic and
// queues deleted, so the emulator holds only what running tests use.
func newBus(t testing.TB) *Bus {
	t.Helper()
	awstest.Endpoint(t, awstest.SNSSQS)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, "")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		b.Close()
		removeTopology(t, b)
	})
	return b
}

func removeTopology(t testing.TB, b *Bus) {
	tp := b.topo.Load()
	if tp == nil {
		return
	}
	c, err := admin()
	if err != nil {
		t.Errorf("cleanup: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, q := range tp.list {
		var gone *sqstypes.QueueDoesNotExist // deleted by another bus of the same test
		if _, err := c.sqs.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: &q.url}); err != nil && !errors.As(err, &gone) {
			t.Errorf("cleanup: delete queue %s: %v", q.sqsName, err)
		}
	}
	if _, err := c.sns.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: &tp.topicARN}); err != nil {
		t.Errorf("cleanup: delete topic %s: %v", tp.topicARN, err)
	}
}

// newStore opens a DynamoDB store on a fresh table, dropped when the test ends.
func newStore(t testing.TB) system.Store {
	t.Helper()
	awstest.Endpoint(t, awstest.DynamoDB)
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	table := "hrt-" + hex.EncodeToString(rnd[:])
	s, err := ddb.Open(context.Background(), "table="+table)
	if err != nil {
		t.Fatalf("dynamodb store: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		c, err := admin()
		if err == nil {
			_, err = c.ddb.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		}
		if err != nil {
			t.Errorf("cleanup: drop table %s: %v", table, err)
		}
	})
	return s
}

func TestBusConformance(t *testing.T) {
	conformance.RunBusSuite(t, func(t *testing.T) system.Bus { return newBus(t) })
}

// TestPipelineConformance runs the whole pipeline on the serverless design's backends:
// DynamoDB for the store, SNS and SQS for the bus.
func TestPipelineConformance(t *testing.T) {
	conformance.RunPipelineSuite(t,
		func(t *testing.T) system.Store { return newStore(t) },
		func(t *testing.T) system.Bus { return newBus(t) })
}

func testTopology(topic string, fifo bool) system.Topology {
	return system.Topology{Topic: topic, FIFO: fifo,
		Queues: []system.QueueSpec{
			{Name: "work", VisibilityTimeout: 2 * time.Second, MaxReceives: 2, DeadLetter: "dead"},
			{Name: "dead"},
		},
		Subscriptions: []system.Subscription{{Queue: "work", Filter: system.Equals("state", "go")}},
	}
}

func uniqueTopic(t testing.TB) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "t" + hex.EncodeToString(b[:])
}

// TestDeclareAcrossProcesses: a second bus (another process of the deployment) declares
// the same topology and shares its queues; a changed topology on the same bus is refused,
// as are what SQS cannot do as specified.
func TestDeclareAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	topic := uniqueTopic(t)
	a, b := newBus(t), newBus(t)
	if err := a.Declare(ctx, testTopology(topic, false)); err != nil {
		t.Fatal(err)
	}
	if err := b.Declare(ctx, testTopology(topic, false)); err != nil {
		t.Fatalf("second process declaring the same topology: %v", err)
	}
	if err := a.Publish(ctx, system.Message{Body: []byte("shared"), Attributes: system.Attributes{{Name: "state", Value: "go"}}}); err != nil {
		t.Fatal(err)
	}
	ds, err := b.Receive(ctx, "work", system.ReceiveOptions{Max: 10}, nil)
	if err != nil || len(ds) != 1 || string(ds[0].Body) != "shared" {
		t.Fatalf("the other bus received %v, %v; want the message published by the first", ds, err)
	}
	if err := b.Ack(ctx, "work", ds[0].Receipt); err != nil {
		t.Fatal(err)
	}
	other := testTopology(topic, false)
	other.Queues[0].VisibilityTimeout = time.Minute
	if err := a.Declare(ctx, other); !errors.Is(err, system.ErrInvalid) {
		t.Fatalf("declaring a changed topology on the same bus: %v, want ErrInvalid", err)
	}
	// A new process with the changed topology converges the queue's attributes.
	c := newBus(t)
	if err := c.Declare(ctx, other); err != nil {
		t.Fatalf("a later process declaring the changed topology: %v", err)
	}
	out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &c.topo.Load().byName["work"].url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout}})
	if err != nil || out.Attributes["VisibilityTimeout"] != "61" {
		t.Fatalf("queue visibility after redeclaring with 1m: %v, %v; want 61 (1m plus the backstop's second)", out.Attributes, err)
	}

	fifo := testTopology(uniqueTopic(t), true)
	fifo.DedupWindow = time.Minute
	if err := newBus(t).Declare(ctx, fifo); !errors.Is(err, system.ErrInvalid) || !strings.Contains(err.Error(), "5m0s") {
		t.Fatalf("FIFO with a 1m dedup window: %v, want ErrInvalid naming SQS's 5m", err)
	}
	twice := testTopology(uniqueTopic(t), false)
	twice.Subscriptions = append(twice.Subscriptions, system.Subscription{Queue: "work", Filter: system.Equals("state", "also")})
	if err := newBus(t).Declare(ctx, twice); !errors.Is(err, system.ErrInvalid) || !strings.Contains(err.Error(), "subscribed twice") {
		t.Fatalf("one queue subscribed twice: %v, want ErrInvalid", err)
	}
}

// TestBodiesRoundTrip: bodies that are not SQS text (binary, control characters, invalid
// UTF-8, empty) arrive byte for byte; the bus's own attribute is not seen.
func TestBodiesRoundTrip(t *testing.T) {
	ctx := context.Background()
	b := newBus(t)
	tp := testTopology(uniqueTopic(t), false)
	tp.Subscriptions[0].Filter = nil
	if err := b.Declare(ctx, tp); err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{[]byte(`{"id":"x","ü":"€"}`), {0, 1, 2, 255, 254}, []byte("a\x00b"), {0xff, 'x'}, {}, []byte("line\r\n\ttab")}
	for _, body := range bodies {
		if err := b.Publish(ctx, system.Message{Body: body, Attributes: system.Attributes{{Name: "z", Value: "1"}, {Name: "a", Value: "2"}}}); err != nil {
			t.Fatalf("publish %q: %v", body, err)
		}
	}
	got := map[string]bool{}
	for len(got) < len(bodies) {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ds, err := b.Receive(rctx, "work", system.ReceiveOptions{Max: 10}, nil)
		cancel()
		if err != nil {
			t.Fatalf("after %d of %d bodies: %v", len(got), len(bodies), err)
		}
		for _, d := range ds {
			got[string(d.Body)] = true
			if len(d.Attributes) != 2 || d.Attributes[0] != (system.Attr{Name: "a", Value: "2"}) || d.Attributes[1] != (system.Attr{Name: "z", Value: "1"}) {
				t.Fatalf("attributes %v, want a=2, z=1 in name order and nothing else", d.Attributes)
			}
			if err := b.Ack(ctx, "work", d.Receipt); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, body := range bodies {
		if !got[string(body)] {
			t.Fatalf("body %q did not arrive intact (got %v)", body, got)
		}
	}
	if err := b.Publish(ctx, system.Message{Body: []byte("x"), Attributes: system.Attributes{{Name: "e", Value: ""}}}); !errors.Is(err, system.ErrInvalid) {
		t.Fatalf("publish with an empty attribute value: %v, want ErrInvalid (SNS refuses it)", err)
	}
}

// TestAbandonedPollGivesBack: a receiver that leaves mid-poll does not make the message it
// would have got wait out a visibility timeout.
func TestAbandonedPollGivesBack(t *testing.T) {
	ctx := context.Background()
	b := newBus(t)
	tp := testTopology(uniqueTopic(t), false)
	tp.Queues[0].VisibilityTimeout = 30 * time.Second
	tp.Subscriptions[0].Filter = nil
	if err := b.Declare(ctx, tp); err != nil {
		t.Fatal(err)
	}
	// The poll must be waiting in SQS when its receiver leaves; the test cannot see that
	// from outside, so it waits a while first. When a stalled machine made the wait too
	// short (the message then comes straight to the next receive, never taken), it tries
	// again, waiting longer.
	q := b.topo.Load().byName["work"]
	for attempt := 1; ; attempt++ {
		leave, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := b.Receive(leave, "work", system.ReceiveOptions{Max: 1}, nil)
			done <- err
		}()
		time.Sleep(time.Duration(attempt) * 100 * time.Millisecond) // the long poll is waiting in SQS
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned receive: %v, want context.Canceled", err)
		}
		givenBack := q.givenBack.Load()
		// The abandoned poll is still waiting in SQS and takes this message...
		if err := b.Publish(ctx, system.Message{Body: []byte("m")}); err != nil {
			t.Fatal(err)
		}
		// ...and gives it back at once, well before the 30 s visibility timeout.
		rctx, rcancel := context.WithTimeout(ctx, 5*time.Second)
		ds, err := b.Receive(rctx, "work", system.ReceiveOptions{Max: 1}, nil)
		rcancel()
		if err != nil || len(ds) != 1 {
			t.Fatalf("receive after an abandoned poll: %v, %v; want the message", ds, err)
		}
		if err := b.Ack(ctx, "work", ds[0].Receipt); err != nil {
			t.Fatal(err)
		}
		n := q.givenBack.Load() - givenBack
		if n == 0 && ds[0].ReceiveCount == 1 && attempt < 3 {
			t.Logf("attempt %d: the poll had not reached SQS when its receiver left; waiting longer", attempt)
			continue
		}
		if n != 1 || ds[0].ReceiveCount != 2 {
			t.Fatalf("given back %d, receive count %d; want the abandoned poll to have taken it (count 1) and given it back", n, ds[0].ReceiveCount)
		}
		return
	}
}

func TestRegisteredPingsAndCloses(t *testing.T) {
	bus, err := system.OpenBus(context.Background(), Name, "")
	if err != nil {
		t.Fatalf("OpenBus(%q): %v", Name, err)
	}
	b := bus.(*Bus)
	t.Cleanup(func() { b.Close(); removeTopology(t, b) })
	if err := b.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Declare(context.Background(), testTopology(uniqueTopic(t), true)); err != nil {
		t.Fatal(err)
	}
	if err := b.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(b.Collectors()...)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() {
		_, err := b.Receive(context.Background(), "work", system.ReceiveOptions{}, nil)
		waiting <- err
	}()
	time.Sleep(50 * time.Millisecond)
	b.Close()
	select {
	case err := <-waiting:
		if !errors.Is(err, system.ErrClosed) {
			t.Fatalf("receive blocked during Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("a blocked receive did not return within 5s of Close")
	}
	if err := b.Publish(context.Background(), system.Message{Body: []byte("x"), GroupID: "g"}); !errors.Is(err, system.ErrClosed) {
		t.Fatalf("publish after close: %v, want ErrClosed", err)
	}
}

func TestOpenFailsNamingTheEndpoint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Open(ctx, "endpoint=http://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1:1") {
		t.Fatalf("open against a dead endpoint: %v, want an error naming it", err)
	}
}

// TestConnectionLoss: every connection to the endpoint is cut under an open bus, and under a
// pipeline running on it (bustest.RunConnectionLoss); the bus dials again, and nothing it
// accepted is lost.
func TestConnectionLoss(t *testing.T) {
	bustest.RunConnectionLoss(t, awstest.Endpoint(t, awstest.SNSSQS), func(t testing.TB, url string) bustest.Bus { return openBusAt(t, url) })
}

// openBusAt opens a bus on the endpoint at url (both services), removed as newBus's is.
func openBusAt(t testing.TB, url string) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Open(ctx, "endpoint="+url+"&wait=2s")
	if err != nil {
		t.Fatalf("open at %s: %v", url, err)
	}
	t.Cleanup(func() {
		b.Close()
		removeTopology(t, b)
	})
	return b
}
