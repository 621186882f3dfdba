package dynamodb

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/headroom/headroom/system"
)

// DefaultTable is the table the store keeps requests in when the DSN names none.
const DefaultTable = "headroom-requests"

// DefaultOutboxShards is how many partitions the outbox index key is spread over.
const DefaultOutboxShards = 4

// Config is what a DSN says. Zero fields mean: the SDK's environment decides (Region,
// Endpoint) or the default applies.
type Config struct {
	Table        string
	Region       string
	Endpoint     string
	OutboxShards int
	// NoCreate refuses to create a missing table (for accounts where tables are managed
	// elsewhere); Open then fails if the table is not there.
	NoCreate bool
}

var tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// dsnParams are the DSN's keys, for the error that lists them.
var dsnParams = []string{"create", "endpoint", "outbox_shards", "region", "table"}

// ParseDSN reads a DSN of URL query parameters, every one optional:
//
//	table=headroom-requests&region=eu-west-1&endpoint=http://127.0.0.1:8000&outbox_shards=4&create=false
//
// A leading "dynamodb://" or "?" is allowed. "" means all defaults: table
// headroom-requests, region, endpoint and credentials from the SDK's standard
// environment (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB, AWS_ACCESS_KEY_ID, profiles, roles),
// table created when missing.
func ParseDSN(dsn string) (Config, error) {
	c := Config{Table: DefaultTable, OutboxShards: DefaultOutboxShards}
	raw := strings.TrimPrefix(strings.TrimPrefix(dsn, "dynamodb://"), "?")
	q, err := url.ParseQuery(raw)
	if err != nil {
		return c, fmt.Errorf("dsn %q: %v: %w", dsn, err, system.ErrInvalid)
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the first bad key named is the same every time
	for _, k := range keys {
		vs := q[k]
		if len(vs) != 1 {
			return c, fmt.Errorf("dsn: %s given %d times: %w", k, len(vs), system.ErrInvalid)
		}
		v := vs[0]
		switch k {
		case "table":
			if !tableName.MatchString(v) {
				return c, fmt.Errorf("dsn: table=%q: want 3..255 letters, digits, '_', '-' or '.': %w", v, system.ErrInvalid)
			}
			c.Table = v
		case "region":
			c.Region = v
		case "endpoint":
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return c, fmt.Errorf("dsn: endpoint=%q: want an http or https URL: %w", v, system.ErrInvalid)
			}
			c.Endpoint = v
		case "outbox_shards":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 64 {
				return c, fmt.Errorf("dsn: outbox_shards=%q: want 1..64: %w", v, system.ErrInvalid)
			}
			c.OutboxShards = n
		case "create":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return c, fmt.Errorf("dsn: create=%q: want true or false: %w", v, system.ErrInvalid)
			}
			c.NoCreate = !b
		default:
			return c, fmt.Errorf("dsn: unknown parameter %q (known: %s): %w", k, strings.Join(dsnParams, ", "), system.ErrInvalid)
		}
	}
	return c, nil
}
