package nats

import (
	"strconv"
	"strings"
)

// ackMeta is what a JetStream ack subject says about a delivery.
type ackMeta struct {
	consumer  string
	delivered uint64 // deliveries of this message so far, this one included
	streamSeq uint64
}

// parseAck reads an ack subject, in the original form
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>
// or the newer one with a domain and an account hash after "$JS.ACK.".
func parseAck(reply string) (ackMeta, bool) {
	if !strings.HasPrefix(reply, "$JS.ACK.") {
		return ackMeta{}, false
	}
	t := strings.Split(reply, ".")
	var consumer, delivered, sseq string
	switch {
	case len(t) == 9:
		consumer, delivered, sseq = t[3], t[4], t[5]
	case len(t) >= 11:
		consumer, delivered, sseq = t[5], t[6], t[7]
	default:
		return ackMeta{}, false
	}
	d, err1 := strconv.ParseUint(delivered, 10, 64)
	s, err2 := strconv.ParseUint(sseq, 10, 64)
	if err1 != nil || err2 != nil {
		return ackMeta{}, false
	}
	return ackMeta{consumer: consumer, delivered: d, streamSeq: s}, true
}
