package snssqs

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/headroom/headroom/system"
)

// bodyAttr marks a body the bus had to encode: SNS messages are text, and SQS takes only
// some characters, so a body that is not such text travels in base64 ("base64"), and an
// empty one, which SNS refuses, as "-" ("empty"). The receiver decodes and drops the mark.
const bodyAttr = "headroom-body"

// sqsText reports whether b is UTF-8 made only of the characters SQS accepts: #x9 #xA #xD,
// #x20 to #xD7FF, #xE000 to #xFFFD, #x10000 to #x10FFFF.
func sqsText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 || r >= 0xD800 && r < 0xE000 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

// encodeBody returns the text to publish for body and the mark, if any.
func encodeBody(body []byte) (text, mark string) {
	switch {
	case len(body) == 0:
		return "-", "empty"
	case sqsText(body):
		return string(body), ""
	}
	return base64.StdEncoding.EncodeToString(body), "base64"
}

// snsAttributes converts the message's attributes (and the body mark) for SNS Publish.
func snsAttributes(attrs system.Attributes, mark string) (map[string]snstypes.MessageAttributeValue, error) {
	out := make(map[string]snstypes.MessageAttributeValue, len(attrs)+1)
	for _, a := range attrs {
		if a.Name == bodyAttr {
			return nil, fmt.Errorf("attribute %q is the bus's own: %w", a.Name, system.ErrInvalid)
		}
		if a.Value == "" {
			// SNS refuses empty attribute values; silently dropping it would change routing.
			return nil, fmt.Errorf("attribute %q: SNS does not take an empty value: %w", a.Name, system.ErrInvalid)
		}
		v := a.Value
		out[a.Name] = snstypes.MessageAttributeValue{DataType: &dataTypeString, StringValue: &v}
	}
	if mark != "" {
		m := mark
		out[bodyAttr] = snstypes.MessageAttributeValue{DataType: &dataTypeString, StringValue: &m}
	}
	return out, nil
}

var dataTypeString = "String"

// delivery converts a received SQS message.
func delivery(queue string, m *types.Message) (system.Delivery, error) {
	d := system.Delivery{Queue: queue}
	if m.ReceiptHandle != nil {
		d.Receipt = *m.ReceiptHandle
	}
	var mark string
	if len(m.MessageAttributes) > 0 {
		d.Attributes = make(system.Attributes, 0, len(m.MessageAttributes))
		for name, v := range m.MessageAttributes {
			if v.StringValue == nil {
				continue // binary attributes: not ours
			}
			if name == bodyAttr {
				mark = *v.StringValue
				continue
			}
			d.Attributes = append(d.Attributes, system.Attr{Name: name, Value: *v.StringValue})
		}
		// SQS hands attributes over as a map: sort them, so deliveries are deterministic.
		slices.SortFunc(d.Attributes, func(a, b system.Attr) int {
			switch {
			case a.Name < b.Name:
				return -1
			case a.Name > b.Name:
				return 1
			}
			return 0
		})
	}
	var body string
	if m.Body != nil {
		body = *m.Body
	}
	switch mark {
	case "":
		d.Body = []byte(body)
	case "empty":
		d.Body = []byte{}
	case "base64":
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return d, fmt.Errorf("message %s: body marked base64: %w", str(m.MessageId), err)
		}
		d.Body = b
	default:
		return d, fmt.Errorf("message %s: unknown body encoding %q", str(m.MessageId), mark)
	}
	sys := m.Attributes
	d.GroupID = sys[string(types.MessageSystemAttributeNameMessageGroupId)]
	d.DedupID = sys[string(types.MessageSystemAttributeNameMessageDeduplicationId)]
	if n, err := strconv.Atoi(sys[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		d.ReceiveCount = n
	}
	if ms, err := strconv.ParseInt(sys[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		d.SentAt = time.UnixMilli(ms)
	}
	return d, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
