package system

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/headroom/headroom/system/thrift/headroomrpc"
)

// ThriftClient is a CRUD that calls a ThriftServer: with it behind the HTTP API the
// process runs the design's second architecture, web server → Thrift microservice → store.
// It is safe for concurrent use: each call borrows a connection from a pool (a Thrift
// connection carries one call at a time) and returns it unless the call broke it.
type ThriftClient struct {
	addr string
	conf *thrift.TConfiguration
	idle chan *thriftConn

	mu     sync.Mutex
	closed bool
}

var _ CRUD = (*ThriftClient)(nil)

type thriftConn struct {
	trans  thrift.TTransport
	rpc    *headroomrpc.RequestServiceClient
	reused bool // taken from the pool: the server may have closed it since
}

// DefaultThriftIdleConns is how many idle connections a ThriftClient keeps; calls beyond
// it still proceed on fresh connections, which are closed afterwards.
const DefaultThriftIdleConns = 64

// NewThriftClient returns a client for the server at addr (host:port). It connects lazily,
// so the server may start after the client.
func NewThriftClient(addr string, idleConns int) *ThriftClient {
	if idleConns <= 0 {
		idleConns = DefaultThriftIdleConns
	}
	return &ThriftClient{addr: addr, conf: thriftConf(), idle: make(chan *thriftConn, idleConns)}
}

func (c *ThriftClient) get(ctx context.Context) (*thriftConn, error) {
	select {
	case tc := <-c.idle:
		tc.reused = true
		return tc, nil
	default:
	}
	return c.dial(ctx)
}

func (c *ThriftClient) dial(ctx context.Context) (*thriftConn, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, fmt.Errorf("thrift client %s: %w", c.addr, ErrClosed)
	}
	var d net.Dialer
	d.Timeout = c.conf.ConnectTimeout
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		// A service that cannot be reached is unavailable, not an internal error: the API
		// answers 503 and a load balancer tries elsewhere.
		return nil, fmt.Errorf("thrift client: dial %s: %v: %w", c.addr, err, ErrClosed)
	}
	trans := thrift.NewTFramedTransportConf(thrift.NewTSocketFromConnConf(conn, c.conf), c.conf)
	return &thriftConn{
		trans: trans,
		rpc:   headroomrpc.NewRequestServiceClientFactory(trans, thrift.NewTBinaryProtocolFactoryConf(c.conf)),
	}, nil
}

func (c *ThriftClient) put(tc *thriftConn) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if !closed {
		select {
		case c.idle <- tc:
			return
		default:
		}
	}
	tc.trans.Close()
}

// call runs fn on a pooled connection. A ServiceError becomes an error wrapping its
// sentinel and the connection goes back to the pool; any other error (transport,
// protocol, application exception) may have left the connection mid-message, so it is
// closed. A read that fails on a reused connection with a transport error is tried once
// more on a fresh one: the service may have restarted since the connection was pooled.
// Writes are not, since the first attempt may have been applied.
func (c *ThriftClient) call(ctx context.Context, op string, idempotent bool, fn func(*headroomrpc.RequestServiceClient) error) error {
	tc, err := c.get(ctx)
	if err != nil {
		return err
	}
	err = c.callOn(ctx, tc, op, fn)
	if err != nil && idempotent && tc.reused && errors.Is(err, errTransport) {
		if tc, err = c.dial(ctx); err != nil {
			return err
		}
		err = c.callOn(ctx, tc, op, fn)
	}
	return err
}

// errTransport marks transport failures for the retry; it is wrapped beside ErrClosed.
var errTransport = errors.New("transport")

func (c *ThriftClient) callOn(ctx context.Context, tc *thriftConn, op string, fn func(*headroomrpc.RequestServiceClient) error) error {
	// Thrift's socket ignores contexts, so the context's end closes the connection, which
	// unblocks the call; such a connection is not reused.
	stop := context.AfterFunc(ctx, func() { tc.trans.Close() })
	err := fn(tc.rpc)
	if !stop() {
		if err == nil {
			return nil
		}
		return fmt.Errorf("thrift %s: %w", op, context.Cause(ctx))
	}
	var se *headroomrpc.ServiceError
	switch {
	case err == nil:
		c.put(tc)
		return nil
	case errors.As(err, &se):
		c.put(tc)
		return fromServiceError(se)
	default:
		tc.trans.Close()
		var te thrift.TTransportException
		if errors.As(err, &te) {
			return fmt.Errorf("thrift %s: %v: %w", op, err, errors.Join(ErrClosed, errTransport))
		}
		return fmt.Errorf("thrift %s: %w", op, err)
	}
}

// Get implements Reader.
func (c *ThriftClient) Get(ctx context.Context, id string) (Request, error) {
	var out Request
	err := c.call(ctx, "get", true, func(rpc *headroomrpc.RequestServiceClient) error {
		w, err := rpc.Get(ctx, id)
		if err == nil {
			out = fromWire(w)
		}
		return err
	})
	return out, err
}

// List implements Reader.
func (c *ThriftClient) List(ctx context.Context, cursor string, limit int) (Page, error) {
	in := &headroomrpc.ListInput{}
	if cursor != "" {
		in.Cursor = &cursor
	}
	if limit > 0 {
		l := int32(min(limit, 1<<30))
		in.Limit = &l
	}
	var out Page
	err := c.call(ctx, "list", true, func(rpc *headroomrpc.RequestServiceClient) error {
		p, err := rpc.ListRequests(ctx, in)
		if err != nil {
			return err
		}
		out.Items = make([]Request, len(p.Items))
		for i, w := range p.Items {
			out.Items[i] = fromWire(w)
		}
		out.Next = p.GetNextCursor()
		return nil
	})
	return out, err
}

// Create implements Writer.
func (c *ThriftClient) Create(ctx context.Context, r Request) (Request, error) {
	in := &headroomrpc.CreateInput{ID: &r.ID, State: r.State, Payload: r.Payload}
	var out Request
	err := c.call(ctx, "create", false, func(rpc *headroomrpc.RequestServiceClient) error {
		w, err := rpc.Create(ctx, in)
		if err == nil {
			out = fromWire(w)
		}
		return err
	})
	return out, err
}

// Update implements Writer.
func (c *ThriftClient) Update(ctx context.Context, r Request) (Request, error) {
	in := &headroomrpc.UpdateInput{ID: r.ID, Version: r.Version, State: r.State, Payload: r.Payload}
	var out Request
	err := c.call(ctx, "update", false, func(rpc *headroomrpc.RequestServiceClient) error {
		w, err := rpc.Update(ctx, in)
		if err == nil {
			out = fromWire(w)
		}
		return err
	})
	return out, err
}

// Delete implements Writer.
func (c *ThriftClient) Delete(ctx context.Context, id string, version int64) error {
	return c.call(ctx, "remove", false, func(rpc *headroomrpc.RequestServiceClient) error {
		return rpc.Remove(ctx, id, version)
	})
}

// Close closes the idle connections; calls in progress finish and close theirs.
func (c *ThriftClient) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	for {
		select {
		case tc := <-c.idle:
			tc.trans.Close()
		default:
			return nil
		}
	}
}

// Ping checks that the service can be reached, for /readyz: it borrows (or opens) a
// connection and returns it to the pool.
func (c *ThriftClient) Ping(ctx context.Context) error {
	tc, err := c.get(ctx)
	if err != nil {
		return err
	}
	c.put(tc)
	return nil
}
