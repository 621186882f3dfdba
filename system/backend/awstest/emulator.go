package awstest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Service names an emulator.
type Service uint8

const (
	// DynamoDB is dynalite.
	DynamoDB Service = 1 << iota
	// SNSSQS is fauxqs, which serves SNS and SQS on one port.
	SNSSQS
)

func (s Service) String() string {
	switch s {
	case DynamoDB:
		return "dynalite"
	case SNSSQS:
		return "fauxqs"
	}
	return fmt.Sprintf("Service(%d)", uint8(s))
}

// script is the start script of each emulator in testenv/aws, and probe the path that
// answers 200 once it serves.
func (s Service) script() (script, probe string) {
	if s == DynamoDB {
		return "start-dynalite.js", "/"
	}
	return "start-fauxqs.js", "/health"
}

// startTimeout bounds one emulator's start-up, node's module loading included.
const startTimeout = 60 * time.Second

// Emulator is one running emulator process.
type Emulator struct {
	Service  Service
	Endpoint string // http://127.0.0.1:PORT
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	done     chan error
	stderr   *tailBuffer
}

// Start starts the emulator for s from the npm project in dir (testenv/aws, installed) on
// a port the kernel picks, and returns once it answers its readiness probe.
func Start(ctx context.Context, dir string, s Service) (*Emulator, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%v: node is not on PATH: install Node.js >= 20 (apt-get install nodejs npm)", s)
	}
	script, probe := s.script()
	cmd := exec.Command(node, filepath.Join(dir, script), "0")
	cmd.Dir = dir
	// Its own process group, so a terminal's ^C reaches the test process, which then stops
	// the emulator in order, and not the emulator first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	// The scripts exit when their standard input closes: if this process dies without
	// stopping them, the kernel closes the pipe and they follow.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	e := &Emulator{Service: s, cmd: cmd, stdin: stdin, done: make(chan error, 1), stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%v: start node %s: %w", s, script, err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { e.done <- cmd.Wait() }()

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	select {
	case line, ok := <-lines:
		endpoint, found := strings.CutPrefix(line, "listening ")
		if !ok || !found || !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
			e.Stop()
			return nil, fmt.Errorf("%v: %s did not report its address (first line %q): %s", s, script, line, e.stderr.String())
		}
		e.Endpoint = endpoint
	case <-ctx.Done():
		e.Stop()
		return nil, fmt.Errorf("%v: not listening after %v: %s", s, startTimeout, e.stderr.String())
	}
	if err := e.waitReady(ctx, probe); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// waitReady polls the readiness probe until it answers 200.
func (e *Emulator) waitReady(ctx context.Context, probe string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.Endpoint+probe, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", probe, resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("%v at %s: not ready: %v: %s", e.Service, e.Endpoint, last, e.stderr.String())
		case err := <-e.done:
			e.done <- err
			return fmt.Errorf("%v exited during start-up (%v): %s", e.Service, err, e.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop ends the emulator: its standard input closes (it exits by itself), then SIGTERM,
// then SIGKILL if it lingers. It returns once the process is gone.
func (e *Emulator) Stop() {
	_ = e.stdin.Close()
	select {
	case err := <-e.done:
		e.done <- err
		return
	case <-time.After(2 * time.Second):
	}
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-e.done:
		e.done <- err
	case <-time.After(3 * time.Second):
		_ = e.cmd.Process.Kill()
		e.done <- <-e.done
	}
}

// Exited reports whether the process has ended, and how.
func (e *Emulator) Exited() (bool, error) {
	select {
	case err := <-e.done:
		e.done <- err
		return true, err
	default:
		return false, nil
	}
}

// tailBuffer keeps the last max bytes written to it: an emulator's last words.
type tailBuffer struct {
	max int
	mu  sync.Mutex
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if s == "" {
		return "(no output on stderr)"
	}
	return "stderr: " + s
}

var errNoModule = errors.New("no go.mod above the working directory")

// ProjectDir returns testenv/aws of the module the tests run in: the go.mod nearest above
// the working directory marks the root.
func ProjectDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testenv", "aws"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errNoModule
		}
		dir = parent
	}
}
