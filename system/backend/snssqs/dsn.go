package snssqs

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/headroom/headroom/system"
)

// MaxWait is SQS's longest long poll (WaitTimeSeconds 20).
const MaxWait = 20 * time.Second

// Config is what a DSN says. Zero fields mean: the SDK's environment decides (Region,
// endpoints) or the default applies.
type Config struct {
	// Prefix starts every topic and queue name, so deployments (or test runs) can share
	// an account and region.
	Prefix      string
	Region      string
	SNSEndpoint string
	SQSEndpoint string
	// Wait caps one long poll; 0 means MaxWait. Shorter polls notice a closed bus sooner
	// at the price of more (billed) empty receives.
	Wait time.Duration
}

var prefixSyntax = regexp.MustCompile(`^[A-Za-z0-9_-]{0,40}$`)

var dsnParams = []string{"endpoint", "prefix", "region", "sns_endpoint", "sqs_endpoint", "wait"}

// ParseDSN reads a DSN of URL query parameters, every one optional:
//
//	prefix=prod-&region=eu-west-1&endpoint=http://127.0.0.1:4566&wait=20s
//
// endpoint sets both services' endpoints (fauxqs serves them on one port); sns_endpoint
// and sqs_endpoint set one each. A leading "sns+sqs://" or "?" is allowed. "" means all
// defaults: no prefix, region, endpoints and credentials from the SDK's standard
// environment (AWS_REGION, AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_SQS, AWS_ACCESS_KEY_ID,
// profiles, roles), 20 s long polls.
func ParseDSN(dsn string) (Config, error) {
	var c Config
	raw := strings.TrimPrefix(strings.TrimPrefix(dsn, "sns+sqs://"), "?")
	q, err := url.ParseQuery(raw)
	if err != nil {
		return c, fmt.Errorf("dsn %q: %v: %w", dsn, err, system.ErrInvalid)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := q[k]
		if len(vs) != 1 {
			return c, fmt.Errorf("dsn: %s given %d times: %w", k, len(vs), system.ErrInvalid)
		}
		v := vs[0]
		switch k {
		case "prefix":
			if !prefixSyntax.MatchString(v) {
				return c, fmt.Errorf("dsn: prefix=%q: want up to 40 letters, digits, '_' or '-': %w", v, system.ErrInvalid)
			}
			c.Prefix = v
		case "region":
			c.Region = v
		case "endpoint", "sns_endpoint", "sqs_endpoint":
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return c, fmt.Errorf("dsn: %s=%q: want an http or https URL: %w", k, v, system.ErrInvalid)
			}
			if k != "sqs_endpoint" && (k == "sns_endpoint" || c.SNSEndpoint == "") {
				c.SNSEndpoint = v
			}
			if k != "sns_endpoint" && (k == "sqs_endpoint" || c.SQSEndpoint == "") {
				c.SQSEndpoint = v
			}
		case "wait":
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Second || d > MaxWait || d%time.Second != 0 {
				return c, fmt.Errorf("dsn: wait=%q: want whole seconds from 1s to 20s: %w", v, system.ErrInvalid)
			}
			c.Wait = d
		default:
			return c, fmt.Errorf("dsn: unknown parameter %q (known: %s): %w", k, strings.Join(dsnParams, ", "), system.ErrInvalid)
		}
	}
	return c, nil
}
