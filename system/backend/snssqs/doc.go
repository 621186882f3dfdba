// Package snssqs is a system.Bus on Amazon SNS and SQS (aws-sdk-go-v2), registered as
// "sns+sqs": the serverless design's topic with one queue per state.
//
// Declare creates the topic, one queue per QueueSpec (named prefix+topic-queue, ".fifo"
// in FIFO mode, hashed to SQS's 80 characters when longer), each queue's RedrivePolicy to
// its dead-letter queue (maxReceiveCount = MaxReceives) and access policy for the topic,
// and one subscription per subscribed queue with RawMessageDelivery and the filter policy
// on message attributes (system.FilterPolicy.SNSJSON: any-of as a value list, exists as
// {"exists":bool}). In FIFO mode the topic and queues are FIFO with content-based
// deduplication off: the group id is the MessageGroupId, the dedup id the
// MessageDeduplicationId (hashed when over 128 characters; a fresh one when empty), and
// SQS's deduplication window is fixed at five minutes, so any other DedupWindow is refused.
//
// Publish is one SNS Publish with the attributes as String message attributes. Bodies go
// as text when SQS accepts them and in base64 (marked by a "headroom-body" attribute the
// receiver strips) when not. Receive is SQS ReceiveMessage with long polling in whole
// seconds as far as the context's deadline and the batching window allow, short polls for
// the last fraction, at most ten messages per call and more calls for bigger batches. A
// caller that gives up mid-poll returns at once; the poll runs to its end and what it
// brings is made visible again, rather than hidden for a timeout. Ack is
// DeleteMessageBatch, Release ChangeMessageVisibility, QueueStats GetQueueAttributes'
// approximate counts.
//
// The visibility timeout is the bus's own (lease.go): SQS counts it in whole seconds and
// dead-letters a message only when it is received once too often, while the contract
// wants any duration and the move when the last receive times out. The bus times each
// received batch and, at the timeout, makes what is unacknowledged visible again, or sends
// it to the dead-letter queue after its last allowed receive; SQS holds the messages a
// second longer as the backstop for a consumer that dies, and its redrive policy stays
// the backstop for dead-lettering. So a live consumer sees exact timeouts, and a dead one
// costs at most a second or two more than specified.
//
// Configuration comes from the SDK's standard environment (AWS_REGION, credentials,
// AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_SQS), so the same binary runs against AWS or the
// fauxqs emulator; the DSN may override (see ParseDSN).
//
// Emulator gaps met in the tests (fauxqs 1.9.2): ListDeadLetterSourceQueues is missing
// (not used); queue and topic policies are stored but not enforced; deduplication is per
// queue rather than per topic as in SNS FIFO, which gives the same result for one topic.
package snssqs
