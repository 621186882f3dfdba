package snssqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/headroom/headroom/system"
)

// maxVisibility is SQS's longest visibility timeout (12 h), which the backstop (the local
// timeout plus a margin, see lease.go) must fit in.
const maxVisibility = 12 * time.Hour

type topology struct {
	spec     system.Topology
	topicARN string
	list     []*queue // declaration order
	byName   map[string]*queue
}

// Declare implements system.Declarer: the topic, then every queue (attributes set to the
// topology's on every declare, so a changed visibility timeout converges), then the
// redrive policies, then one raw-delivery subscription per subscribed queue carrying its
// filter policy. Each step is idempotent in SNS and SQS. A bus hosts one topology:
// declaring the same again is a no-op, another is refused.
func (b *Bus) Declare(ctx context.Context, t system.Topology) error {
	if err := t.Validate(); err != nil {
		return err
	}
	if err := sqsLimits(&t); err != nil {
		return err
	}
	b.declareMu.Lock()
	defer b.declareMu.Unlock()
	if err := b.usable("declare"); err != nil {
		return err
	}
	if cur := b.topo.Load(); cur != nil {
		if reflect.DeepEqual(cur.spec, t) {
			return nil
		}
		return fmt.Errorf("sns+sqs: declare %s: a different topology (%s) is already declared on this bus: %w",
			t.Topic, cur.spec.Topic, system.ErrInvalid)
	}
	tp := &topology{spec: t, byName: make(map[string]*queue, len(t.Queues))}
	topicAttrs := map[string]string{}
	if t.FIFO {
		topicAttrs["FifoTopic"] = "true"
		topicAttrs["ContentBasedDeduplication"] = "false"
	}
	name := topicName(b.cfg.Prefix, t.Topic, t.FIFO)
	out, err := b.sns.CreateTopic(ctx, &sns.CreateTopicInput{Name: &name, Attributes: topicAttrs})
	if err != nil {
		return fmt.Errorf("sns+sqs: declare %s: create topic %s: %w", t.Topic, name, err)
	}
	tp.topicARN = aws.ToString(out.TopicArn)

	subscribed := map[string]bool{}
	for _, s := range t.Subscriptions {
		subscribed[s.Queue] = true
	}
	for _, qs := range t.Queues {
		q, err := b.createQueue(ctx, t, qs)
		if err != nil {
			return err
		}
		tp.list = append(tp.list, q)
		tp.byName[qs.Name] = q
	}
	for _, q := range tp.list {
		attrs := map[string]string{}
		if q.spec.DeadLetter != "" {
			q.dlq = tp.byName[q.spec.DeadLetter]
			// SQS's own redrive is the backstop for a consumer that dies holding a message's
			// last receive; a live bus dead-letters at the timeout itself (lease.go).
			attrs[string(types.QueueAttributeNameRedrivePolicy)] = fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`,
				q.dlq.arn, q.spec.MaxReceives)
		}
		if subscribed[q.spec.Name] {
			attrs[string(types.QueueAttributeNamePolicy)] = sendPolicy(q.arn, tp.topicARN)
		}
		if len(attrs) == 0 {
			continue
		}
		if _, err := b.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &q.url, Attributes: attrs}); err != nil {
			return q.fail("declare: set redrive and access policies", err)
		}
	}
	for _, s := range t.Subscriptions {
		if err := b.subscribe(ctx, tp, s); err != nil {
			return err
		}
	}
	b.topo.Store(tp)
	return nil
}

// sqsLimits refuses what SQS cannot do as specified, rather than doing something else.
func sqsLimits(t *system.Topology) error {
	if t.FIFO && t.DedupWindow != 0 && t.DedupWindow != system.DefaultDedupWindow {
		return fmt.Errorf("sns+sqs: topology %s: dedup window %v: SQS FIFO deduplicates over exactly %v: %w",
			t.Topic, t.DedupWindow, system.DefaultDedupWindow, system.ErrInvalid)
	}
	for _, q := range t.Queues {
		if q.VisibilityTimeout > maxVisibility-2*time.Second {
			return fmt.Errorf("sns+sqs: topology %s: queue %s: visibility timeout %v: SQS allows up to %v (less 2 s the bus keeps in reserve): %w",
				t.Topic, q.Name, q.VisibilityTimeout, maxVisibility, system.ErrInvalid)
		}
	}
	seen := map[string]bool{}
	for _, s := range t.Subscriptions {
		if seen[s.Queue] {
			return fmt.Errorf("sns+sqs: topology %s: queue %s is subscribed twice; SNS keeps one subscription per queue, so merge the filters: %w",
				t.Topic, s.Queue, system.ErrInvalid)
		}
		seen[s.Queue] = true
	}
	return nil
}

// createQueue creates (or finds) one queue and sets its visibility timeout.
func (b *Bus) createQueue(ctx context.Context, t system.Topology, qs system.QueueSpec) (*queue, error) {
	q := newQueue(b, qs, queueName(b.cfg.Prefix, t.Topic, qs.Name, t.FIFO), t.FIFO)
	create := map[string]string{}
	if t.FIFO {
		create[string(types.QueueAttributeNameFifoQueue)] = "true"
		create[string(types.QueueAttributeNameContentBasedDeduplication)] = "false"
	}
	out, err := b.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &q.sqsName, Attributes: create})
	if err != nil {
		return nil, q.fail("declare: create queue", err)
	}
	q.url = aws.ToString(out.QueueUrl)
	if _, err := b.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: &q.url, Attributes: map[string]string{
		string(types.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(q.backstop / time.Second)),
	}}); err != nil {
		return nil, q.fail("declare: set visibility timeout", err)
	}
	attrs, err := b.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &q.url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return nil, q.fail("declare: read queue ARN", err)
	}
	q.arn = attrs.Attributes[string(types.QueueAttributeNameQueueArn)]
	if q.arn == "" {
		return nil, q.fail("declare", errors.New("SQS returned no queue ARN"))
	}
	return q, nil
}

// sendPolicy lets the topic, and only it, send to the queue: without it AWS drops every
// delivery (the emulator does not check).
func sendPolicy(queueARN, topicARN string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "headroom-topic-delivers",
			"Effect":    "Allow",
			"Principal": map[string]string{"Service": "sns.amazonaws.com"},
			"Action":    "sqs:SendMessage",
			"Resource":  queueARN,
			"Condition": map[string]any{"ArnEquals": map[string]string{"aws:SourceArn": topicARN}},
		}},
	}
	b, _ := json.Marshal(doc) // maps of strings: cannot fail; keys sorted, so stable
	return string(b)
}

// subscribe subscribes one queue with raw delivery and its filter policy, or brings an
// existing subscription of that queue to those attributes.
func (b *Bus) subscribe(ctx context.Context, tp *topology, s system.Subscription) error {
	q := tp.byName[s.Queue]
	attrs := map[string]string{"RawMessageDelivery": "true"}
	if len(s.Filter) > 0 {
		doc, err := s.Filter.SNSJSON()
		if err != nil {
			return fmt.Errorf("sns+sqs: declare %s: filter of %s: %v: %w", tp.spec.Topic, s.Queue, err, system.ErrInvalid)
		}
		attrs["FilterPolicyScope"] = "MessageAttributes"
		attrs["FilterPolicy"] = string(doc)
	}
	existing, err := b.subscriptionOf(ctx, tp.topicARN, q.arn)
	if err != nil {
		return fmt.Errorf("sns+sqs: declare %s: list subscriptions: %w", tp.spec.Topic, err)
	}
	if existing == "" {
		if _, err := b.sns.Subscribe(ctx, &sns.SubscribeInput{TopicArn: &tp.topicARN, Protocol: aws.String("sqs"),
			Endpoint: &q.arn, Attributes: attrs, ReturnSubscriptionArn: true}); err != nil {
			return fmt.Errorf("sns+sqs: declare %s: subscribe %s: %w", tp.spec.Topic, q.sqsName, err)
		}
		return nil
	}
	if _, ok := attrs["FilterPolicy"]; !ok {
		attrs["FilterPolicy"] = "{}" // the documented way to remove a filter policy
	}
	for _, name := range []string{"RawMessageDelivery", "FilterPolicyScope", "FilterPolicy"} {
		v, ok := attrs[name]
		if !ok {
			continue
		}
		if _, err := b.sns.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{
			SubscriptionArn: &existing, AttributeName: aws.String(name), AttributeValue: aws.String(v)}); err != nil {
			return fmt.Errorf("sns+sqs: declare %s: update subscription of %s: %s: %w", tp.spec.Topic, q.sqsName, name, err)
		}
	}
	return nil
}

// subscriptionOf returns the ARN of the topic's subscription delivering to queueARN, or "".
func (b *Bus) subscriptionOf(ctx context.Context, topicARN, queueARN string) (string, error) {
	p := sns.NewListSubscriptionsByTopicPaginator(b.sns, &sns.ListSubscriptionsByTopicInput{TopicArn: &topicARN})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, s := range out.Subscriptions {
			if aws.ToString(s.Protocol) == "sqs" && aws.ToString(s.Endpoint) == queueARN {
				return aws.ToString(s.SubscriptionArn), nil
			}
		}
	}
	return "", nil
}
