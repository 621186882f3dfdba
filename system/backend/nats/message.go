package nats

import (
	"slices"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/headroom/headroom/system"
)

// encode turns a message into NATS headers: each attribute as a header of its name, the
// attribute order, the publish time, the FIFO group and deduplication id.
func encode(m *system.Message, sent time.Time) (natsgo.Header, error) {
	h := make(natsgo.Header, len(m.Attributes)+4)
	names := make([]string, 0, len(m.Attributes))
	for _, a := range m.Attributes {
		if err := checkAttr(a.Name, a.Value); err != nil {
			return nil, err
		}
		if _, dup := h[a.Name]; dup {
			continue // Attributes.Get sees the first one
		}
		h[a.Name] = []string{a.Value}
		names = append(names, a.Name)
	}
	if len(names) > 0 {
		h[hdrAttrs] = names
	}
	h[hdrSent] = []string{strconv.FormatInt(sent.UnixNano(), 10)}
	if m.GroupID != "" {
		h[hdrGroup] = []string{m.GroupID}
	}
	if m.DedupID != "" {
		h[hdrDedup] = []string{m.DedupID}
	}
	return h, nil
}

// decode turns a JetStream message back into a system.Delivery, without Receipt, Queue
// and ReceiveCount.
func decode(m *natsgo.Msg) system.Delivery {
	var out system.Delivery
	out.Body = m.Data
	h := m.Header
	if names, ok := h[hdrAttrs]; ok {
		out.Attributes = make(system.Attributes, 0, len(names))
		for _, n := range names {
			out.Attributes = append(out.Attributes, system.Attr{Name: n, Value: h.Get(n)})
		}
	} else {
		// A foreign publisher: every header it set is an attribute, in name order.
		for k, v := range h {
			if l := strings.ToLower(k); !strings.HasPrefix(l, "nats-") && !strings.HasPrefix(l, "hr-") && len(v) > 0 {
				out.Attributes = append(out.Attributes, system.Attr{Name: k, Value: v[0]})
			}
		}
		slices.SortFunc(out.Attributes, func(a, b system.Attr) int { return strings.Compare(a.Name, b.Name) })
	}
	out.GroupID = h.Get(hdrGroup)
	out.DedupID = h.Get(hdrDedup)
	if ns, err := strconv.ParseInt(h.Get(hdrSent), 10, 64); err == nil {
		out.SentAt = time.Unix(0, ns)
	} else if md, err := m.Metadata(); err == nil {
		out.SentAt = md.Timestamp
	}
	return out
}
