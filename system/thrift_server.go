package system

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/headroom/headroom/system/thrift/headroomrpc"
)

// ThriftServer serves a ThriftHandler over TCP with the framed transport and the binary
// protocol. It is a small accept loop rather than thrift.TSimpleServer because that one
// cannot tell an idle pooled connection from a busy one when stopping: it either waits
// forever for clients to hang up or cuts calls off after a process-wide timeout. Here
// Shutdown refuses new calls, waits for the running ones, then closes every connection.
type ThriftServer struct {
	handler *ThriftHandler
	conf    *thrift.TConfiguration

	// base is the context of every call; Shutdown cancels it when the drain deadline passes
	// so that calls still running see their context end.
	base   context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewThriftServer returns a server for h; Serve starts it on a listener.
func NewThriftServer(h *ThriftHandler) *ThriftServer {
	base, cancel := context.WithCancel(context.Background())
	return &ThriftServer{handler: h, conf: thriftConf(), conns: map[net.Conn]struct{}{},
		base: base, cancel: cancel}
}

// thriftConf is shared by server and client: both ends must agree on framing and limits.
func thriftConf() *thrift.TConfiguration {
	return &thrift.TConfiguration{
		MaxFrameSize:       DefaultMaxBodyBytes * 4,
		ConnectTimeout:     5 * time.Second,
		TBinaryStrictRead:  thrift.BoolPtr(true),
		TBinaryStrictWrite: thrift.BoolPtr(true),
	}
}

// Serve accepts connections on ln until Shutdown; it returns nil after Shutdown.
func (s *ThriftServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.ln = ln
	s.mu.Unlock()
	for {
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return err
		}
		if !s.track(conn) {
			conn.Close()
			return nil
		}
		s.wg.Add(1)
		go s.serveConn(conn)
	}
}

func (s *ThriftServer) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *ThriftServer) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, conn)
		s.mu.Unlock()
		conn.Close()
	}()
	trans := thrift.NewTFramedTransportConf(thrift.NewTSocketFromConnConf(conn, s.conf), s.conf)
	prot := thrift.NewTBinaryProtocolConf(trans, s.conf)
	proc := headroomrpc.NewRequestServiceProcessor(s.handler)
	for {
		ok, err := proc.Process(s.base, prot, prot)
		// A declared ServiceError comes back as err with ok true: the reply was written and
		// the connection is fine. Transport and protocol failures end the connection.
		if err != nil && errors.As(err, new(thrift.TTransportException)) {
			return
		}
		if !ok {
			return
		}
	}
}

// Shutdown stops accepting connections and calls, waits until the calls being served
// finish or ctx ends, then closes every connection. It returns how many calls were still
// running when it gave up (0 after a clean drain).
func (s *ThriftServer) Shutdown(ctx context.Context) int {
	s.mu.Lock()
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
	}
	s.mu.Unlock()

	left := 0
	if s.handler.inflight.close(ctx) != nil {
		left = int(s.handler.inflight.v.Load() &^ gateClosing)
	}
	s.cancel()

	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	if left == 0 {
		// Every call has returned, so every connection goroutine ends on its closed socket.
		s.wg.Wait()
	}
	return left
}
