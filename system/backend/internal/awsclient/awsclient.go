package awsclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// maxIdlePerHost replaces the SDK's 10 idle connections per host, which would make a
// pipeline of a few dozen concurrent callers open and close connections all the time.
const maxIdlePerHost = 256

// LoadConfig reads the SDK's standard configuration: AWS_REGION, credentials (environment,
// shared files, SSO, roles), AWS_ENDPOINT_URL_<SERVICE>, AWS_CA_BUNDLE. A non-empty
// region wins over the environment's. No region at all is an error saying where to set
// one.
func LoadConfig(ctx context.Context, region string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return cfg, fmt.Errorf("AWS configuration: no region: set AWS_REGION, or region= in the DSN")
	}
	return cfg, nil
}

// Conns tracks the connections of one backend's clients so that its Close can end them:
// the SDK copies its transport for every client and keeps the copies to itself, so the
// dialer is the one place every connection passes.
type Conns struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// NewConns returns an empty tracker.
func NewConns() *Conns { return &Conns{conns: map[net.Conn]struct{}{}} }

// Tune is a service client option (pass it to NewFromConfig as func(o *Options) {
// o.HTTPClient = conns.Tune(o.HTTPClient) }): more idle connections per host, and every
// connection tracked. A client that is not the SDK's buildable one is returned as it is.
func (c *Conns) Tune(hc aws.HTTPClient) aws.HTTPClient {
	b, ok := hc.(*awshttp.BuildableClient)
	if !ok {
		return hc
	}
	return b.WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 2 * maxIdlePerHost
		tr.MaxIdleConnsPerHost = maxIdlePerHost
		dial := tr.DialContext
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return c.add(conn)
		}
	})
}

func (c *Conns) add(conn net.Conn) (net.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		conn.Close()
		return nil, net.ErrClosed
	}
	tc := &trackedConn{Conn: conn, owner: c}
	c.conns[tc] = struct{}{}
	return tc, nil
}

// CloseAll ends every connection, idle or busy (a request on one fails), and refuses new
// ones.
func (c *Conns) CloseAll() {
	c.mu.Lock()
	c.closed = true
	conns := c.conns
	c.conns = map[net.Conn]struct{}{}
	c.mu.Unlock()
	for conn := range conns {
		conn.(*trackedConn).Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	owner *Conns
	once  sync.Once
}

func (t *trackedConn) Close() error {
	t.once.Do(func() {
		t.owner.mu.Lock()
		delete(t.owner.conns, t)
		t.owner.mu.Unlock()
	})
	return t.Conn.Close()
}
