package system_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/memory"
)

const (
	adminToken  = "admin-secret"
	readerToken = "reader-secret"
)

// step is one HTTP exchange of a table-driven scenario; the steps of a table run in order
// against one server, so later steps see what earlier ones wrote.
type step struct {
	name    string
	method  string
	path    string
	token   string // "" sends no Authorization header
	auth    string // a raw Authorization header, overriding token
	ctype   string // "" sends application/json when there is a body
	noCtype bool   // send no Content-Type at all
	body    string
	header  map[string]string

	status int
	code   string            // the error code when status >= 400
	want   map[string]string // response headers that must equal these
}

func (s step) do(t *testing.T, base string, c *http.Client) (*http.Response, []byte) {
	t.Helper()
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	req, err := http.NewRequest(s.method, base+s.path, body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case s.auth != "":
		req.Header.Set("Authorization", s.auth)
	case s.token != "":
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if s.body != "" && !s.noCtype {
		ct := s.ctype
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", s.method, s.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func (s step) check(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != s.status {
		t.Fatalf("%s %s: status %d, want %d; body %s", s.method, s.path, resp.StatusCode, s.status, body)
	}
	for k, v := range s.want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s %s: header %s = %q, want %q", s.method, s.path, k, got, v)
		}
	}
	if s.status < 400 {
		return
	}
	// Every error has the one documented shape.
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body %q is not {\"error\":{code,message}}: %v", body, err)
	}
	if e.Error.Code != s.code || e.Error.Message == "" {
		t.Fatalf("error %+v, want code %q and a message", e.Error, s.code)
	}
}

func newAPIServer(t *testing.T, crud system.CRUD, opts ...system.APIOption) (*system.API, *httptest.Server) {
	t.Helper()
	opts = append([]system.APIOption{
		system.WithAdminTokens(adminToken),
		system.WithReaderTokens(readerToken),
		system.WithMaxBodyBytes(1024),
	}, opts...)
	api := system.NewAPI(crud, opts...)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return api, srv
}

func TestAPIDocumentedResponses(t *testing.T) {
	_, srv := newAPIServer(t, memory.NewStore())
	big := `{"state":"pending","payload":"` + strings.Repeat("x", 1100) + `"}`
	steps := []step{
		// Authentication and authorization.
		{name: "create without token", method: "POST", path: "/v1/requests", body: `{"id":"a","state":"pending"}`,
			status: 401, code: system.CodeUnauthorized, want: map[string]string{"WWW-Authenticate": `Bearer realm="headroom"`}},
		{name: "create with unknown token", method: "POST", path: "/v1/requests", token: "guess", body: `{"id":"a","state":"pending"}`,
			status: 401, code: system.CodeUnauthorized},
		{name: "create with basic auth", method: "POST", path: "/v1/requests", auth: "Basic YWRtaW46eA==", body: `{"id":"a","state":"pending"}`,
			status: 401, code: system.CodeUnauthorized},
		{name: "create with reader token", method: "POST", path: "/v1/requests", token: readerToken, body: `{"id":"a","state":"pending"}`,
			status: 403, code: system.CodeForbidden},
		{name: "read with unknown token", method: "GET", path: "/v1/requests/a", token: "guess",
			status: 401, code: system.CodeUnauthorized},
		// Bodies.
		{name: "create as text/plain", method: "POST", path: "/v1/requests", token: adminToken, ctype: "text/plain", body: `{"state":"pending"}`,
			status: 415, code: system.CodeUnsupportedMedia},
		{name: "create without content type", method: "POST", path: "/v1/requests", token: adminToken, noCtype: true, body: `{"state":"pending"}`,
			status: 415, code: system.CodeUnsupportedMedia},
		{name: "create malformed", method: "POST", path: "/v1/requests", token: adminToken, body: `{"state":`,
			status: 400, code: system.CodeMalformed},
		{name: "create unknown field", method: "POST", path: "/v1/requests", token: adminToken, body: `{"state":"pending","sate":"x"}`,
			status: 400, code: system.CodeMalformed},
		{name: "create unknown state", method: "POST", path: "/v1/requests", token: adminToken, body: `{"state":"lost"}`,
			status: 400, code: system.CodeInvalid},
		{name: "create bad id", method: "POST", path: "/v1/requests", token: adminToken, body: `{"id":"a b","state":"pending"}`,
			status: 400, code: system.CodeInvalid},
		{name: "create too large", method: "POST", path: "/v1/requests", token: adminToken, body: big,
			status: 413, code: system.CodeTooLarge},
		// The life of one request.
		{name: "create", method: "POST", path: "/v1/requests", token: adminToken, body: `{"id":"a","state":"pending","payload":{"n":1}}`,
			status: 201, want: map[string]string{"ETag": `"1"`, "Location": "/v1/requests/a"}},
		{name: "create taken id", method: "POST", path: "/v1/requests", token: adminToken, body: `{"id":"a","state":"pending"}`,
			status: 409, code: system.CodeAlreadyExists},
		{name: "get anonymously", method: "GET", path: "/v1/requests/a", status: 200, want: map[string]string{"ETag": `"1"`}},
		{name: "get as reader", method: "GET", path: "/v1/requests/a", token: readerToken, status: 200},
		{name: "get missing", method: "GET", path: "/v1/requests/nope", status: 404, code: system.CodeNotFound},
		{name: "get bad id", method: "GET", path: "/v1/requests/a%20b", status: 400, code: system.CodeInvalid},
		{name: "update without version", method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"approved"}`,
			status: 428, code: system.CodePreconditionRequired},
		{name: "update stale body version", method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"approved","version":7}`,
			status: 409, code: system.CodeVersionConflict},
		{name: "update stale If-Match", method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"approved"}`,
			header: map[string]string{"If-Match": `"7"`}, status: 409, code: system.CodeVersionConflict},
		{name: "update full stale", method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"approved","payload":2,"version":7}`,
			status: 409, code: system.CodeVersionConflict},
		{name: "update bad If-Match", method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"approved"}`,
			header: map[string]string{"If-Match": `*`}, status: 400, code: system.CodeMalformed},
		{name: "update nothing", method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"version":1}`,
			status: 400, code: system.CodeInvalid},
		{name: "update missing", method: "PUT", path: "/v1/requests/nope", token: adminToken, body: `{"state":"approved","version":1}`,
			status: 404, code: system.CodeNotFound},
		{name: "update without token", method: "PUT", path: "/v1/requests/a", body: `{"state":"approved","version":1}`,
			status: 401, code: system.CodeUnauthorized},
		{name: "update as reader", method: "PUT", path: "/v1/requests/a", token: readerToken, body: `{"state":"approved","version":1}`,
			status: 403, code: system.CodeForbidden},
		{name: "update too large", method: "PUT", path: "/v1/requests/a", token: adminToken, body: big,
			status: 413, code: system.CodeTooLarge},
		{name: "update", method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"approved"}`,
			header: map[string]string{"If-Match": `"1"`}, status: 200, want: map[string]string{"ETag": `"2"`}},
		{name: "update again with the old version", method: "PUT", path: "/v1/requests/a", token: adminToken, body: `{"state":"rejected","version":1}`,
			status: 409, code: system.CodeVersionConflict},
		{name: "delete stale", method: "DELETE", path: "/v1/requests/a", token: adminToken,
			header: map[string]string{"If-Match": `"1"`}, status: 409, code: system.CodeVersionConflict},
		{name: "delete without token", method: "DELETE", path: "/v1/requests/a", status: 401, code: system.CodeUnauthorized},
		{name: "delete as reader", method: "DELETE", path: "/v1/requests/a", token: readerToken, status: 403, code: system.CodeForbidden},
		{name: "delete", method: "DELETE", path: "/v1/requests/a", token: adminToken,
			header: map[string]string{"If-Match": `"2"`}, status: 204},
		{name: "get deleted", method: "GET", path: "/v1/requests/a", status: 404, code: system.CodeNotFound},
		{name: "delete deleted", method: "DELETE", path: "/v1/requests/a", token: adminToken, status: 404, code: system.CodeNotFound},
		// Routing and parameters.
		{name: "patch", method: "PATCH", path: "/v1/requests/a", token: adminToken, body: `{}`,
			status: 405, code: system.CodeMethodNotAllowed, want: map[string]string{"Allow": "GET, PUT, DELETE"}},
		{name: "delete the collection", method: "DELETE", path: "/v1/requests", token: adminToken,
			status: 405, code: system.CodeMethodNotAllowed, want: map[string]string{"Allow": "GET, POST"}},
		{name: "unknown path", method: "GET", path: "/v2/things", status: 404, code: system.CodeNotFound},
		{name: "list limit zero", method: "GET", path: "/v1/requests?limit=0", status: 400, code: system.CodeMalformed},
		{name: "list limit word", method: "GET", path: "/v1/requests?limit=ten", status: 400, code: system.CodeMalformed},
		{name: "list foreign cursor", method: "GET", path: "/v1/requests?cursor=zzz", status: 400, code: system.CodeInvalid},
		{name: "healthz", method: "GET", path: "/healthz", status: 200},
		{name: "readyz", method: "GET", path: "/readyz", status: 200},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			resp, body := s.do(t, srv.URL, srv.Client())
			s.check(t, resp, body)
		})
	}
}

func TestAPIRequestBody(t *testing.T) {
	_, srv := newAPIServer(t, memory.NewStore())
	c := srv.Client()
	resp, body := step{method: "POST", path: "/v1/requests", token: adminToken,
		body: `{"state":"pending","payload":{"amount":12.5,"tags":["x"]}}`}.do(t, srv.URL, c)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var created system.Request
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	if created.ID == "" || created.State != "pending" || created.Version != 1 ||
		string(created.Payload) != `{"amount":12.5,"tags":["x"]}` || created.CreatedAt.IsZero() {
		t.Fatalf("created %+v", created)
	}
	if loc := resp.Header.Get("Location"); loc != "/v1/requests/"+created.ID {
		t.Fatalf("Location %q for id %q", loc, created.ID)
	}
	// A partial update keeps the payload and bumps the version.
	resp, body = step{method: "PUT", path: "/v1/requests/" + created.ID, token: adminToken,
		body: `{"state":"approved","version":1}`}.do(t, srv.URL, c)
	var updated system.Request
	if resp.StatusCode != 200 || json.Unmarshal(body, &updated) != nil {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	if updated.State != "approved" || updated.Version != 2 || string(updated.Payload) != string(created.Payload) ||
		!updated.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("updated %+v from %+v", updated, created)
	}
	// A payload-only update keeps the state.
	resp, body = step{method: "PUT", path: "/v1/requests/" + created.ID, token: adminToken,
		body: `{"payload":[1,2]}`, header: map[string]string{"If-Match": `W/"2"`}}.do(t, srv.URL, c)
	if resp.StatusCode != 200 || json.Unmarshal(body, &updated) != nil {
		t.Fatalf("update payload: %d %s", resp.StatusCode, body)
	}
	if updated.State != "approved" || updated.Version != 3 || string(updated.Payload) != `[1,2]` {
		t.Fatalf("updated %+v", updated)
	}
}

func TestAPIListPagesThroughEverything(t *testing.T) {
	store := memory.NewStore()
	_, srv := newAPIServer(t, store)
	c := srv.Client()
	want := map[string]bool{}
	for i := range 57 {
		id := fmt.Sprintf("req-%02d", i)
		want[id] = true
		resp, body := step{method: "POST", path: "/v1/requests", token: adminToken,
			body: `{"id":"` + id + `","state":"pending"}`}.do(t, srv.URL, c)
		if resp.StatusCode != 201 {
			t.Fatalf("create %s: %d %s", id, resp.StatusCode, body)
		}
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		path := "/v1/requests?limit=10"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		resp, body := step{method: "GET", path: path}.do(t, srv.URL, c)
		if resp.StatusCode != 200 {
			t.Fatalf("list: %d %s", resp.StatusCode, body)
		}
		var page struct {
			Items      []system.Request `json:"items"`
			NextCursor string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		pages++
		if len(page.Items) > 10 {
			t.Fatalf("page of %d with limit 10", len(page.Items))
		}
		for _, r := range page.Items {
			if seen[r.ID] {
				t.Fatalf("%s listed twice", r.ID)
			}
			seen[r.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		cursor = page.NextCursor
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d requests, created %d", len(seen), len(want))
	}
	for id := range want {
		if !seen[id] {
			t.Fatalf("%s never listed", id)
		}
	}
}

func TestAPIThrottle(t *testing.T) {
	now := time.Unix(0, 0)
	bucket := system.NewTokenBucket(2, 2, system.WithBucketClock(func() time.Time { return now }))
	_, srv := newAPIServer(t, memory.NewStore(), system.WithTokenBucket(bucket))
	c := srv.Client()
	get := step{method: "GET", path: "/v1/requests/x", status: 404, code: system.CodeNotFound}
	for range 2 {
		resp, body := get.do(t, srv.URL, c)
		get.check(t, resp, body)
	}
	throttled := step{method: "GET", path: "/v1/requests/x", status: 429, code: system.CodeThrottled,
		want: map[string]string{"Retry-After": "1"}}
	resp, body := throttled.do(t, srv.URL, c)
	throttled.check(t, resp, body)
	// A mutation is throttled before authentication, as at API Gateway.
	post := step{method: "POST", path: "/v1/requests", body: `{"state":"pending"}`, status: 429, code: system.CodeThrottled}
	resp, body = post.do(t, srv.URL, c)
	post.check(t, resp, body)
	// Health, readiness and metrics are not behind the gateway.
	health := step{method: "GET", path: "/healthz", status: 200}
	resp, body = health.do(t, srv.URL, c)
	health.check(t, resp, body)
	now = now.Add(500 * time.Millisecond)
	resp, body = get.do(t, srv.URL, c)
	get.check(t, resp, body)

	m := step{method: "GET", path: "/metrics", status: 200}
	resp, body = m.do(t, srv.URL, c)
	m.check(t, resp, body)
	if !strings.Contains(string(body), "headroom_api_throttled_total 2") {
		t.Fatalf("metrics do not count the 2 throttled requests:\n%s", body)
	}
}

func TestAPIDrain(t *testing.T) {
	store := memory.NewStore()
	if _, err := store.Create(context.Background(), system.Request{ID: "kept", State: "pending"}); err != nil {
		t.Fatal(err)
	}
	api, srv := newAPIServer(t, store)
	api.Drain()
	steps := []step{
		{name: "readyz while draining", method: "GET", path: "/readyz", status: 503, code: system.CodeUnavailable},
		{name: "healthz while draining", method: "GET", path: "/healthz", status: 200},
		{name: "create while draining", method: "POST", path: "/v1/requests", token: adminToken, body: `{"state":"pending"}`,
			status: 503, code: system.CodeUnavailable, want: map[string]string{"Retry-After": "1"}},
		{name: "unauthorized still 401 while draining", method: "POST", path: "/v1/requests", body: `{"state":"pending"}`,
			status: 401, code: system.CodeUnauthorized},
		{name: "delete while draining", method: "DELETE", path: "/v1/requests/kept", token: adminToken,
			status: 503, code: system.CodeUnavailable},
		{name: "reads still served", method: "GET", path: "/v1/requests/kept", status: 200},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			resp, body := s.do(t, srv.URL, srv.Client())
			s.check(t, resp, body)
		})
	}
	api.Accept()
	s := step{method: "GET", path: "/readyz", status: 200}
	resp, body := s.do(t, srv.URL, srv.Client())
	s.check(t, resp, body)
}

func TestAPIReadyCheck(t *testing.T) {
	down := fmt.Errorf("store unreachable")
	_, srv := newAPIServer(t, memory.NewStore(), system.WithReadyCheck(func(context.Context) error { return down }))
	s := step{method: "GET", path: "/readyz", status: 503, code: system.CodeUnavailable}
	resp, body := s.do(t, srv.URL, srv.Client())
	s.check(t, resp, body)
	if !strings.Contains(string(body), "store unreachable") {
		t.Fatalf("readyz does not say why: %s", body)
	}
}

func TestAPIMetricsByRouteAndCode(t *testing.T) {
	_, srv := newAPIServer(t, memory.NewStore())
	c := srv.Client()
	for _, s := range []step{
		{method: "POST", path: "/v1/requests", token: adminToken, body: `{"id":"m","state":"pending"}`, status: 201},
		{method: "GET", path: "/v1/requests/m", status: 200},
		{method: "GET", path: "/v1/requests/zz", status: 404, code: system.CodeNotFound},
	} {
		resp, body := s.do(t, srv.URL, c)
		s.check(t, resp, body)
	}
	resp, body := step{method: "GET", path: "/metrics"}.do(t, srv.URL, c)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`headroom_api_requests_total{code="201",route="POST /v1/requests"} 1`,
		`headroom_api_requests_total{code="200",route="GET /v1/requests/{id}"} 1`,
		`headroom_api_requests_total{code="404",route="GET /v1/requests/{id}"} 1`,
		`headroom_api_request_duration_seconds_count{route="GET /v1/requests/{id}"} 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
