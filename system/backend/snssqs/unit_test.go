package snssqs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
)

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want Config
		err  string
	}{
		{dsn: "", want: Config{}},
		{dsn: "prefix=prod-&region=eu-west-1&endpoint=http://127.0.0.1:4566&wait=5s",
			want: Config{Prefix: "prod-", Region: "eu-west-1", SNSEndpoint: "http://127.0.0.1:4566", SQSEndpoint: "http://127.0.0.1:4566", Wait: 5 * time.Second}},
		{dsn: "sns+sqs://?sns_endpoint=http://a:1&endpoint=http://b:2",
			want: Config{SNSEndpoint: "http://a:1", SQSEndpoint: "http://b:2"}},
		{dsn: "?sqs_endpoint=https://sqs.example:443", want: Config{SQSEndpoint: "https://sqs.example:443"}},
		{dsn: "prefix=a.b", err: `prefix="a.b"`},
		{dsn: "wait=30s", err: "wait="},
		{dsn: "wait=1500ms", err: "wait="},
		{dsn: "endpoint=localhost:4566", err: "endpoint="},
		{dsn: "queue=x", err: `unknown parameter "queue"`},
		{dsn: "region=a&region=b", err: "region given 2 times"},
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

func TestNames(t *testing.T) {
	if got := queueName("p-", "topic", "approved", true); got != "p-topic-approved.fifo" {
		t.Fatalf("queue name %q", got)
	}
	long := strings.Repeat("t", 64)
	a, b := queueName("", long, "approved-by-the-board", true), queueName("", long, "rejected-by-the-board", true)
	if len(a) != maxQueueName || len(b) != maxQueueName || a == b || !strings.HasSuffix(a, ".fifo") {
		t.Fatalf("long names %q and %q: want 80 characters, distinct, .fifo kept", a, b)
	}
	if a != queueName("", long, "approved-by-the-board", true) {
		t.Fatalf("a long name is not stable")
	}
	if got := dedupID(strings.Repeat("x", 128)); len(got) != 128 {
		t.Fatalf("a 128-character dedup id was changed")
	}
	if got := dedupID(strings.Repeat("x", 140) + ":1"); len(got) != 64 || got == dedupID(strings.Repeat("x", 140)+":2") {
		t.Fatalf("long dedup ids: %q", got)
	}
}

func TestBackstop(t *testing.T) {
	for _, tc := range []struct{ vis, want time.Duration }{
		{40 * time.Millisecond, 2 * time.Second},
		{time.Second, 2 * time.Second},
		{1500 * time.Millisecond, 3 * time.Second},
		{30 * time.Second, 31 * time.Second},
	} {
		if got := backstopFor(tc.vis); got != tc.want {
			t.Errorf("backstopFor(%v) = %v, want %v", tc.vis, got, tc.want)
		}
	}
}

func TestSQSText(t *testing.T) {
	for body, want := range map[string]bool{
		"plain": true, "tab\tnl\ncr\r": true, "€ü": true, "\U0001F600": true,
		"nul\x00": false, "bell\a": false, "\xff": false, "\xef\xbf\xbe": false, // U+FFFE
	} {
		if got := sqsText([]byte(body)); got != want {
			t.Errorf("sqsText(%q) = %v, want %v", body, got, want)
		}
	}
}
