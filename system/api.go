package system

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// API is the HTTP front door: CRUD on requests under /v1/requests, health, readiness and
// Prometheus metrics. It calls a CRUD, which is the Pipeline in the direct architecture or
// a ThriftClient in the web → Thrift microservice one; the HTTP behaviour is the same.
//
// Every error is {"error":{"code":...,"message":...}} with the status the code documents
// (see the Code constants). Mutations need an admin bearer token; the gateway token bucket
// throttles /v1 with 429 and Retry-After; while not ready or draining, mutations get 503.
type API struct {
	crud     CRUD
	states   States
	tokens   tokens
	bucket   *TokenBucket
	maxBody  int64
	pageSize int
	maxPage  int
	gatherer prometheus.Gatherer
	metrics  *apiMetrics
	ready    func(context.Context) error
	now      func() time.Time
	log      *slog.Logger

	// accepting gates mutations and /readyz: Drain clears it, Accept sets it.
	accepting atomic.Bool

	mux *http.ServeMux
}

// APIOption configures an API.
type APIOption func(*API)

// WithAdminTokens sets the bearer tokens allowed to create, update and delete.
func WithAdminTokens(tokens ...string) APIOption {
	return func(a *API) { a.tokens.admin = toBytes(tokens) }
}

// WithReaderTokens sets bearer tokens that may read but not change (a change gets 403).
func WithReaderTokens(tokens ...string) APIOption {
	return func(a *API) { a.tokens.reader = toBytes(tokens) }
}

// WithThrottle puts a gateway token bucket of rate requests per second and burst in front
// of /v1; rate <= 0 disables throttling (the default).
func WithThrottle(rate float64, burst int) APIOption {
	return func(a *API) { a.bucket = NewTokenBucket(rate, burst) }
}

// WithTokenBucket uses b as the gateway throttle, for tests with an injected clock or for
// a bucket shared by several APIs (API Gateway's account-wide limit).
func WithTokenBucket(b *TokenBucket) APIOption {
	return func(a *API) { a.bucket = b }
}

// WithStates sets the accepted states (default DefaultStates).
func WithStates(s States) APIOption {
	return func(a *API) { a.states = s }
}

// WithMaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes); larger gets 413.
func WithMaxBodyBytes(n int64) APIOption {
	return func(a *API) { a.maxBody = n }
}

// WithPageSize sets the default and maximum page sizes of GET /v1/requests.
func WithPageSize(def, max int) APIOption {
	return func(a *API) { a.pageSize, a.maxPage = def, max }
}

// WithRegistry registers the API's series on reg and serves reg's (and so whatever else
// is registered there, such as the pipeline's) on /metrics. The default is a registry of
// the API's own.
func WithRegistry(reg *prometheus.Registry) APIOption {
	return func(a *API) { a.gatherer = reg; a.metrics = newAPIMetrics(reg) }
}

// WithReadyCheck adds a check to /readyz beyond accepting (the backends' Ping).
func WithReadyCheck(check func(context.Context) error) APIOption {
	return func(a *API) { a.ready = check }
}

// WithLogger logs internal errors (500s, with their cause) to l; default slog.Default().
func WithLogger(l *slog.Logger) APIOption {
	return func(a *API) { a.log = l }
}

// NewAPI returns an API over crud. It starts accepting at once; a server that must finish
// starting other parts first calls Drain before serving and Accept when ready.
func NewAPI(crud CRUD, opts ...APIOption) *API {
	a := &API{
		crud:     crud,
		states:   DefaultStates,
		maxBody:  DefaultMaxBodyBytes,
		pageSize: 100,
		maxPage:  1000,
		now:      time.Now,
		log:      slog.Default(),
	}
	for _, o := range opts {
		o(a)
	}
	if a.metrics == nil {
		reg := prometheus.NewRegistry()
		a.gatherer, a.metrics = reg, newAPIMetrics(reg)
	}
	a.accepting.Store(true)
	a.routes()
	return a
}

// Accept opens intake: mutations are served and /readyz answers 200.
func (a *API) Accept() { a.accepting.Store(true) }

// Drain closes intake: /readyz answers 503 so load balancers stop sending, and mutations
// get 503 while reads are still served. In-flight requests are not affected; the
// http.Server's Shutdown waits for them.
func (a *API) Drain() { a.accepting.Store(false) }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// handlerFunc is a route's handler: it writes a success itself and returns an error for
// the wrapper to render, so every failure takes the one error path.
type handlerFunc func(w *statusWriter, r *http.Request) *apiError

func (a *API) routes() {
	a.mux = http.NewServeMux()
	v1 := func(pattern string, write bool, h handlerFunc) {
		a.mux.Handle(pattern, a.instrument(pattern, a.gateway(write, h)))
	}
	v1("POST /v1/requests", true, a.create)
	v1("GET /v1/requests", false, a.list)
	v1("GET /v1/requests/{id}", false, a.get)
	v1("PUT /v1/requests/{id}", true, a.update)
	v1("DELETE /v1/requests/{id}", true, a.delete)
	// Method-less patterns are less specific than the ones above, so they catch only the
	// other methods, which get a JSON 405 instead of the mux's plain-text one.
	a.mux.Handle("/v1/requests", a.instrument("/v1/requests", methodNotAllowed("GET, POST")))
	a.mux.Handle("/v1/requests/{id}", a.instrument("/v1/requests/{id}", methodNotAllowed("GET, PUT, DELETE")))

	a.mux.Handle("GET /healthz", a.instrument("GET /healthz", func(w *statusWriter, r *http.Request) *apiError {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	}))
	a.mux.Handle("GET /readyz", a.instrument("GET /readyz", a.readyz))
	metrics := promhttp.HandlerFor(a.gatherer, promhttp.HandlerOpts{})
	a.mux.Handle("GET /metrics", a.instrument("GET /metrics", func(w *statusWriter, r *http.Request) *apiError {
		metrics.ServeHTTP(w, r)
		return nil
	}))
	a.mux.Handle("/", a.instrument("other", func(w *statusWriter, r *http.Request) *apiError {
		return errorf(http.StatusNotFound, CodeNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	}))
}

func methodNotAllowed(allow string) handlerFunc {
	return func(w *statusWriter, r *http.Request) *apiError {
		w.Header().Set("Allow", allow)
		return errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			fmt.Sprintf("%s is not allowed here; use %s", r.Method, allow))
	}
}

// statusWriter remembers the status for the metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// instrument renders a handler's error and records the route's count and latency.
func (a *API) instrument(route string, h handlerFunc) http.Handler {
	rm := a.metrics.route(route)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := a.now()
		w := &statusWriter{ResponseWriter: rw}
		if e := h(w, r); e != nil {
			if e.Cause != nil {
				a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", e.Cause)
			}
			writeAPIError(w, e)
		}
		if w.status == 0 {
			w.status = http.StatusOK
		}
		rm.observe(w.status, a.now().Sub(start))
	})
}

// gateway applies, in API Gateway's order, the throttle, the authorizer and intake.
func (a *API) gateway(write bool, h handlerFunc) handlerFunc {
	return func(w *statusWriter, r *http.Request) *apiError {
		if ok, wait := a.bucket.Allow(); !ok {
			a.metrics.throttled.Inc()
			return &apiError{Status: http.StatusTooManyRequests, Code: CodeThrottled,
				Message: "rate limit exceeded", RetryAfter: wait}
		}
		auth := r.Header.Get("Authorization")
		if write {
			if e := a.tokens.authorizeWrite(auth); e != nil {
				return e
			}
			if !a.accepting.Load() {
				return &apiError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
					Message: "not accepting changes: starting or draining", RetryAfter: time.Second}
			}
		} else if _, e := a.tokens.authenticate(auth); e != nil {
			return e
		}
		return h(w, r)
	}
}

func (a *API) readyz(w *statusWriter, r *http.Request) *apiError {
	if !a.accepting.Load() {
		return errorf(http.StatusServiceUnavailable, CodeUnavailable, "not accepting: starting or draining")
	}
	if a.ready != nil {
		if err := a.ready(r.Context()); err != nil {
			return errorf(http.StatusServiceUnavailable, CodeUnavailable, "not ready: "+err.Error())
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (a *API) create(w *statusWriter, r *http.Request) *apiError {
	body, e := readBody(w, r, a.maxBody)
	if e != nil {
		return e
	}
	in, e := decodeCreate(body, a.states)
	if e != nil {
		return e
	}
	req := Request{ID: in.ID, State: in.State, Payload: in.Payload}
	if req.ID == "" {
		req.ID = NewID()
	}
	got, err := a.crud.Create(r.Context(), req)
	if err != nil {
		return fromServiceErr(err)
	}
	w.Header().Set("Location", "/v1/requests/"+got.ID)
	writeRequest(w, http.StatusCreated, &got, bytes.Equal(got.Payload, in.Payload))
	return nil
}

func (a *API) get(w *statusWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	if e := checkID(id); e != nil {
		return e
	}
	got, err := a.crud.Get(r.Context(), id)
	if err != nil {
		return fromServiceErr(err)
	}
	writeRequest(w, http.StatusOK, &got, false)
	return nil
}

// update applies a partial change: the fields absent from the body are read from the
// current request, and the write is conditional on the version the client gave, so a
// concurrent change between the read and the write is a 409, never a lost update.
func (a *API) update(w *statusWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	if e := checkID(id); e != nil {
		return e
	}
	body, e := readBody(w, r, a.maxBody)
	if e != nil {
		return e
	}
	in, version, e := decodeUpdate(body, r.Header.Get("If-Match"), a.states)
	if e != nil {
		return e
	}
	if version < 0 {
		return errorf(http.StatusPreconditionRequired, CodePreconditionRequired,
			`give the version you read, as "version" in the body or an If-Match header`)
	}
	next := Request{ID: id, Version: version}
	if in.State == nil || in.Payload == nil {
		cur, err := a.crud.Get(r.Context(), id)
		if err != nil {
			return fromServiceErr(err)
		}
		if cur.Version != version {
			return versionConflict(id, version, cur.Version)
		}
		next.State, next.Payload = cur.State, cur.Payload
	}
	if in.State != nil {
		next.State = *in.State
	}
	if in.Payload != nil {
		next.Payload = in.Payload
	}
	got, err := a.crud.Update(r.Context(), next)
	if err != nil {
		return fromServiceErr(err)
	}
	writeRequest(w, http.StatusOK, &got, false)
	return nil
}

func (a *API) delete(w *statusWriter, r *http.Request) *apiError {
	id := r.PathValue("id")
	if e := checkID(id); e != nil {
		return e
	}
	version := int64(-1)
	if h := r.Header.Get("If-Match"); h != "" {
		v, e := parseIfMatch(h)
		if e != nil {
			return e
		}
		version = v
	}
	if err := a.crud.Delete(r.Context(), id, version); err != nil {
		return fromServiceErr(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listBody is the JSON of one page.
type listBody struct {
	Items      []Request `json:"items"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

func (a *API) list(w *statusWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	limit := a.pageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > a.maxPage {
			return errorf(http.StatusBadRequest, CodeMalformed,
				fmt.Sprintf("limit %q must be an integer in 1..%d", s, a.maxPage))
		}
		limit = n
	}
	page, err := a.crud.List(r.Context(), q.Get("cursor"), limit)
	if err != nil {
		return fromServiceErr(err)
	}
	out := listBody{Items: page.Items, NextCursor: page.Next}
	if out.Items == nil {
		out.Items = []Request{}
	}
	writeJSON(w, http.StatusOK, &out)
	return nil
}

func versionConflict(id string, given, current int64) *apiError {
	return errorf(http.StatusConflict, CodeVersionConflict,
		fmt.Sprintf("request %s is at version %d, not %d", id, current, given))
}

// fromServiceErr maps the CRUD's sentinels to the API's statuses; anything else is a 500
// whose message does not leak the backend's internals.
func fromServiceErr(err error) *apiError {
	switch {
	case errors.Is(err, ErrNotFound):
		return errorf(http.StatusNotFound, CodeNotFound, err.Error())
	case errors.Is(err, ErrConflict):
		return errorf(http.StatusConflict, CodeVersionConflict, err.Error())
	case errors.Is(err, ErrExists):
		return errorf(http.StatusConflict, CodeAlreadyExists, err.Error())
	case errors.Is(err, ErrInvalid):
		return errorf(http.StatusBadRequest, CodeInvalid, err.Error())
	case errors.Is(err, ErrClosed), errors.Is(err, context.DeadlineExceeded):
		return &apiError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: "service unavailable, retry later", RetryAfter: time.Second}
	default:
		return &apiError{Status: http.StatusInternalServerError, Code: CodeInternal,
			Message: "internal error", Cause: err}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeAPIError(w, errorf(http.StatusInternalServerError, CodeInternal, "encoding the response"))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	b = append(b, '\n')
	_, _ = w.Write(b)
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, 0, len(ss))
	for _, s := range ss {
		if s != "" {
			out = append(out, []byte(s))
		}
	}
	return out
}
