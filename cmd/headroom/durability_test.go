package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/headroom/headroom/system"
	"github.com/headroom/headroom/system/backend/awstest"
	"github.com/headroom/headroom/system/backend/mysql"
	"github.com/headroom/headroom/system/backend/postgres"
	"github.com/headroom/headroom/system/backend/rediscache"
)

// The SIGKILL durability test: `headroom serve` on durable backends, as a child process,
// is killed without warning in the middle of a load and started again; every request its
// API acknowledged must then be stored and processed (or dead-lettered), nothing missing.
// It covers every durable store and every durable bus at least once.

// durableCombo is one store × bus pair.
type durableCombo struct {
	store, bus string
	// aws starts the local DynamoDB and SNS/SQS emulators for the pair.
	aws bool
}

var durableCombos = []durableCombo{
	{store: "postgres", bus: "nats"},
	{store: "redis+mysql", bus: "rabbitmq"},
	{store: "mysql", bus: "rabbitmq"},
	{store: "postgres", bus: "rabbitmq"},
	{store: "mysql", bus: "nats"},
	{store: "dynamodb", bus: "sns+sqs", aws: true},
}

// The load: ops operations (creates, a quarter of them followed by an update of the
// request just created) paced evenly over loadFor by several clients; the child is killed
// once killAfter of them are acknowledged.
const (
	durOps       = 2000
	durClients   = 8
	durLoadFor   = 4 * time.Second
	durKillAfter = durOps / 2
	durToken     = "durability-admin-token"
	// drainFor bounds the wait for the restarted server to process what was left: the
	// backlog, the messages in flight at the kill (visible again after the 2 s visibility
	// timeout), the relay's republishing of writes the kill left unpublished, and retries
	// of failed steps (3 receives).
	durDrainFor = 45 * time.Second
)

// durConfig is the server configuration: processing slower than intake, so the kill finds
// a backlog, messages in flight and writes not yet published; a fifth of the steps fail,
// so some requests end in the dead-letter queue.
const durConfig = `http_addr: 127.0.0.1:0
drain_timeout: 20s
pipeline:
  topic: %s
  visibility_timeout: 2s
  max_receives: 3
  account_concurrency: 8
  batch_size: 5
  relay_interval: 200ms
  relay_grace: 1s
  work:
    service_time: {dist: exponential, mean: 15ms}
    failure_rate: 0.2
`

func TestDurabilityAfterSIGKILL(t *testing.T) {
	bin := buildHeadroom(t)
	for _, c := range durableCombos {
		t.Run(c.store+"_"+c.bus, func(t *testing.T) { testDurability(t, bin, c) })
	}
}

// buildHeadroom builds the CLI once into a temporary directory.
func buildHeadroom(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "headroom")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ./cmd/headroom: %v\n%s", err, out)
	}
	t.Logf("built %s in %v", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// durBackends are the DSNs of one run, on a table, key prefix and topic of its own, and
// the store the test reads to check the outcome: the source of truth (for redis+mysql the
// MySQL table, since a kill between a commit and its cache invalidation legitimately
// leaves a stale cache entry for up to one TTL).
type durBackends struct {
	storeDSN, busDSN   string
	checkName, checkDS string
	cleanup            func(t testing.TB)
}

func durDSNs(t testing.TB, c durableCombo, name string) durBackends {
	var b durBackends
	b.cleanup = func(testing.TB) {}
	switch c.store {
	case "postgres":
		dsn := envOr("HEADROOM_TEST_POSTGRES_DSN", postgres.DefaultDSN)
		b.storeDSN = withQuery(t, dsn, postgres.TableParam, name)
		b.checkName, b.checkDS = c.store, b.storeDSN
		b.cleanup = func(t testing.TB) { dropPostgres(t, dsn, name) }
	case "mysql", "redis+mysql":
		dsn := envOr("HEADROOM_TEST_MYSQL_DSN", mysql.DefaultDSN)
		mysqlDSN := withQuery(t, dsn, mysql.TableParam, name)
		b.storeDSN, b.checkName, b.checkDS = mysqlDSN, "mysql", mysqlDSN
		if c.store == "redis+mysql" {
			u := strings.Replace(mysqlDSN, "mysql://", "redis+mysql://", 1)
			u = withQuery(t, u, rediscache.RedisParam, rediscache.DefaultRedisAddr)
			b.storeDSN = withQuery(t, u, rediscache.PrefixParam, name+":")
		}
		b.cleanup = func(t testing.TB) { dropMySQL(t, dsn, name) }
	case "dynamodb":
		b.storeDSN = "table=" + name
		b.checkName, b.checkDS = c.store, b.storeDSN
	default:
		t.Fatalf("no durable store %q", c.store)
	}
	switch c.bus {
	case "rabbitmq":
		b.busDSN = os.Getenv("HEADROOM_TEST_RABBITMQ_URL")
	case "nats":
		b.busDSN = os.Getenv("HEADROOM_TEST_NATS_URL")
	case "sns+sqs":
		b.busDSN = "wait=2s" // shorter long polls: a graceful stop need not wait out 20 s
	default:
		t.Fatalf("no durable bus %q", c.bus)
	}
	return b
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func withQuery(t testing.TB, dsn, k, v string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("DSN %q: %v", dsn, err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func dropPostgres(t testing.TB, dsn, table string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Errorf("dropping %s: %v", table, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		t.Errorf("dropping %s: %v", table, err)
	}
}

func dropMySQL(t testing.TB, dsn, table string) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Errorf("dropping %s: %v", table, err)
		return
	}
	db, err := sql.Open("mysql", cfg.Driver.FormatDSN())
	if err != nil {
		t.Errorf("dropping %s: %v", table, err)
		return
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
		t.Errorf("dropping %s: %v", table, err)
	}
}

// awsEnv starts the emulators for the test and restores the AWS environment afterwards
// (awstest points the SDK's standard variables at the emulators; the children inherit
// them, as they would inherit a real account's).
func awsEnv(t testing.TB) {
	saved := map[string]*string{}
	for _, kv := range os.Environ() {
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") {
			saved[k] = &v
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stop, err := awstest.Setup(ctx, awstest.DynamoDB|awstest.SNSSQS)
	if err != nil {
		t.Fatalf("the AWS emulators are required for the dynamodb + sns+sqs pair: %v", err)
	}
	t.Cleanup(func() {
		if err := awstest.Down(); err != nil && t.Failed() {
			t.Logf("the emulators did not survive the test: %v", err)
		}
		stop()
		for _, kv := range os.Environ() {
			if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AWS_") && saved[k] == nil {
				os.Unsetenv(k)
			}
		}
		for k, v := range saved {
			os.Setenv(k, *v)
		}
	})
}

// child is one `headroom serve` process.
type child struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	exited chan struct{} // closed when the process has exited; err is then its status
	err    error
}

var servingLine = regexp.MustCompile(`msg=serving http=(\S+)`)

// startChild starts the server and waits until it serves and /readyz answers 200.
func startChild(t *testing.T, bin string, args []string) *child {
	t.Helper()
	c := &child{stderr: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Env = append(os.Environ(), tokenEnv+"=") // the token comes from --token only
	pr, pw := io.Pipe()
	c.cmd.Stderr = pw
	c.cmd.Stdout = c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			c.stderr.Write([]byte(line + "\n"))
			if m := servingLine.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	go func() {
		c.err = c.cmd.Wait()
		pw.Close()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			c.cmd.Process.Kill()
			<-c.exited
		}
	})
	select {
	case c.addr = <-addr:
	case <-c.exited:
		t.Fatalf("headroom serve %s exited before serving: %v\n%s", strings.Join(args, " "), c.err, c.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("headroom serve %s did not serve within 60s:\n%s", strings.Join(args, " "), c.stderr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + c.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not ready within 30s (%v):\n%s", c.addr, err, c.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// durLoad is what the load saw: the highest version of each request the API acknowledged,
// and every id a create was sent for.
type durLoad struct {
	mu        sync.Mutex
	acked     map[string]int64
	attempted []string
	creates   atomic.Int64 // acknowledged
	updates   atomic.Int64 // acknowledged
	refused   atomic.Int64 // answered, but not 2xx (before the kill)
}

// drive runs the paced load against addr and kills the child once killAfter operations
// are acknowledged; it returns when every client has stopped (the kill ends them).
func drive(t *testing.T, c *child, prefix string) (*durLoad, time.Duration) {
	l := &durLoad{acked: map[string]int64{}}
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: durClients, DialContext: (&net.Dialer{Timeout: 2 * time.Second}).DialContext},
		Timeout:   10 * time.Second,
	}
	defer client.CloseIdleConnections()
	var next, done atomic.Int64
	var killOnce sync.Once
	var killedAt time.Duration
	start := time.Now()
	kill := func() {
		killOnce.Do(func() {
			killedAt = time.Since(start)
			if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Errorf("SIGKILL: %v", err)
			}
		})
	}
	interval := durLoadFor / durOps
	var killed atomic.Bool
	var wg sync.WaitGroup
	for range durClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !killed.Load() {
				i := next.Add(1) - 1
				if i >= durOps {
					return
				}
				time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
				id := fmt.Sprintf("%s-%d", prefix, i)
				l.mu.Lock()
				l.attempted = append(l.attempted, id)
				l.mu.Unlock()
				v, ok := durCall(client, "POST", "http://"+c.addr+"/v1/requests",
					fmt.Sprintf(`{"id":%q,"state":"pending","payload":{"n":%d}}`, id, i), http.StatusCreated)
				if !ok {
					if v < 0 { // no answer: the server is gone
						killed.Store(true)
						return
					}
					l.refused.Add(1)
					continue
				}
				l.record(id, v)
				l.creates.Add(1)
				if i%4 == 0 {
					v, ok = durCall(client, "PUT", "http://"+c.addr+"/v1/requests/"+id,
						fmt.Sprintf(`{"state":"approved","version":%d}`, v), http.StatusOK)
					if ok {
						l.record(id, v)
						l.updates.Add(1)
					} else if v < 0 {
						killed.Store(true)
						return
					} else {
						l.refused.Add(1)
					}
				}
				if done.Add(1) == durKillAfter {
					kill()
				}
			}
		}()
	}
	wg.Wait()
	kill() // in case the load ended first (it should not)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("the killed server did not exit")
	}
	return l, killedAt
}

func (l *durLoad) record(id string, v int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v > l.acked[id] {
		l.acked[id] = v
	}
}

// durCall sends one request and returns the version the answer carries and whether the
// status was want; a version of -1 means no answer at all.
func durCall(c *http.Client, method, url, body string, want int) (int64, bool) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+durToken)
	resp, err := c.Do(req)
	if err != nil {
		return -1, false
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1, false // the answer was cut off: not acknowledged
	}
	if resp.StatusCode != want {
		return 0, false
	}
	var r struct {
		Version int64 `json:"version"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.Version < 1 {
		return 0, false
	}
	return r.Version, true
}

func testDurability(t *testing.T, bin string, c durableCombo) {
	if c.aws {
		awsEnv(t)
	}
	name := "dur" + randomHex(t, 5)
	be := durDSNs(t, c, name)
	t.Cleanup(func() { be.cleanup(t) })
	dir := t.TempDir()
	cfgText := fmt.Sprintf(durConfig, name)
	cfgPath := filepath.Join(dir, "serve.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	scfg, err := system.ParseServerConfig(cfgPath, []byte(cfgText))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "--config", cfgPath, "--token", durToken, "--drain-delay", "0s",
		"--store", c.store, "--store-dsn", be.storeDSN, "--bus", c.bus, "--bus-dsn", be.busDSN}

	// The test's own view of the backends: the store to check, the bus to read the
	// dead-letter queue (declaring the same topology is idempotent).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	begin := time.Now()
	first := startChild(t, bin, args)
	store, err := system.OpenStore(ctx, be.checkName, be.checkDS)
	if err != nil {
		t.Fatalf("open the %s store to check: %v", be.checkName, err)
	}
	defer closeIf(store)
	bus, err := system.OpenBus(ctx, c.bus, be.busDSN)
	if err != nil {
		t.Fatalf("open the %s bus to read dead letters: %v", c.bus, err)
	}
	topo, err := scfg.Pipeline.Topology()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Declare(ctx, topo); err != nil {
		t.Fatalf("declare the topology: %v", err)
	}
	t.Cleanup(func() {
		closeIf(bus)
		if d, ok := bus.(interface{ DeleteTopology(context.Context) error }); ok {
			dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer dcancel()
			if err := d.DeleteTopology(dctx); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		}
	})

	load, killedAt := drive(t, first, name)
	acked := len(load.acked)
	if acked < durKillAfter/2 {
		t.Fatalf("only %d requests acknowledged before the kill; the load did not run:\n%s", acked, first.stderr)
	}

	// What the kill left: writes stored but never published (the relay's work after the
	// restart) and writes not yet processed.
	unpublished, err := store.Unpublished(ctx, time.Now().Add(time.Hour), 100000)
	if err != nil {
		t.Fatalf("Unpublished: %v", err)
	}
	unprocessed := 0
	for id := range load.acked {
		if r, err := store.Get(ctx, id); err == nil && r.ProcessedVersion != r.Version {
			unprocessed++
		}
	}

	restartAt := time.Now()
	second := startChild(t, bin, args)
	restarted := time.Since(restartAt)

	// Wait until every request that is stored — every acknowledged one must be, and those
	// in flight at the kill may be — has its current version processed or dead-lettered.
	dead := map[string]int{}
	type outcome struct {
		stored              bool
		version             int64
		processed, lettered bool
	}
	var out map[string]outcome
	check := func() (finished bool) {
		drainDLQ(t, bus, dead)
		out = map[string]outcome{}
		finished = true
		load.mu.Lock()
		ids := load.attempted
		load.mu.Unlock()
		for _, id := range ids {
			r, err := store.Get(ctx, id)
			var o outcome
			switch {
			case errors.Is(err, system.ErrNotFound):
				if load.acked[id] > 0 {
					finished = false // lost, unless it shows up (it cannot)
				}
			case err != nil:
				t.Fatalf("Get %s: %v", id, err)
			default:
				o = outcome{stored: true, version: r.Version,
					processed: r.ProcessedVersion == r.Version,
					lettered:  dead[fmt.Sprintf("%s@%d", id, r.Version)] > 0}
				if !o.processed && !o.lettered || r.Version < load.acked[id] {
					finished = false
				}
			}
			out[id] = o
		}
		return finished
	}
	drainStart := time.Now()
	for !check() {
		if time.Since(drainStart) > durDrainFor {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	drained := time.Since(drainStart)

	var stored, processed, lettered, missing, lostUpdates, unackedStored int
	for _, id := range load.attempted {
		o, v := out[id], load.acked[id]
		if !o.stored {
			if v > 0 {
				missing++
				t.Errorf("request %s: acknowledged at version %d, not in the store after the restart", id, v)
			}
			continue
		}
		if v == 0 {
			unackedStored++ // in flight at the kill: stored, answer lost
		} else {
			stored++
		}
		switch {
		case o.version < v:
			lostUpdates++
			t.Errorf("request %s: acknowledged at version %d, stored at %d", id, v, o.version)
		case o.processed:
			processed++
		case o.lettered:
			lettered++
		default:
			missing++
			t.Errorf("request %s: stored at version %d, neither processed nor dead-lettered after %v", id, o.version, drained)
		}
	}

	// A graceful stop of the restarted server: it drains and exits 0.
	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-second.exited:
		if second.err != nil {
			t.Errorf("restarted server stopped with %v:\n%s", second.err, second.stderr)
		}
	case <-time.After(40 * time.Second):
		t.Errorf("restarted server did not stop within 40s of SIGTERM:\n%s", second.stderr)
	}

	t.Logf("%s + %s: %d requests acknowledged (%d creates, %d updates; %d refused) when SIGKILL came %v into the load; "+
		"the kill left %d acknowledged requests unprocessed, %d writes unpublished; "+
		"restarted in %v, drained in %v; stored %d (+%d stored though unanswered at the kill), processed %d, "+
		"dead-lettered %d, missing %d, lost updates %d; whole run %v",
		c.store, c.bus, acked, load.creates.Load(), load.updates.Load(), load.refused.Load(), killedAt.Round(time.Millisecond),
		unprocessed, len(unpublished), restarted.Round(time.Millisecond), drained.Round(time.Millisecond), stored, unackedStored, processed,
		lettered, missing, lostUpdates, time.Since(begin).Round(time.Millisecond))
	if missing != 0 || lostUpdates != 0 || stored != acked {
		t.Fatalf("durability broken: %d acknowledged, %d stored, %d missing, %d lost updates", acked, stored, missing, lostUpdates)
	}
	if processed+lettered != stored+unackedStored {
		t.Fatalf("%d processed + %d dead-lettered != %d stored", processed, lettered, stored+unackedStored)
	}
}

// drainDLQ receives and acknowledges what the dead-letter queue holds now.
func drainDLQ(t *testing.T, b system.Bus, into map[string]int) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		ds, err := b.Receive(ctx, system.DeadLetterQueue, system.ReceiveOptions{Max: 10}, nil)
		cancel()
		var receipts []string
		for _, d := range ds {
			var ref struct {
				ID      string `json:"id"`
				Version int64  `json:"version"`
			}
			if err := json.Unmarshal(d.Body, &ref); err != nil {
				t.Fatalf("dead letter %q: %v", d.Body, err)
			}
			into[fmt.Sprintf("%s@%d", ref.ID, ref.Version)]++
			receipts = append(receipts, d.Receipt)
		}
		if len(receipts) > 0 {
			actx, acancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := b.Ack(actx, system.DeadLetterQueue, receipts...); err != nil {
				t.Errorf("ack dead letters: %v", err)
			}
			acancel()
		}
		if err != nil || len(ds) == 0 {
			return
		}
	}
}

func closeIf(v any) {
	if c, ok := v.(io.Closer); ok {
		c.Close()
	}
}
