package rabbitmq

import (
	"fmt"
	"slices"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/headroom/headroom/system"
)

// encode turns a message into AMQP headers: each attribute as a string header (what the
// headers exchange matches), the attribute order, the publish time, the FIFO group and
// deduplication id, and a void absence marker for every attribute in absent that m lacks.
func encode(m *system.Message, absent []string, sent time.Time) (amqp.Table, error) {
	h := make(amqp.Table, len(m.Attributes)+len(absent)+4)
	names := make([]any, 0, len(m.Attributes))
	for _, a := range m.Attributes {
		if err := checkAttrName(a.Name); err != nil {
			return nil, err
		}
		if _, dup := h[a.Name]; dup {
			continue // Attributes.Get sees the first one; so does the broker
		}
		h[a.Name] = a.Value
		names = append(names, a.Name)
	}
	h[hdrAttrs] = names
	for _, name := range absent {
		if _, ok := m.Attributes.Get(name); !ok {
			h[absentPrefix+name] = nil
		}
	}
	h[hdrSent] = sent.UnixNano()
	if m.GroupID != "" {
		h[hdrGroup] = m.GroupID
	}
	if m.DedupID != "" {
		h[hdrDedup] = m.DedupID
	}
	return h, nil
}

// decode turns a delivery back into a system.Delivery, without Receipt and Queue.
func decode(d *amqp.Delivery) system.Delivery {
	var out system.Delivery
	out.Body = d.Body
	h := d.Headers
	if names, ok := h[hdrAttrs].([]any); ok {
		out.Attributes = make(system.Attributes, 0, len(names))
		for _, n := range names {
			name, _ := n.(string)
			out.Attributes = append(out.Attributes, system.Attr{Name: name, Value: headerString(h[name])})
		}
	} else {
		// A foreign publisher: every header it set is an attribute, in name order.
		for k, v := range h {
			if !strings.HasPrefix(k, "x-") && !strings.HasPrefix(k, absentPrefix) {
				out.Attributes = append(out.Attributes, system.Attr{Name: k, Value: headerString(v)})
			}
		}
		slices.SortFunc(out.Attributes, func(a, b system.Attr) int { return strings.Compare(a.Name, b.Name) })
	}
	out.GroupID = headerString(h[hdrGroup])
	out.DedupID = headerString(h[hdrDedup])
	if ns, ok := headerInt(h[hdrSent]); ok {
		out.SentAt = time.Unix(0, ns)
	} else {
		out.SentAt = d.Timestamp
	}
	out.ReceiveCount = 1
	if n, ok := headerInt(h[hdrDelivery]); ok {
		out.ReceiveCount = int(n) + 1
	}
	return out
}

func headerString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	default:
		return fmt.Sprint(x)
	}
}

func headerInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case int:
		return int64(x), true
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	}
	return 0, false
}
