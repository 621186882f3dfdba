// Package netfault breaks the network under a backend's client in tests: Proxy carries
// its connections to the server and cuts them all at once, as a server restart or a
// network failure would.
package netfault

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards loopback TCP connections to a server, and cuts them all at once as a
// server restart or a network failure would, while it goes on accepting new ones: a
// client connected through it sees its connections die and must dial again.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	live   map[net.Conn]net.Conn // client side → server side, while both are open
	wg     sync.WaitGroup
}

// NewProxy listens on a free loopback port and forwards to target (host:port) until the
// test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, live: map[net.Conn]net.Conn{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.live[c] = s
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s, c)
		go p.pipe(c, c, s)
	}
}

// pipe copies from src to dst, and when either side ends closes both and forgets the
// pair (client c), so that Cut counts only connections still open.
func (p *Proxy) pipe(c, dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.live, c)
	p.mu.Unlock()
}

// Cut closes every connection the proxy carries, both sides, and returns how many client
// connections were open and cut.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	live := p.live
	p.live = map[net.Conn]net.Conn{}
	p.mu.Unlock()
	for c, s := range live {
		_ = c.Close()
		_ = s.Close()
	}
	return len(live)
}
