// Package nats is a system.Bus on NATS JetStream (github.com/nats-io/nats.go). It
// registers itself as "nats"; the DSN is a NATS URL (default nats://127.0.0.1:4222) of a
// server with JetStream enabled (tested with nats-server 2.9).
//
// Topology. The topic is a file-backed stream named after it, with work-queue retention (a
// message is deleted once acknowledged) over the subjects "<topic>.>". Each queue is the
// subject "<topic>.<queue>" with a durable pull consumer named after the queue, filtered
// on it, with explicit acks and AckWait = the visibility timeout: the server itself
// redelivers what is not acked in time, and counts deliveries (ReceiveCount is the ack
// subject's delivery count). A consumer filters on the subject only, so the filter
// policies are evaluated by the publisher: Publish sends one copy to the subject of every
// queue whose policy matches (one copy per queue however many of its subscriptions
// match), each acknowledged by the stream (PubAck) before Publish returns; a message
// matching nothing is dropped, as SNS does. Attributes travel as headers of their own
// names (so they must be valid header names and not start with "Nats-" or "Hr-"), their
// order in Hr-Attrs, the publish time in Hr-Sent.
//
// Receiving. Every pull request of a queue answers to one long-lived inbox of the bus,
// with at most one request out per consumer. A standard-mode Receive hands out what the
// inbox holds, then asks with a no_wait request for what is available now (the server ends
// it with a status, so "available" is exact), then leaves a standing request (batch one,
// no expiry) and waits; after the first message it tops up with another no_wait request,
// or, with a batching window, keeps a standing request out until the window ends. FIFO
// shards only get standing requests, since a no_wait request to a shard whose message is
// unacknowledged waits for it. Requests never expire because nats-server before 2.10.14
// counts a redelivery it hands to an expired waiting request as delivered and sends
// nothing (nats-server#5338), which costs that message a receive and a timeout. Messages
// are taken from the inbox only as Receive returns, so the visibility timeout starts when
// the caller gets them (an ack wait that started earlier is restarted with +WPI). A
// message a standing request brings in after its Receive returned stays in the inbox for
// the next Receive, its ack wait restarted while this bus keeps receiving the queue, and
// is handed back (-NAK) once it has not for a visibility timeout. Acks wait for the
// server's confirmation (AckSync), all of a batch in flight at once; a receipt is the ack
// subject, live until its visibility timeout ends, so a late or repeated Ack or Release
// fails with ErrNotFound. Release is -NAK with the delay. A reconnect forgets the requests
// (the server lost them) and wakes a waiting Receive to send new ones; the inbox
// subscription is restored by the client.
//
// Lost connections. A publish, an ack or a release that went out on a connection that then
// died gets no reply. Each waits 2 s for its reply, then is sent again (up to three times,
// within the caller's context): the client reconnects in a quarter of a second, so the
// second attempt goes out on the new connection. A message stored but whose PubAck was
// lost is stored twice (at-least-once; a FIFO copy is dropped by its Nats-Msg-Id), and an
// ack sent twice is harmless. TestConnectionLoss cuts every connection mid-stream.
//
// Dead letters. MaxDeliver stays unlimited and the bus dead-letters itself: a consumer that
// stops at MaxDeliver leaves the message in the stream with only the max-deliveries
// advisory, at most once, to say so, and a missed advisory would strand it for good. When
// the visibility timeout of a message's last allowed receive ends unacknowledged, the
// receiving bus moves it at once (like SQS); if that bus died, the server redelivers it
// and whichever Receive gets the delivery beyond MaxReceives moves it instead. Moving is
// publishing a copy to the dead-letter queue's subject and waiting for the stream's ack,
// then terminating the original: nothing is removed before its copy is stored, and the
// copy's Nats-Msg-Id (the original's stream sequence) makes the stream drop a second copy
// should a crash between the two steps repeat the move. So no message is lost.
//
// FIFO. A FIFO queue is split into shards (FIFOShards, 8 by default): subjects
// "<topic>.<queue>.<k>" with one consumer each, allowing one unacknowledged message
// (MaxAckPending 1), and the publisher picks k = hash(group) mod shards. The server
// enforces one message in flight per shard, hence per group, across every process, delivers
// a shard's next message only after the previous one is acked, and redelivers an unacked
// one before anything after it, so a group's order holds through redeliveries and dead
// letters (a dead letter goes to the dead-letter queue's shard of its group).
// Deduplication is the stream's: each copy carries Nats-Msg-Id "<dedup id>/<queue>" and
// the stream's duplicate window is the topology's deduplication window, in every process;
// the publisher also skips an id it published itself within the window, so an id repeated
// with other attributes is dropped too (topic-wide, within the process).
//
// Gaps against the interface: groups in one shard share its one slot, so at most
// FIFOShards groups are in flight at once; publishing to several queues is one publish per
// queue, so a failed Publish may have reached some of them (the interface allows it, and a
// retry is deduplicated in FIFO mode); a message handed back from the inbox, or left on the
// wire when a bus closes, counts as a delivery (the server counts what it sent).
package nats
