package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/headroom/headroom/scenarios"
	"github.com/headroom/headroom/system"
	_ "github.com/headroom/headroom/system/backend/all"
)

// serveFlags are the flags of `headroom serve`.
type serveFlags struct {
	config       string
	scenario     string
	sets         []string
	httpAddr     string
	thriftAddr   string
	viaThrift    bool
	store        string
	storeDSN     string
	bus          string
	busDSN       string
	token        string
	drainTimeout time.Duration
	drainDelay   time.Duration
}

// tokenEnv names the environment variable that can carry the admin token, so it need not
// appear in a process listing.
const tokenEnv = "HEADROOM_TOKEN"

func newServeCmd() *cobra.Command {
	cmd, _ := serveCmd()
	return cmd
}

// serveCmd returns the command and the flags it fills, for tests of the configuration.
func serveCmd() (*cobra.Command, *serveFlags) {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the real system: HTTP API, Thrift service and processors in one process",
		Long: `Run the request pipeline as real software: the HTTP API (/v1/requests, /healthz,
/readyz, /metrics), the Thrift service with the same operations, and the processor pools
consuming one queue per state under the account and reserved concurrency caps.

Settings come from a YAML config file (--config), then from a scenario (--scenario: its
states, gateway throttle, concurrency limits, queue settings and processing times, so the
system makes the simulator's assumptions), then from the flags given explicitly.

Changes need the admin bearer token: --token, or $HEADROOM_TOKEN, or the config file's
admin_tokens; with none of them a random token is generated and printed.

SIGINT or SIGTERM stops intake (/readyz answers 503, changes get 503), lets in-flight
requests finish, drains the queues within --drain-timeout and reports what was left.`,
		Example: `  headroom serve
  headroom serve --scenario baseline --token s3cret
  headroom serve --config serve.yaml --thrift-addr 127.0.0.1:9090 --api-via-thrift`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return serve(cmd, *f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "", "YAML server configuration `FILE`")
	fl.StringVarP(&f.scenario, "scenario", "s", "", "take states, caps and service times from a scenario (bundled `NAME` or FILE)")
	fl.StringArrayVar(&f.sets, "set", nil, "override a scenario key by its dotted path, `key=value` (repeatable)")
	fl.StringVar(&f.httpAddr, "http-addr", system.DefaultHTTPAddr, "HTTP API listen `address`")
	fl.StringVar(&f.thriftAddr, "thrift-addr", "", "Thrift service listen `address` (none when empty)")
	fl.BoolVar(&f.viaThrift, "api-via-thrift", false, "the HTTP API calls the Thrift service instead of the pipeline (web → Thrift → store)")
	fl.StringVar(&f.store, "store", system.DefaultBackend, "store backend `name`")
	fl.StringVar(&f.storeDSN, "store-dsn", "", "store backend `DSN`")
	fl.StringVar(&f.bus, "bus", system.DefaultBackend, "bus backend `name`")
	fl.StringVar(&f.busDSN, "bus-dsn", "", "bus backend `DSN`")
	fl.StringVar(&f.token, "token", "", "admin bearer `token` (default $"+tokenEnv+")")
	fl.DurationVar(&f.drainTimeout, "drain-timeout", system.DefaultDrainTimeout, "how long a graceful shutdown may take")
	fl.DurationVar(&f.drainDelay, "drain-delay", time.Second, "how long /readyz answers 503 before the listeners close")
	return cmd, f
}

func serve(cmd *cobra.Command, f serveFlags) error {
	cfg, err := serveConfig(cmd, f)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	if len(cfg.AdminTokens) == 0 {
		tok, err := randomToken()
		if err != nil {
			return err
		}
		cfg.AdminTokens = []string{tok}
		fmt.Fprintf(stderr, "no admin token given (--token, $%s or admin_tokens): using %s\n", tokenEnv, tok)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := system.NewServer(ctx, cfg, system.WithServerLogger(log))
	if err != nil {
		if errors.Is(err, system.ErrInvalid) {
			return badInput{err}
		}
		return err
	}
	rep, err := srv.Run(ctx)
	printServeReport(stderr, rep)
	if err != nil {
		return err
	}
	if !rep.Clean() {
		return errors.New("shutdown left work unfinished (see the report above)")
	}
	return nil
}

// serveConfig layers the config file, the scenario and the explicitly given flags.
func serveConfig(cmd *cobra.Command, f serveFlags) (system.ServerConfig, error) {
	var cfg system.ServerConfig
	if f.config != "" {
		c, err := system.LoadServerConfig(f.config)
		if err != nil {
			return cfg, badInput{err}
		}
		cfg = c
	}
	if f.scenario != "" {
		s, err := scenarios.Load(f.scenario, scenarios.WithSets(f.sets))
		if err != nil {
			return cfg, err
		}
		if cfg, err = serveFromScenario(s, cfg); err != nil {
			return cfg, err
		}
	} else if len(f.sets) > 0 {
		return cfg, usageError{errors.New("--set needs --scenario")}
	}
	fl := cmd.Flags()
	set := func(name string, apply func()) {
		// A flag overrides the file only when given; its default applies only when the
		// file left the setting empty (ServerConfig's own defaults are the same values).
		if fl.Changed(name) {
			apply()
		}
	}
	set("http-addr", func() { cfg.HTTPAddr = f.httpAddr })
	set("thrift-addr", func() { cfg.ThriftAddr = f.thriftAddr })
	set("api-via-thrift", func() { cfg.APIViaThrift = f.viaThrift })
	set("store", func() { cfg.Store = f.store })
	set("store-dsn", func() { cfg.StoreDSN = f.storeDSN })
	set("bus", func() { cfg.Bus = f.bus })
	set("bus-dsn", func() { cfg.BusDSN = f.busDSN })
	set("drain-timeout", func() { cfg.DrainTimeout = f.drainTimeout })
	if fl.Changed("drain-delay") || cfg.DrainDelay == 0 {
		cfg.DrainDelay = f.drainDelay
	}
	token := f.token
	if token == "" {
		token = os.Getenv(tokenEnv)
	}
	if token != "" {
		cfg.AdminTokens = append([]string{token}, cfg.AdminTokens...)
	}
	if cfg.APIViaThrift && cfg.ThriftAddr == "" && cfg.ThriftUpstream == "" {
		return cfg, usageError{errors.New("--api-via-thrift needs --thrift-addr (or thrift_upstream in the config file)")}
	}
	return cfg, nil
}

func randomToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating a token: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

func printServeReport(w io.Writer, rep system.ServerReport) {
	if rep.Clean() {
		fmt.Fprintf(w, "shutdown: clean; %s\n", rep)
		return
	}
	fmt.Fprintf(w, "shutdown: UNFINISHED; %s\n", rep)
}
