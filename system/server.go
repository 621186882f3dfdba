package system

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Server is the whole system in one process, as `headroom serve` runs it: the backends,
// the pipeline and its processors, the Thrift service and the HTTP API, with one
// Prometheus registry behind /metrics. Its lifecycle is NewServer (open and bind, so
// configuration and port errors surface before anything runs), Start, then Shutdown —
// or Run, which does both around a context that a signal cancels.
type Server struct {
	cfg      ServerConfig
	log      *slog.Logger
	pipeOpts []PipelineOption
	registry *prometheus.Registry

	store    Store
	bus      Bus
	pipeline *Pipeline // nil when the API calls a ThriftUpstream

	api      *API
	http     *http.Server
	httpLn   net.Listener
	thrift   *ThriftServer
	thriftLn net.Listener
	client   *ThriftClient // the API's, when it goes through Thrift

	serveErr chan error
}

// ServerOption configures a Server beyond its ServerConfig.
type ServerOption func(*Server)

// WithServerLogger logs the server's life and internal errors to l (default slog.Default()).
func WithServerLogger(l *slog.Logger) ServerOption {
	return func(s *Server) { s.log = l }
}

// WithPipelineOptions passes options to the pipeline, e.g. WithWorkFunc.
func WithPipelineOptions(opts ...PipelineOption) ServerOption {
	return func(s *Server) { s.pipeOpts = append(s.pipeOpts, opts...) }
}

// NewServer opens the backends, builds the pipeline, the Thrift service and the API, and
// binds the listeners. Nothing is served until Start. On error everything opened so far
// is closed again.
func NewServer(ctx context.Context, cfg ServerConfig, opts ...ServerOption) (_ *Server, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: slog.Default(), registry: prometheus.NewRegistry(), serveErr: make(chan error, 2)}
	for _, o := range opts {
		o(s)
	}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	states := cfg.Pipeline.States
	var crud CRUD
	var ready func(context.Context) error
	if cfg.ThriftUpstream == "" {
		if s.store, err = OpenStore(ctx, cfg.Store, cfg.StoreDSN); err != nil {
			return nil, err
		}
		if s.bus, err = OpenBus(ctx, cfg.Bus, cfg.BusDSN); err != nil {
			return nil, err
		}
		if s.pipeline, err = NewPipeline(s.store, s.bus, cfg.Pipeline, s.pipeOpts...); err != nil {
			return nil, err
		}
		states = s.pipeline.Config().States
		s.registry.MustRegister(s.pipeline.Collectors()...)
		crud, ready = s.pipeline, s.pipeline.Ready
	}
	if states == nil {
		states = DefaultStates
	}

	if cfg.ThriftAddr != "" {
		if s.thriftLn, err = net.Listen("tcp", cfg.ThriftAddr); err != nil {
			return nil, fmt.Errorf("thrift service: %w", err)
		}
		s.thrift = NewThriftServer(NewThriftHandler(s.pipeline, states))
	}
	if cfg.APIViaThrift {
		addr := cfg.ThriftUpstream
		if addr == "" {
			addr = s.thriftLn.Addr().String()
		}
		s.client = NewThriftClient(addr, 0)
		crud = s.client
		if ready == nil {
			ready = s.client.Ping
		}
	}

	s.api = NewAPI(crud,
		WithStates(states),
		WithAdminTokens(cfg.AdminTokens...),
		WithReaderTokens(cfg.ReaderTokens...),
		WithThrottle(cfg.ThrottleRPS, cfg.ThrottleBurst),
		WithMaxBodyBytes(cfg.MaxBodyBytes),
		WithRegistry(s.registry),
		WithReadyCheck(ready),
		WithLogger(s.log),
	)
	s.api.Drain() // until Start has the processors running
	if s.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("http api: %w", err)
	}
	s.http = &http.Server{
		Handler:           s.api,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// HTTPAddr is the address the API listens on (useful with port 0).
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// ThriftAddr is the address the Thrift service listens on, or "" when there is none.
func (s *Server) ThriftAddr() string {
	if s.thriftLn == nil {
		return ""
	}
	return s.thriftLn.Addr().String()
}

// Pipeline returns the pipeline, nil when the API calls a remote Thrift service.
func (s *Server) Pipeline() *Pipeline { return s.pipeline }

// Registry is the registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Start starts the processors, then the Thrift service and the API, and opens intake.
func (s *Server) Start(ctx context.Context) error {
	if s.pipeline != nil {
		if err := s.pipeline.Start(ctx); err != nil {
			return err
		}
	}
	if s.thrift != nil {
		go func() {
			if err := s.thrift.Serve(s.thriftLn); err != nil {
				s.serveErr <- fmt.Errorf("thrift service: %w", err)
			}
		}()
	}
	go func() {
		if err := s.http.Serve(s.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.serveErr <- fmt.Errorf("http api: %w", err)
		}
	}()
	s.api.Accept()
	s.log.Info("serving", "http", s.HTTPAddr(), "thrift", s.ThriftAddr(), "api_via_thrift", s.cfg.APIViaThrift,
		"store", s.cfg.Store, "bus", s.cfg.Bus)
	return nil
}

// ServerReport is what a shutdown left undone, front to back.
type ServerReport struct {
	// HTTPForced: the API's in-flight requests did not finish before the deadline and their
	// connections were closed.
	HTTPForced bool
	// ThriftCallsLeft counts Thrift calls still running at the deadline.
	ThriftCallsLeft int
	// Pipeline is the pipeline's own report (zero when there is no local pipeline).
	Pipeline ShutdownReport
}

// Clean reports whether nothing was left undone.
func (r ServerReport) Clean() bool {
	return !r.HTTPForced && r.ThriftCallsLeft == 0 && (r.Pipeline.Elapsed == 0 || r.Pipeline.Drained)
}

func (r ServerReport) String() string {
	var parts []string
	if r.HTTPForced {
		parts = append(parts, "http: in-flight requests cut off")
	}
	if r.ThriftCallsLeft > 0 {
		parts = append(parts, fmt.Sprintf("thrift: %d calls cut off", r.ThriftCallsLeft))
	}
	if r.Pipeline.Elapsed > 0 {
		parts = append(parts, "pipeline: "+r.Pipeline.String())
	}
	if len(parts) == 0 {
		return "nothing to drain"
	}
	return strings.Join(parts, "; ")
}

// Shutdown stops intake and drains front to back within ctx's deadline: /readyz turns
// 503 and changes are refused; the API finishes the requests it is serving; the Thrift
// service finishes its calls (after DrainDelay, so probes see the 503 first); the pipeline publishes what is unpublished and processes
// what is queued; then the backends are closed. The report says what was left.
func (s *Server) Shutdown(ctx context.Context) (ServerReport, error) {
	var rep ServerReport
	var errs []error
	s.api.Drain()
	if d := s.cfg.DrainDelay; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err := s.http.Shutdown(ctx); err != nil {
		rep.HTTPForced = true
		s.http.Close()
	}
	if s.thrift != nil {
		rep.ThriftCallsLeft = s.thrift.Shutdown(ctx)
	}
	if s.client != nil {
		s.client.Close()
	}
	if s.pipeline != nil {
		pr, err := s.pipeline.Shutdown(ctx)
		rep.Pipeline = pr
		if err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, s.closeBackends())
	return rep, errors.Join(errs...)
}

// Run starts the server, serves until ctx ends (a signal) or a listener fails, then shuts
// down within the configured drain timeout and returns the report.
func (s *Server) Run(ctx context.Context) (ServerReport, error) {
	if err := s.Start(ctx); err != nil {
		s.closeAll()
		return ServerReport{}, err
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-s.serveErr:
		s.log.Error("stopping after a listener failed", "err", serveErr)
	}
	s.log.Info("draining", "deadline", s.cfg.DrainTimeout)
	dctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	rep, err := s.Shutdown(dctx)
	return rep, errors.Join(serveErr, err)
}

// closeAll releases what NewServer opened when it fails half-way or Start fails.
func (s *Server) closeAll() {
	for _, ln := range []net.Listener{s.httpLn, s.thriftLn} {
		if ln != nil {
			ln.Close()
		}
	}
	if s.client != nil {
		s.client.Close()
	}
	s.closeBackends()
}

func (s *Server) closeBackends() error {
	var errs []error
	for _, b := range []any{s.bus, s.store} {
		if c, ok := b.(io.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
