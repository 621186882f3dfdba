package system

//go:generate thrift --gen go:skip_remote -out thrift thrift/headroom.thrift
//go:generate gofmt -w thrift/headroomrpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/headroom/headroom/system/thrift/headroomrpc"
)

// ThriftHandler serves the Thrift RequestService over a CRUD, normally the Pipeline, so a
// write through Thrift is stored and published exactly as one through the HTTP API.
type ThriftHandler struct {
	crud   CRUD
	states States
	// inflight counts calls being served, so a ThriftServer can drain them; the same gate
	// as the pipeline's writes.
	inflight writeGate
}

var _ headroomrpc.RequestService = (*ThriftHandler)(nil)

// NewThriftHandler returns a handler over crud accepting the given states.
func NewThriftHandler(crud CRUD, states States) *ThriftHandler {
	h := &ThriftHandler{crud: crud, states: states}
	h.inflight.init()
	return h
}

// Create stores a new request; an empty id is assigned one.
func (h *ThriftHandler) Create(ctx context.Context, in *headroomrpc.CreateInput) (*headroomrpc.Request, error) {
	if !h.inflight.enter() {
		return nil, toServiceError(ErrClosed)
	}
	defer h.inflight.leave()
	r := Request{State: in.State, Payload: in.Payload}
	if in.ID != nil {
		r.ID = *in.ID
	}
	if r.ID == "" {
		r.ID = NewID()
	}
	if err := r.Validate(h.states); err != nil {
		return nil, toServiceError(err)
	}
	got, err := h.crud.Create(ctx, r)
	if err != nil {
		return nil, toServiceError(err)
	}
	return toWire(got), nil
}

// Get returns one request.
func (h *ThriftHandler) Get(ctx context.Context, id string) (*headroomrpc.Request, error) {
	if !h.inflight.enter() {
		return nil, toServiceError(ErrClosed)
	}
	defer h.inflight.leave()
	got, err := h.crud.Get(ctx, id)
	if err != nil {
		return nil, toServiceError(err)
	}
	return toWire(got), nil
}

// Update replaces state and payload if the version is current.
func (h *ThriftHandler) Update(ctx context.Context, in *headroomrpc.UpdateInput) (*headroomrpc.Request, error) {
	if !h.inflight.enter() {
		return nil, toServiceError(ErrClosed)
	}
	defer h.inflight.leave()
	r := Request{ID: in.ID, State: in.State, Payload: in.Payload, Version: in.Version}
	if err := r.Validate(h.states); err != nil {
		return nil, toServiceError(err)
	}
	got, err := h.crud.Update(ctx, r)
	if err != nil {
		return nil, toServiceError(err)
	}
	return toWire(got), nil
}

// Remove deletes a request; a negative version deletes whatever version is current.
func (h *ThriftHandler) Remove(ctx context.Context, id string, version int64) error {
	if !h.inflight.enter() {
		return toServiceError(ErrClosed)
	}
	defer h.inflight.leave()
	if err := h.crud.Delete(ctx, id, version); err != nil {
		return toServiceError(err)
	}
	return nil
}

// ListRequests returns one page.
func (h *ThriftHandler) ListRequests(ctx context.Context, in *headroomrpc.ListInput) (*headroomrpc.Page, error) {
	if !h.inflight.enter() {
		return nil, toServiceError(ErrClosed)
	}
	defer h.inflight.leave()
	page, err := h.crud.List(ctx, in.GetCursor(), int(in.GetLimit()))
	if err != nil {
		return nil, toServiceError(err)
	}
	out := &headroomrpc.Page{Items: make([]*headroomrpc.Request, len(page.Items))}
	for i := range page.Items {
		out.Items[i] = toWire(page.Items[i])
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	return out, nil
}

func toWire(r Request) *headroomrpc.Request {
	return &headroomrpc.Request{
		ID:               r.ID,
		State:            r.State,
		Payload:          r.Payload,
		Version:          r.Version,
		CreatedUnixNanos: r.CreatedAt.UnixNano(),
		UpdatedUnixNanos: r.UpdatedAt.UnixNano(),
		ProcessedVersion: r.ProcessedVersion,
	}
}

func fromWire(w *headroomrpc.Request) Request {
	return Request{
		ID:               w.ID,
		State:            w.State,
		Payload:          w.Payload,
		Version:          w.Version,
		CreatedAt:        time.Unix(0, w.CreatedUnixNanos).UTC(),
		UpdatedAt:        time.Unix(0, w.UpdatedUnixNanos).UTC(),
		ProcessedVersion: w.ProcessedVersion,
	}
}

// wireCodes pairs each sentinel error with its Thrift code, both ways.
var wireCodes = []struct {
	err  error
	code headroomrpc.ErrorCode
}{
	{ErrInvalid, headroomrpc.ErrorCode_INVALID_ARGUMENT},
	{ErrNotFound, headroomrpc.ErrorCode_NOT_FOUND},
	{ErrConflict, headroomrpc.ErrorCode_VERSION_CONFLICT},
	{ErrExists, headroomrpc.ErrorCode_ALREADY_EXISTS},
	{ErrClosed, headroomrpc.ErrorCode_UNAVAILABLE},
}

// toServiceError carries a sentinel across the wire as its code; anything else is
// INTERNAL, its message kept for the operator's logs.
func toServiceError(err error) *headroomrpc.ServiceError {
	for _, wc := range wireCodes {
		if errors.Is(err, wc.err) {
			return &headroomrpc.ServiceError{Code: wc.code, Message: err.Error()}
		}
	}
	return &headroomrpc.ServiceError{Code: headroomrpc.ErrorCode_INTERNAL, Message: err.Error()}
}

// fromServiceError turns a ServiceError back into an error wrapping the same sentinel, so
// a caller of ThriftClient branches with errors.Is exactly as on a local CRUD.
func fromServiceError(se *headroomrpc.ServiceError) error {
	for _, wc := range wireCodes {
		if se.Code == wc.code {
			return &remoteError{msg: se.Message, sentinel: wc.err}
		}
	}
	return &remoteError{msg: se.Message}
}

// remoteError keeps the server's message intact (it already names the sentinel) while
// still matching the sentinel with errors.Is.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return fmt.Sprintf("thrift service: %s", e.msg) }
func (e *remoteError) Unwrap() error { return e.sentinel }
