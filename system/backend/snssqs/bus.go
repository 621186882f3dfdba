package snssqs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/internal/awsclient"
)

// Bus is a system.Bus on an SNS topic and SQS queues. See doc.go.
type Bus struct {
	sns   *sns.Client
	sqs   *sqs.Client
	cfg   Config
	conns *awsclient.Conns

	// life ends with Close: background work (expiries, abandoned polls) runs under it.
	life   context.Context
	stop   context.CancelFunc
	closed atomic.Bool

	declareMu sync.Mutex
	topo      atomic.Pointer[topology]
}

var (
	_ system.Bus           = (*Bus)(nil)
	_ system.Releaser      = (*Bus)(nil)
	_ system.Inspector     = (*Bus)(nil)
	_ system.Pinger        = (*Bus)(nil)
	_ system.MetricsSource = (*Bus)(nil)
)

// Open opens the bus a DSN describes (see ParseDSN). Nothing is created until Declare.
func Open(ctx context.Context, dsn string) (*Bus, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("sns+sqs: %w", err)
	}
	return OpenConfig(ctx, cfg)
}

// OpenConfig opens the bus cfg describes and checks that SQS answers.
func OpenConfig(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Wait == 0 {
		cfg.Wait = MaxWait
	}
	awsCfg, err := awsclient.LoadConfig(ctx, cfg.Region)
	if err != nil {
		return nil, fmt.Errorf("sns+sqs: %w", err)
	}
	conns := awsclient.NewConns()
	b := &Bus{
		cfg:   cfg,
		conns: conns,
		sns: sns.NewFromConfig(awsCfg, func(o *sns.Options) {
			o.HTTPClient = conns.Tune(o.HTTPClient)
			if cfg.SNSEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.SNSEndpoint)
			}
		}),
		sqs: sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
			o.HTTPClient = conns.Tune(o.HTTPClient)
			if cfg.SQSEndpoint != "" {
				o.BaseEndpoint = aws.String(cfg.SQSEndpoint)
			}
		}),
	}
	b.life, b.stop = context.WithCancel(context.Background())
	if _, err := b.sqs.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(cfg.Prefix + "headroom-ping"), MaxResults: aws.Int32(1)}); err != nil {
		b.Close()
		return nil, fmt.Errorf("sns+sqs: SQS does not answer (region %s, endpoint %s): %w", awsCfg.Region, endpointOf(cfg.SQSEndpoint, awsCfg, "SQS"), err)
	}
	return b, nil
}

// endpointOf names where requests go, for errors: the DSN's, the environment's or AWS's.
func endpointOf(dsn string, awsCfg aws.Config, service string) string {
	switch {
	case dsn != "":
		return dsn
	case awsCfg.BaseEndpoint != nil:
		return *awsCfg.BaseEndpoint
	}
	return "AWS, or AWS_ENDPOINT_URL_" + service
}

func (b *Bus) usable(op string) error {
	if b.closed.Load() {
		return fmt.Errorf("sns+sqs: %s: %w", op, system.ErrClosed)
	}
	return nil
}

// queue returns the declared queue named name.
func (b *Bus) queue(op, name string) (*queue, error) {
	if err := b.usable(op); err != nil {
		return nil, err
	}
	tp := b.topo.Load()
	if tp == nil {
		return nil, fmt.Errorf("sns+sqs: %s %s: no topology declared: %w", op, name, system.ErrNotFound)
	}
	q := tp.byName[name]
	if q == nil {
		return nil, fmt.Errorf("sns+sqs: %s %s: not a queue of topology %s: %w", op, name, tp.spec.Topic, system.ErrNotFound)
	}
	return q, nil
}

// Publish implements system.Publisher: one SNS Publish, the attributes as message
// attributes (the subscriptions' filter policies look at them). SNS has stored the
// message in every matching queue when it answers.
func (b *Bus) Publish(ctx context.Context, m system.Message) error {
	if err := b.usable("publish"); err != nil {
		return err
	}
	tp := b.topo.Load()
	if tp == nil {
		return fmt.Errorf("sns+sqs: publish: no topology declared: %w", system.ErrNotFound)
	}
	text, mark := encodeBody(m.Body)
	attrs, err := snsAttributes(m.Attributes, mark)
	if err != nil {
		return fmt.Errorf("sns+sqs: publish to %s: %w", tp.spec.Topic, err)
	}
	in := &sns.PublishInput{TopicArn: &tp.topicARN, Message: &text, MessageAttributes: attrs}
	if tp.spec.FIFO {
		switch {
		case m.GroupID == "":
			return fmt.Errorf("sns+sqs: publish to FIFO topic %s: group id is required: %w", tp.spec.Topic, system.ErrInvalid)
		case len(m.GroupID) > maxFIFOID:
			return fmt.Errorf("sns+sqs: publish to FIFO topic %s: group id of %d characters, SNS takes %d: %w",
				tp.spec.Topic, len(m.GroupID), maxFIFOID, system.ErrInvalid)
		}
		in.MessageGroupId = aws.String(m.GroupID)
		dedup := m.DedupID
		if dedup == "" {
			// Content-based deduplication is off (equal bodies are distinct messages), so a
			// message without a dedup id gets one nothing else has.
			dedup = uniqueID()
		}
		in.MessageDeduplicationId = aws.String(dedupID(dedup))
	}
	if _, err := b.sns.Publish(ctx, in); err != nil {
		var nf *snstypes.NotFoundException
		if errors.As(err, &nf) {
			return fmt.Errorf("sns+sqs: publish to %s: topic gone: %v: %w", tp.spec.Topic, err, system.ErrNotFound)
		}
		return fmt.Errorf("sns+sqs: publish to %s: %w", tp.spec.Topic, err)
	}
	return nil
}

var idSeq atomic.Uint64

var idPrefix = func() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("sns+sqs: random id prefix: %v", err))
	}
	return hex.EncodeToString(b[:]) + "-"
}()

func uniqueID() string { return idPrefix + strconv.FormatUint(idSeq.Add(1), 36) }

// QueueStats implements system.Inspector with SQS's approximate counts.
func (b *Bus) QueueStats(ctx context.Context, name string) (system.QueueStats, error) {
	q, err := b.queue("queue stats", name)
	if err != nil {
		return system.QueueStats{}, err
	}
	out, err := b.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: &q.url,
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return system.QueueStats{}, q.fail("queue stats", err)
	}
	n := func(a types.QueueAttributeName) int64 {
		v, _ := strconv.ParseInt(out.Attributes[string(a)], 10, 64)
		return v
	}
	return system.QueueStats{
		Visible: n(types.QueueAttributeNameApproximateNumberOfMessages),
		// Released with a delay is hidden too; the bus itself never sends delayed messages.
		InFlight: n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible) + n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
	}, nil
}

// Ping implements system.Pinger: the topic (once declared) and SQS answer.
func (b *Bus) Ping(ctx context.Context) error {
	if err := b.usable("ping"); err != nil {
		return err
	}
	if tp := b.topo.Load(); tp != nil {
		if _, err := b.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: &tp.topicARN}); err != nil {
			return fmt.Errorf("sns+sqs: ping topic %s: %w", tp.spec.Topic, err)
		}
		q := tp.list[0]
		if _, err := b.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &q.url,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}}); err != nil {
			return q.fail("ping", err)
		}
		return nil
	}
	if _, err := b.sqs.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(b.cfg.Prefix + "headroom-ping"), MaxResults: aws.Int32(1)}); err != nil {
		return fmt.Errorf("sns+sqs: ping: %w", err)
	}
	return nil
}

// Close stops the bus: receivers return ErrClosed, pending expiries are dropped (SQS's own
// visibility timeout returns those messages a second later), connections end. Queues and
// their messages stay in SQS.
func (b *Bus) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	b.stop()
	b.declareMu.Lock()
	tp := b.topo.Load()
	b.declareMu.Unlock()
	if tp != nil {
		for _, q := range tp.list {
			q.stopTimers()
		}
	}
	b.conns.CloseAll()
	return nil
}
