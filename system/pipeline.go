package system

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Pipeline is the request pipeline: a CRUD whose writes are stored and then published by
// state, and the processor pools that consume the per-state queues.
//
// Publish failure after a successful store write: the write is accepted anyway (the
// caller gets the stored request) and the outbox relay publishes it later. The store is
// the source of truth and records, atomically with the write, that the version still has
// to be published (Outbox); the relay republishes every such write older than the grace
// period, including those left by a process that died between its store write and its
// publish. The alternative, rejecting the request after compensating with a delete, was
// refused: the compensation can itself fail (the usual cause of a publish failure, an
// outage, takes the store too), it races with readers and updaters who already saw the
// write, and a crash between the write and the compensation leaves exactly the orphan it
// was meant to avoid. The cost of the outbox is at-least-once publication, which the
// processors' idempotent, version-conditional effect absorbs.
type Pipeline struct {
	cfg   PipelineConfig
	store Store
	bus   Bus
	topo  Topology
	// attrs holds each state's message attributes, built once so publishing allocates none.
	attrs  map[string]Attributes
	states []*stateProc
	pools  []*slotPool
	work   WorkFunc // from WithWorkFunc; nil means the configured Work
	// createWork is the configured CreateWork, nil when it spends nothing.
	createWork WorkFunc

	gate writeGate

	// Account-wide concurrency, across pools.
	inflight, high atomic.Int64

	accepted, publishFailures, republished, relayErrors atomic.Int64
	latency                                             *prometheus.HistogramVec

	relayKick chan struct{}

	lifeMu    sync.Mutex
	started   bool
	stopped   bool
	intake    context.CancelFunc // stops receiving
	workStop  context.CancelFunc // interrupts processing
	relayStop context.CancelFunc
	workCtx   context.Context
	pollersWG sync.WaitGroup
	workersWG sync.WaitGroup
	relayWG   sync.WaitGroup
}

var (
	_ CRUD          = (*Pipeline)(nil)
	_ MetricsSource = (*Pipeline)(nil)
)

// PipelineOption configures a Pipeline beyond its PipelineConfig.
type PipelineOption func(*Pipeline)

// WithWorkFunc replaces the configured Work with fn for every state: custom processing,
// or a test's instrumented step.
func WithWorkFunc(fn WorkFunc) PipelineOption {
	return func(p *Pipeline) { p.work = fn }
}

// NewPipeline checks cfg and builds a pipeline over store and bus. Nothing runs until
// Start; writes before Start are stored and published (the queues fill up) but not
// processed.
func NewPipeline(store Store, bus Bus, cfg PipelineConfig, opts ...PipelineOption) (*Pipeline, error) {
	if store == nil || bus == nil {
		return nil, fmt.Errorf("pipeline: store and bus are required: %w", ErrInvalid)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Pipeline{
		cfg: cfg, store: store, bus: bus, topo: cfg.topology(),
		attrs:     make(map[string]Attributes, len(cfg.States)),
		relayKick: make(chan struct{}, 1),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "headroom", Subsystem: "pipeline", Name: "end_to_end_seconds",
			Help:    "Time from a write being accepted to its processing effect being applied, by state.",
			Buckets: prometheus.ExponentialBucketsRange(0.0005, 120, 20),
		}, []string{"state"}),
	}
	p.gate.init()
	for _, o := range opts {
		o(p)
	}
	if err := p.topo.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	for _, st := range cfg.States {
		p.attrs[st] = Attributes{{Name: StateAttribute, Value: st}}
	}
	if err := p.buildProcessors(); err != nil {
		return nil, err
	}
	if w := cfg.CreateWork; w.ServiceTime.Kind != "" || w.FailureRate > 0 {
		step, err := NewWorkStep(w)
		if err != nil {
			return nil, fmt.Errorf("pipeline: create work: %w", err)
		}
		p.createWork = step
	}
	return p, nil
}

// Config returns the resolved configuration (defaults filled in).
func (p *Pipeline) Config() PipelineConfig { return p.cfg }

// Topology returns the topology the pipeline declares on its bus.
func (p *Pipeline) Topology() Topology { return p.topo }

// Store and Bus return the backends.
func (p *Pipeline) Store() Store { return p.store }

// Bus returns the pipeline's bus.
func (p *Pipeline) Bus() Bus { return p.bus }

// Get implements Reader, straight from the store.
func (p *Pipeline) Get(ctx context.Context, id string) (Request, error) { return p.store.Get(ctx, id) }

// List implements Reader, straight from the store.
func (p *Pipeline) List(ctx context.Context, cursor string, limit int) (Page, error) {
	return p.store.List(ctx, cursor, limit)
}

// Create validates r (assigning an id when it has none), stores it and publishes it. See
// Pipeline for what a failed publish means: the write still succeeds.
func (p *Pipeline) Create(ctx context.Context, r Request) (Request, error) {
	if !p.gate.enter() {
		return Request{}, fmt.Errorf("create: pipeline is shutting down: %w", ErrClosed)
	}
	defer p.gate.leave()
	if r.ID == "" {
		r.ID = NewID()
	}
	if err := r.Validate(p.cfg.States); err != nil {
		return Request{}, err
	}
	if p.createWork != nil {
		if err := p.createWork(ctx, r.State, nil); err != nil {
			return Request{}, fmt.Errorf("create: %w", err)
		}
	}
	stored, err := p.store.Create(ctx, r)
	if err != nil {
		return Request{}, err
	}
	p.accepted.Add(1)
	p.publishOrDefer(ctx, &stored)
	return stored, nil
}

// Update validates r, applies it if r.Version is current, and publishes the new version.
func (p *Pipeline) Update(ctx context.Context, r Request) (Request, error) {
	if !p.gate.enter() {
		return Request{}, fmt.Errorf("update: pipeline is shutting down: %w", ErrClosed)
	}
	defer p.gate.leave()
	if err := r.Validate(p.cfg.States); err != nil {
		return Request{}, err
	}
	stored, err := p.store.Update(ctx, r)
	if err != nil {
		return Request{}, err
	}
	p.accepted.Add(1)
	p.publishOrDefer(ctx, &stored)
	return stored, nil
}

// Delete removes the request. Nothing is published: messages already queued for it find
// it gone and are acknowledged without effect.
func (p *Pipeline) Delete(ctx context.Context, id string, version int64) error {
	if !p.gate.enter() {
		return fmt.Errorf("delete: pipeline is shutting down: %w", ErrClosed)
	}
	defer p.gate.leave()
	return p.store.Delete(ctx, id, version)
}

// publishOrDefer publishes a stored write; on failure it leaves the write to the relay.
func (p *Pipeline) publishOrDefer(ctx context.Context, r *Request) {
	if err := p.publish(ctx, r); err != nil {
		p.publishFailures.Add(1)
		select {
		case p.relayKick <- struct{}{}:
		default:
		}
	}
}

// publish sends the message for r's current version and marks it published.
func (p *Pipeline) publish(ctx context.Context, r *Request) error {
	// A fresh buffer each time: the bus may keep the body (see Publisher).
	body := appendMessageBody(make([]byte, 0, 64+len(r.ID)), r)
	m := Message{Body: body, Attributes: p.attrs[r.State]}
	if p.cfg.FIFO {
		m.GroupID = r.ID
		m.DedupID = r.ID + ":" + strconv.FormatInt(r.Version, 10)
	}
	if err := p.bus.Publish(ctx, m); err != nil {
		return fmt.Errorf("publish %s v%d: %w", r.ID, r.Version, err)
	}
	if err := p.store.MarkPublished(ctx, r.ID, r.Version); err != nil {
		// Published but not marked: the relay will publish it again, a harmless duplicate.
		return fmt.Errorf("mark %s v%d published: %w", r.ID, r.Version, err)
	}
	return nil
}

// Start declares the topology and starts the relay and the processors. It returns once
// they run; Shutdown stops them.
func (p *Pipeline) Start(ctx context.Context) error {
	p.lifeMu.Lock()
	defer p.lifeMu.Unlock()
	if p.started {
		return fmt.Errorf("pipeline: already started: %w", ErrInvalid)
	}
	if err := p.bus.Declare(ctx, p.topo); err != nil {
		return fmt.Errorf("pipeline: declare topology: %w", err)
	}
	p.started = true
	intakeCtx, intake := context.WithCancel(context.Background())
	workCtx, workStop := context.WithCancel(context.Background())
	relayCtx, relayStop := context.WithCancel(context.Background())
	p.intake, p.workStop, p.relayStop, p.workCtx = intake, workStop, relayStop, workCtx
	p.relayWG.Add(1)
	go p.relay(relayCtx)
	p.startProcessors(intakeCtx)
	return nil
}

// Ready reports whether the pipeline takes writes: started, not shutting down, and its
// backends answer (when they can say).
func (p *Pipeline) Ready(ctx context.Context) error {
	p.lifeMu.Lock()
	started, stopped := p.started, p.stopped
	p.lifeMu.Unlock()
	if !started || stopped || p.gate.closing() {
		return fmt.Errorf("pipeline not running: %w", ErrClosed)
	}
	for _, b := range []any{p.store, p.bus} {
		if pg, ok := b.(Pinger); ok {
			if err := pg.Ping(ctx); err != nil {
				return fmt.Errorf("pipeline backend: %w", err)
			}
		}
	}
	return nil
}

// writeGate counts writes in progress and refuses new ones once closing, so Shutdown can
// wait for every accepted write to be published (or left to the relay). One atomic word
// holds both, so the write path takes no lock.
type writeGate struct {
	v    atomic.Int64
	idle chan struct{}
	once sync.Once
}

const gateClosing = 1 << 62

func (g *writeGate) init() { g.idle = make(chan struct{}) }

func (g *writeGate) enter() bool {
	if g.v.Add(1)&gateClosing != 0 {
		g.leave()
		return false
	}
	return true
}

func (g *writeGate) leave() {
	if g.v.Add(-1) == gateClosing {
		g.once.Do(func() { close(g.idle) })
	}
}

func (g *writeGate) closing() bool { return g.v.Load()&gateClosing != 0 }

// close refuses new writes and waits for the ones in progress until ctx ends.
func (g *writeGate) close(ctx context.Context) error {
	for {
		v := g.v.Load()
		if v&gateClosing != 0 {
			break
		}
		if g.v.CompareAndSwap(v, v|gateClosing) {
			if v == 0 {
				g.once.Do(func() { close(g.idle) })
			}
			break
		}
	}
	select {
	case <-g.idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("writes still in progress: %w", ctx.Err())
	}
}
