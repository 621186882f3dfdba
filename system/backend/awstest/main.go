package awstest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// Region and the static credentials the tests hand the SDK; the emulators accept any.
const (
	Region    = "us-east-1"
	AccessKey = "test"
	SecretKey = "test"
)

var (
	mu      sync.Mutex
	running = map[Service]*Emulator{}
)

// Main installs and starts the emulators in services, sets the SDK's standard environment
// to use them, runs the tests and stops the emulators. It returns the exit code for
// os.Exit; on a set-up failure it prints why and returns 1, so the package FAILS.
func Main(m *testing.M, services Service) int {
	flag.Parse()
	start := time.Now()
	stop, err := Setup(context.Background(), services)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: AWS emulators: %v\n", err)
		return 1
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "awstest: emulators up in %v: %s\n", time.Since(start).Round(time.Millisecond), describe())
	}
	code := m.Run()
	stop()
	return code
}

// Setup is Main without the test run: it starts the emulators and sets the environment,
// and returns the function that stops them.
func Setup(ctx context.Context, services Service) (stop func(), err error) {
	dir, err := ProjectDir()
	if err != nil {
		return nil, err
	}
	if err := Install(ctx, dir); err != nil {
		return nil, err
	}
	var started []*Emulator
	stop = func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range started {
			e.Stop()
			delete(running, e.Service)
		}
	}
	for _, s := range []Service{DynamoDB, SNSSQS} {
		if services&s == 0 {
			continue
		}
		e, err := Start(ctx, dir, s)
		if err != nil {
			stop()
			return nil, err
		}
		started = append(started, e)
		mu.Lock()
		running[s] = e
		mu.Unlock()
	}
	env := map[string]string{
		"AWS_REGION":                Region,
		"AWS_ACCESS_KEY_ID":         AccessKey,
		"AWS_SECRET_ACCESS_KEY":     SecretKey,
		"AWS_SESSION_TOKEN":         "",
		"AWS_EC2_METADATA_DISABLED": "true",
		// A developer's ~/.aws must not change what the tests do.
		"AWS_CONFIG_FILE":             os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_PROFILE":                 "",
	}
	if e := running[DynamoDB]; e != nil {
		env["AWS_ENDPOINT_URL_DYNAMODB"] = e.Endpoint
	}
	if e := running[SNSSQS]; e != nil {
		env["AWS_ENDPOINT_URL_SNS"] = e.Endpoint
		env["AWS_ENDPOINT_URL_SQS"] = e.Endpoint
	}
	for k, v := range env {
		if v == "" {
			os.Unsetenv(k)
		} else {
			os.Setenv(k, v)
		}
	}
	return stop, nil
}

// Endpoint returns the endpoint of the running emulator for s, failing t when there is
// none (the package's TestMain does not start it).
func Endpoint(t testing.TB, s Service) string {
	t.Helper()
	mu.Lock()
	e := running[s]
	mu.Unlock()
	if e == nil {
		t.Fatalf("%v is not running: the package's TestMain must call awstest.Main(m, awstest.%s)", s, map[Service]string{DynamoDB: "DynamoDB", SNSSQS: "SNSSQS"}[s])
	}
	if done, err := e.Exited(); done {
		t.Fatalf("%v at %s has exited (%v): %s", s, e.Endpoint, err, e.stderr.String())
	}
	return e.Endpoint
}

// Down reports the running emulators that have exited, with how and their last words on
// stderr, or nil when all still run: a test that fails on a refused connection says why.
func Down() error {
	mu.Lock()
	defer mu.Unlock()
	var errs []error
	for _, svc := range []Service{DynamoDB, SNSSQS} {
		if e := running[svc]; e != nil {
			if done, err := e.Exited(); done {
				errs = append(errs, fmt.Errorf("%v at %s has exited (%v): %s", svc, e.Endpoint, err, e.stderr.String()))
			}
		}
	}
	return errors.Join(errs...)
}

func describe() string {
	mu.Lock()
	defer mu.Unlock()
	s := ""
	for _, svc := range []Service{DynamoDB, SNSSQS} {
		if e := running[svc]; e != nil {
			s += fmt.Sprintf("%v at %s; ", svc, e.Endpoint)
		}
	}
	return s
}
