package awstest

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// startEach starts the emulator for s from the installed project, failing t if it cannot.
func startEach(t *testing.T, s Service) *Emulator {
	t.Helper()
	dir, err := ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := Install(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	e, err := Start(context.Background(), dir, s)
	if err != nil {
		t.Fatalf("start %v: %v", s, err)
	}
	return e
}

// TestStartAndStop: each emulator starts on its own free loopback port, answers its
// probe, and is gone after Stop.
func TestStartAndStop(t *testing.T) {
	for _, s := range []Service{DynamoDB, SNSSQS} {
		e := startEach(t, s)
		if !strings.HasPrefix(e.Endpoint, "http://127.0.0.1:") || strings.HasSuffix(e.Endpoint, ":0") {
			t.Fatalf("%v endpoint %q, want a loopback port", s, e.Endpoint)
		}
		_, probe := s.script()
		resp, err := http.Get(e.Endpoint + probe)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%v probe: %v %v", s, resp, err)
		}
		resp.Body.Close()
		start := time.Now()
		e.Stop()
		if done, _ := e.Exited(); !done {
			t.Fatalf("%v still running after Stop", s)
		}
		if _, err := http.Get(e.Endpoint + probe); err == nil {
			t.Fatalf("%v still answers after Stop", s)
		}
		t.Logf("%v at %s stopped in %v", s, e.Endpoint, time.Since(start).Round(time.Millisecond))
	}
}

// TestMissingNodeFailsClearly: without node on PATH, Start says what to install.
func TestMissingNodeFailsClearly(t *testing.T) {
	dir, err := ProjectDir()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir())
	_, err = Start(context.Background(), dir, DynamoDB)
	if err == nil || !strings.Contains(err.Error(), "install Node.js") {
		t.Fatalf("start without node: %v, want an error saying to install Node.js", err)
	}
	empty := t.TempDir()
	if err := os.WriteFile(empty+"/package-lock.json", []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Install(context.Background(), empty); err == nil || !strings.Contains(err.Error(), "npm is not on PATH") {
		t.Fatalf("install without npm: %v, want an error saying npm is missing", err)
	}
}

// TestEmulatorsOutliveAClientThatDiesMidRequest: a client that dies while sending a request
// (the SIGKILL durability test kills its server at any moment) costs that request only:
// the emulator keeps serving. dynalite rethrew the aborted request's error and exited, so
// every later call was refused.
func TestEmulatorsOutliveAClientThatDiesMidRequest(t *testing.T) {
	for _, s := range []Service{DynamoDB, SNSSQS} {
		e := startEach(t, s)
		t.Cleanup(e.Stop)
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.Endpoint, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		// Headers and the start of a 100-byte body, then a reset: the client is gone.
		_, err = io.WriteString(conn, "POST / HTTP/1.1\r\nHost: emulator\r\n"+
			"Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"+
			"Content-Length: 100\r\n\r\n{\"Lim")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // let the server read the partial body
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
		time.Sleep(200 * time.Millisecond) // what would have crashed has crashed
		if done, err := e.Exited(); done {
			t.Fatalf("%v exited after a client died mid-request (%v): %s", s, err, e.stderr.String())
		}
		_, probe := s.script()
		resp, err := http.Get(e.Endpoint + probe)
		if err != nil {
			t.Fatalf("%v after a client died mid-request: %v: %s", s, err, e.stderr.String())
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%v probe after a client died mid-request: %s", s, resp.Status)
		}
	}
}
