package system_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
)

// startThrift serves a ThriftHandler over crud on a loopback port and returns a client.
func startThrift(t *testing.T, crud system.CRUD) (*system.ThriftClient, *system.ThriftServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := system.NewThriftServer(system.NewThriftHandler(crud, system.DefaultStates))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	client := system.NewThriftClient(ln.Addr().String(), 4)
	t.Cleanup(func() {
		client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if left := srv.Shutdown(ctx); left != 0 {
			t.Errorf("thrift shutdown left %d calls", left)
		}
		if err := <-done; err != nil {
			t.Errorf("thrift serve: %v", err)
		}
	})
	return client, srv
}

func sameRequest(a, b system.Request) bool {
	return a.ID == b.ID && a.State == b.State && string(a.Payload) == string(b.Payload) &&
		a.Version == b.Version && a.ProcessedVersion == b.ProcessedVersion &&
		a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

// TestThriftAndHTTPSeeTheSameData writes through each protocol and reads through the
// other, over one store: what one client wrote the other reads field for field, and the
// errors are the same conditions.
func TestThriftAndHTTPSeeTheSameData(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	tc, _ := startThrift(t, store)
	_, web := newAPIServer(t, store)
	c := web.Client()

	httpGet := func(id string) (system.Request, int) {
		resp, body := step{method: "GET", path: "/v1/requests/" + id}.do(t, web.URL, c)
		var r system.Request
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(body, &r); err != nil {
				t.Fatal(err)
			}
		}
		return r, resp.StatusCode
	}

	// HTTP writes, Thrift reads.
	resp, body := step{method: "POST", path: "/v1/requests", token: adminToken,
		body: `{"id":"h1","state":"pending","payload":{"from":"http","n":[1,2]}}`}.do(t, web.URL, c)
	if resp.StatusCode != 201 {
		t.Fatalf("http create: %d %s", resp.StatusCode, body)
	}
	var viaHTTP system.Request
	if err := json.Unmarshal(body, &viaHTTP); err != nil {
		t.Fatal(err)
	}
	viaThrift, err := tc.Get(ctx, "h1")
	if err != nil {
		t.Fatalf("thrift get: %v", err)
	}
	if !sameRequest(viaHTTP, viaThrift) {
		t.Fatalf("http wrote %+v, thrift reads %+v", viaHTTP, viaThrift)
	}

	// Thrift writes, HTTP reads.
	created, err := tc.Create(ctx, system.Request{ID: "t1", State: "approved", Payload: []byte(`{"from":"thrift"}`)})
	if err != nil {
		t.Fatalf("thrift create: %v", err)
	}
	got, status := httpGet("t1")
	if status != 200 || !sameRequest(created, got) {
		t.Fatalf("thrift wrote %+v, http reads %d %+v", created, status, got)
	}
	updated, err := tc.Update(ctx, system.Request{ID: "t1", Version: 1, State: "rejected", Payload: created.Payload})
	if err != nil {
		t.Fatalf("thrift update: %v", err)
	}
	got, _ = httpGet("t1")
	if updated.Version != 2 || !sameRequest(updated, got) {
		t.Fatalf("thrift updated %+v, http reads %+v", updated, got)
	}

	// The same conditions are the same errors on both sides.
	if _, err := tc.Update(ctx, system.Request{ID: "t1", Version: 1, State: "approved"}); !errors.Is(err, system.ErrConflict) {
		t.Fatalf("thrift stale update: %v, want ErrConflict", err)
	}
	if _, err := tc.Get(ctx, "nope"); !errors.Is(err, system.ErrNotFound) {
		t.Fatalf("thrift get missing: %v, want ErrNotFound", err)
	}
	if _, err := tc.Create(ctx, system.Request{ID: "h1", State: "pending"}); !errors.Is(err, system.ErrExists) {
		t.Fatalf("thrift create taken: %v, want ErrExists", err)
	}
	if _, err := tc.Create(ctx, system.Request{ID: "x", State: "lost"}); !errors.Is(err, system.ErrInvalid) {
		t.Fatalf("thrift create unknown state: %v, want ErrInvalid", err)
	}

	// Both list the same requests in the same order.
	tp, err := tc.List(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	resp, body = step{method: "GET", path: "/v1/requests?limit=10"}.do(t, web.URL, c)
	var hp struct{ Items []system.Request }
	if resp.StatusCode != 200 || json.Unmarshal(body, &hp) != nil {
		t.Fatalf("http list: %d %s", resp.StatusCode, body)
	}
	if len(tp.Items) != 2 || len(hp.Items) != len(tp.Items) {
		t.Fatalf("thrift lists %d, http %d, want 2", len(tp.Items), len(hp.Items))
	}
	for i := range tp.Items {
		if !sameRequest(tp.Items[i], hp.Items[i]) {
			t.Fatalf("item %d: thrift %+v, http %+v", i, tp.Items[i], hp.Items[i])
		}
	}

	// Delete through Thrift is seen by HTTP.
	if err := tc.Delete(ctx, "h1", 1); err != nil {
		t.Fatalf("thrift delete: %v", err)
	}
	if _, status := httpGet("h1"); status != 404 {
		t.Fatalf("http get after thrift delete: %d", status)
	}
}

// TestAPIOverThriftBehavesLikeDirect runs one script against the two architectures, each
// on its own store — web → store, and web → Thrift service → store — and requires the same
// statuses, error codes and bodies (timestamps aside).
func TestAPIOverThriftBehavesLikeDirect(t *testing.T) {
	_, direct := newAPIServer(t, memory.NewStore())
	tc, _ := startThrift(t, memory.NewStore())
	_, viaThrift := newAPIServer(t, tc)

	script := []step{
		{method: "POST", path: "/v1/requests", token: adminToken, body: `{"id":"a","state":"pending","payload":{"k":"v"}}`},
		{method: "POST", path: "/v1/requests", token: adminToken, body: `{"id":"b","state":"approved"}`},
		{method: "POST", path: "/v1/requests", token: adminToken, body: `{"id":"a","state":"pending"}`},
		{method: "GET", path: "/v1/requests/a"},
		{method: "GET", path: "/v1/requests/zz"},
		{method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"rejected","version":1}`},
		{method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"approved","version":1}`},
		{method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"payload":[3]}`, header: map[string]string{"If-Match": `"2"`}},
		{method: "PUT", path: "/v1/requests/zz", token: adminToken, body: `{"state":"approved","payload":1,"version":1}`},
		{method: "GET", path: "/v1/requests?limit=1000"},
		{method: "GET", path: "/v1/requests?cursor=bogus"},
		{method: "DELETE", path: "/v1/requests/b", token: adminToken, header: map[string]string{"If-Match": `"9"`}},
		{method: "DELETE", path: "/v1/requests/b", token: adminToken},
		{method: "DELETE", path: "/v1/requests/b", token: adminToken},
		{method: "GET", path: "/v1/requests"},
	}
	for i, s := range script {
		r1, b1 := s.do(t, direct.URL, direct.Client())
		r2, b2 := s.do(t, viaThrift.URL, viaThrift.Client())
		if r1.StatusCode != r2.StatusCode {
			t.Fatalf("step %d %s %s: direct %d %s, via thrift %d %s", i, s.method, s.path, r1.StatusCode, b1, r2.StatusCode, b2)
		}
		n1, n2 := normalize(t, b1), normalize(t, b2)
		if !reflect.DeepEqual(n1, n2) {
			t.Fatalf("step %d %s %s (%d): direct %s, via thrift %s", i, s.method, s.path, r1.StatusCode, b1, b2)
		}
		if r1.Header.Get("ETag") != r2.Header.Get("ETag") {
			t.Fatalf("step %d: ETag %q vs %q", i, r1.Header.Get("ETag"), r2.Header.Get("ETag"))
		}
	}
}

// normalize decodes a JSON body and drops what legitimately differs between two
// stores: timestamps, error messages (the remote one names the Thrift hop), and the
// order and cursors of a listing (each memory store hashes ids with its own seed).
func normalize(t *testing.T, body []byte) any {
	t.Helper()
	if len(body) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if items, ok := x["items"].([]any); ok {
				sort.Slice(items, func(i, j int) bool {
					return items[i].(map[string]any)["id"].(string) < items[j].(map[string]any)["id"].(string)
				})
				delete(x, "next_cursor")
			}
			delete(x, "created_at")
			delete(x, "updated_at")
			delete(x, "message")
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return v
}

// TestThriftShutdownWithIdleConnections: pooled idle connections must not hold Shutdown
// up, and a call after it fails as unavailable (which the API turns into 503).
func TestThriftShutdownWithIdleConnections(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := system.NewThriftServer(system.NewThriftHandler(memory.NewStore(), system.DefaultStates))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	client := system.NewThriftClient(ln.Addr().String(), 4)
	defer client.Close()
	if _, err := client.Create(ctx, system.Request{ID: "x", State: "pending"}); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	if left := srv.Shutdown(sctx); left != 0 {
		t.Fatalf("%d calls left with none running", left)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("shutdown took %v with only idle connections", waited)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := client.Get(ctx, "x"); !errors.Is(err, system.ErrClosed) {
		t.Fatalf("get after shutdown: %v, want ErrClosed", err)
	}
}

// TestThriftClientReadsSurviveARestart: a pooled connection to a service that restarted
// is dead; a read on it is retried once on a fresh connection.
func TestThriftClientReadsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	serve := func(addr string) (*system.ThriftServer, string) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		srv := system.NewThriftServer(system.NewThriftHandler(store, system.DefaultStates))
		go srv.Serve(ln)
		return srv, ln.Addr().String()
	}
	first, addr := serve("127.0.0.1:0")
	client := system.NewThriftClient(addr, 4)
	defer client.Close()
	if _, err := client.Create(ctx, system.Request{ID: "r", State: "pending"}); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	first.Shutdown(sctx)
	second, _ := serve(addr)
	defer second.Shutdown(sctx)
	got, err := client.Get(ctx, "r")
	if err != nil || got.ID != "r" {
		t.Fatalf("get after restart: %+v, %v", got, err)
	}
}
