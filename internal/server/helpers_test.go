package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/cgmon/cgmon/internal/testsvc"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
)

const fixture = "../../testdata/roots/v2"

// backslashCgroup is a cgroup with a systemd escape in its name, as real
// hosts have them; fixtureRoot adds it.
const backslashCgroup = `/system.slice/system-serial\x2dgetty.slice`

// fixtureRoot copies the v2 fixture into a temporary directory and plants,
// beside and inside the copy, a secret that no response may ever contain:
// a file next to the root, the root's /etc/passwd, and symbolic links from
// the cgroup tree to both. It also adds a cgroup whose name has a systemd
// escape (a copy of sshd.service).
func fixtureRoot(t testing.TB) (root, secret string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	if err := os.CopyFS(root, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	secret = fmt.Sprintf("cgmon-secret-%016x", rand.Uint64())
	cg := filepath.Join(root, "sys/fs/cgroup")
	for _, step := range []func() error{
		func() error { return os.WriteFile(filepath.Join(dir, "secret.txt"), []byte(secret+"\n"), 0o644) },
		func() error { return os.Mkdir(filepath.Join(root, "etc"), 0o755) },
		func() error {
			return os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:"+secret+":/root:/bin/sh\n"), 0o644)
		},
		func() error {
			return os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(cg, "system.slice/leak.service"))
		},
		func() error { return os.Symlink("../../../../secret.txt", filepath.Join(cg, "leak")) },
		func() error { return os.Symlink("/", filepath.Join(cg, "evil")) },
		func() error { return os.Symlink(dir, filepath.Join(cg, "system.slice/outside.slice")) },
		func() error {
			return os.CopyFS(filepath.Join(cg, backslashCgroup), os.DirFS(filepath.Join(cg, "system.slice/sshd.service")))
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return root, secret
}

// newAgent returns an agent over an engine reading root, not running yet.
func newAgent(t testing.TB, root string, interval time.Duration) *agent.Agent {
	t.Helper()
	e, err := engine.New(engine.Options{Root: root, NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	a, err := agent.New(agent.Options{Source: e, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runAgent runs a until the test ends.
func runAgent(t testing.TB, a *agent.Agent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// waitLatest waits for a's first snapshot.
func waitLatest(t testing.TB, a *agent.Agent) *model.Snapshot {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); a.Latest() == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no snapshot 10 s after the agent started")
		}
	}
	return a.Latest()
}

// serve serves s on a fresh loopback port until the test ends and returns
// the address.
func serve(t testing.TB, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// logBuffer collects a test's log concurrently.
type logBuffer struct{ testsvc.Buffer }

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var client = &http.Client{Timeout: 10 * time.Second}

// get fetches a URL path from addr.
func get(t testing.TB, addr, path string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

// raw sends "METHOD target HTTP/1.1" byte for byte, as no HTTP client would
// (no cleaning, no escaping), and returns the response.
func raw(t testing.TB, addr, method, target string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: cgmon\r\nConnection: close\r\n\r\n", method, target); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %q: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %q: body: %v", method, target, err)
	}
	return resp, body
}

// errorBody decodes {"error": "..."} and fails when body is not that.
func errorBody(t testing.TB, body []byte) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == "" {
		t.Fatalf("body %q is not a JSON error: %v", body, err)
	}
	return e.Error
}

// checkJSONHeaders checks the headers every API response carries.
func checkJSONHeaders(t testing.TB, h http.Header) {
	t.Helper()
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

// staticSource serves a fixed snapshot.
type staticSource struct {
	snap *model.Snapshot
	err  error
}

func (s staticSource) Latest() *model.Snapshot { return s.snap }
func (s staticSource) LastError() error        { return s.err }
