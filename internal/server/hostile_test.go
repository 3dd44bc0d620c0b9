package server

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHostilePaths sends paths no HTTP client would send (byte for byte,
// over a raw connection) and checks the status, that the answer is a JSON
// error, and that nothing from outside the API's data ever comes back: the
// fixture copy has a secret beside it, in its /etc/passwd, and behind
// symbolic links in its cgroup tree.
func TestHostilePaths(t *testing.T) {
	root, secret := fixtureRoot(t)
	a := newAgent(t, root, time.Hour)
	runAgent(t, a)
	var processes []string
	var mu sync.Mutex
	addr := serve(t, New(Options{Source: a, Interval: time.Hour,
		Processes: ProcessesHandlerFunc(func(w http.ResponseWriter, _ *http.Request, cgroup string) {
			mu.Lock()
			processes = append(processes, cgroup)
			mu.Unlock()
			writeJSON(w, http.StatusOK, []byte("[]\n"))
		})}))
	waitLatest(t, a)

	const (
		bad      = http.StatusBadRequest
		notFound = http.StatusNotFound
		ok       = http.StatusOK
	)
	long := "/api/v1/cgroups/" + strings.Repeat("a", 10000)
	deep := "/api/v1/cgroups" + strings.Repeat("/a", 300)
	for _, tc := range []struct {
		method, target string
		want           int
		// goRejects: net/http refuses the request line itself with a
		// plain-text 400 before any handler runs.
		goRejects bool
	}{
		// dot segments, plain and encoded, in every place
		{"GET", "/api/v1/cgroups/../../etc/passwd", bad, false},
		{"GET", "/api/v1/cgroups/../../../../../../secret.txt", bad, false},
		{"GET", "/../../etc/passwd", bad, false},
		{"GET", "/api/v1/cgroups/./system.slice", bad, false},
		{"GET", "/api/v1/cgroups/system.slice/.", bad, false},
		{"GET", "/api/v1/cgroups/system.slice/..", bad, false},
		{"GET", "/api/v1/cgroups/%2e%2e/%2e%2e/etc/passwd", bad, false},
		{"GET", "/api/v1/cgroups/%2E%2E/%2E%2E/etc/passwd", bad, false},
		{"GET", "/api/v1/cgroups/.%2e/.%2e/etc/passwd", bad, false},
		{"GET", "/api/v1/cgroups/..%2f..%2fetc", bad, false},
		{"GET", "/api/v1/cgroups/..%2F..%2Fetc%2Fpasswd", bad, false},
		{"GET", "/api/v1/cgroups/system.slice%2fdemo.service", bad, false},
		{"GET", "/api/v1/cgroups/%252e%252e/%252e%252e/etc/passwd", bad, false},
		{"GET", "/api/v1/cgroups/%25252e%25252e/etc", bad, false},
		{"GET", "/healthz/..", bad, false},
		{"GET", "/api/v1/cgroups/system.slice/../../../healthz", bad, false},
		// NUL and other control characters
		{"GET", "/api/v1/cgroups/a%00b", bad, false},
		{"GET", "/api/v1/cgroups/system.slice%00/etc/passwd", bad, false},
		{"GET", "/api/v1/cgroups/a%0ab", bad, false},
		{"GET", "/api/v1/cgroups/a%7fb", bad, false},
		{"GET", "/api/v1/cgroups/a\x00b", bad, true},
		{"GET", "/api/v1/cgroups/a\x01b", bad, true},
		// backslashes, except systemd's \xNN escapes
		{"GET", `/api/v1/cgroups/..\..\etc\passwd`, bad, false},
		{"GET", "/api/v1/cgroups/..%5c..%5cetc%5cpasswd", bad, false},
		{"GET", `/api/v1/cgroups/system.slice\`, bad, false},
		{"GET", `/api/v1/cgroups/a\x2`, bad, false},
		{"GET", `/api/v1/cgroups/a\x2g`, bad, false},
		{"GET", `/api/v1/cgroups/system.slice/system-serial\x2dgetty.slice`, ok, false},
		{"GET", `/api/v1/cgroups/system.slice/system-serial%5Cx2dgetty.slice`, ok, false},
		{"GET", `/api/v1/cgroups/system.slice/x\x2e\x2e`, notFound, false}, // a name, not a dot segment
		// empty segments
		{"GET", "//", bad, false},
		{"GET", "//healthz", bad, false},
		{"GET", "/api//v1/cgroups", bad, false},
		{"GET", "/api/v1/cgroups//etc/passwd", bad, false},
		{"GET", "/api/v1/cgroups/system.slice//", bad, false},
		// size
		{"GET", long, bad, false},
		{"GET", deep, bad, false},
		{"GET", "/api/v1/cgroups" + strings.Repeat("/a", 253), notFound, false}, // 256 segments in all: allowed, absent
		// bad encodings and odd request targets
		{"GET", "/api/v1/cgroups/%zz", bad, true},
		{"GET", "/api/v1/cgroups/%", bad, true},
		{"GET", "/api/v1/cgroups/a b", bad, true},
		{"GET", "*", bad, false},
		{"OPTIONS", "*", bad, false},
		{"GET", "http://evil.example/api/v1/cgroups/%2e%2e/", bad, false},
		// symbolic links planted in the cgroup tree are not cgroups, and the
		// API never opens a file by a request path
		{"GET", "/api/v1/cgroups/leak", notFound, false},
		{"GET", "/api/v1/cgroups/system.slice/leak.service", notFound, false},
		{"GET", "/api/v1/cgroups/system.slice/outside.slice/secret.txt", notFound, false},
		{"GET", "/api/v1/cgroups/evil/etc/passwd", notFound, false},
		{"GET", "/api/v1/cgroups/evil/sys/fs/cgroup/system.slice", notFound, false},
		{"GET", "/api/v1/cgroups/proc/self/root/etc/passwd", notFound, false},
		{"GET", "/api/v1/cgroups/etc/passwd", notFound, false},
		{"GET", "/etc/passwd", notFound, false},
		{"GET", "/secret.txt", notFound, false},
		// routes and methods
		{"GET", "/", notFound, false},
		{"GET", "/api", notFound, false},
		{"GET", "/api/v2/cgroups", notFound, false},
		{"GET", "/metrics", notFound, false},
		{"GET", "/api/v1.0/docker/abc", notFound, false},
		{"GET", "/api/v1.0/docker/abc/processes/", notFound, false},
		{"GET", "/api/v1.0/%2e%2e/%2e%2e/processes", bad, false},
		{"GET", "/api/v1.0/docker/../../processes", bad, false},
		{"GET", "/api/v1.0/a%00/processes", bad, false},
		{"POST", "/api/v1/cgroups", http.StatusMethodNotAllowed, false},
		{"PUT", "/api/v1/cgroups/system.slice", http.StatusMethodNotAllowed, false},
		{"DELETE", "/api/v1/cgroups/system.slice", http.StatusMethodNotAllowed, false},
		{"PATCH", "/healthz", http.StatusMethodNotAllowed, false},
		{"OPTIONS", "/healthz", http.StatusMethodNotAllowed, false},
		{"TRACE", "/healthz", http.StatusMethodNotAllowed, false},
		{"POST", "/api/v1.0/docker/abc/processes", http.StatusMethodNotAllowed, false},
		{"BREW", "/api/v1/cgroups", http.StatusMethodNotAllowed, false},
	} {
		name := tc.method + " " + tc.target
		if len(name) > 80 {
			name = name[:80] + "…"
		}
		t.Run(name, func(t *testing.T) {
			resp, body := raw(t, addr, tc.method, tc.target)
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if strings.Contains(string(body), secret) || strings.Contains(string(body), "root:x:") {
				t.Fatalf("the response holds a secret planted outside the API's data: %s", body)
			}
			if resp.StatusCode >= 500 {
				t.Fatalf("a server error on input: %d %s", resp.StatusCode, body)
			}
			if tc.goRejects {
				return
			}
			checkJSONHeaders(t, resp.Header)
			if tc.want == http.StatusMethodNotAllowed && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow %q, want GET, HEAD", resp.Header.Get("Allow"))
			}
			if resp.StatusCode != ok {
				t.Logf("%s", errorBody(t, body))
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(processes) != 0 {
		t.Errorf("the processes handler was called for %q", processes)
	}
}

func TestCompanionRoute(t *testing.T) {
	var got []string
	var mu sync.Mutex
	addr := serve(t, New(Options{Source: staticSource{}, Processes: ProcessesHandlerFunc(
		func(w http.ResponseWriter, r *http.Request, cgroup string) {
			mu.Lock()
			got = append(got, cgroup+"?"+r.URL.RawQuery)
			mu.Unlock()
			writeJSON(w, http.StatusOK, []byte("[]\n"))
		})}))
	for target, want := range map[string]string{
		"/api/v1.0/docker/8847cf91/processes?interval=1&count=1&sort=mem&limit=1": "/docker/8847cf91?interval=1&count=1&sort=mem&limit=1",
		"/api/v1.0/system.slice/docker-7dc0bad.scope/processes":                   "/system.slice/docker-7dc0bad.scope?",
		"/api/v1.0/foo/processes": "/foo?",
		"/api/v1.0/processes":     "/?",
		`/api/v1.0/system.slice/system-serial\x2dgetty.slice/processes`: `/system.slice/system-serial\x2dgetty.slice?`,
	} {
		mu.Lock()
		got = got[:0]
		mu.Unlock()
		resp, body := raw(t, addr, "GET", target)
		checkJSONHeaders(t, resp.Header)
		mu.Lock()
		if resp.StatusCode != http.StatusOK || len(got) != 1 || got[0] != want {
			t.Errorf("%s: %d %s, handler got %q, want %q", target, resp.StatusCode, body, got, want)
		}
		mu.Unlock()
	}
}

func TestPanicIsRecoveredAndLogged(t *testing.T) {
	var log logBuffer
	s := New(Options{Source: staticSource{}, Logger: log.logger()})
	s.Handle("/api/v1/boom", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom in a handler")
	}))
	s.Handle("/api/v1/halfway", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"partial":`))
		panic("boom after the answer began")
	}))
	addr := serve(t, s)

	code, h, body := get(t, addr, "/api/v1/boom")
	checkJSONHeaders(t, h)
	if code != http.StatusInternalServerError || !strings.Contains(errorBody(t, body), "internal error") {
		t.Errorf("panic: %d %s, want 500 with a JSON error", code, body)
	}
	if l := log.String(); !strings.Contains(l, "panic serving a request") || !strings.Contains(l, "boom in a handler") || !strings.Contains(l, "goroutine") {
		t.Errorf("the panic was not logged with its stack:\n%s", l)
	}
	// Once the answer began, the connection is cut: the client sees a
	// broken response, never one that looks whole.
	resp, err := client.Get("http://" + addr + "/api/v1/halfway")
	if err == nil {
		_, err = readAll(resp)
	}
	if err == nil {
		t.Error("a panic after the answer began gave the client a whole response")
	}
	// The server goes on.
	if code, _, _ := get(t, addr, "/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz after panics: %d, want 503 (no snapshot)", code)
	}
}

func readAll(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var b strings.Builder
	_, err := bufio.NewReader(resp.Body).WriteTo(&b)
	return []byte(b.String()), err
}

func TestHandleRefusesAMethodInThePattern(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Handle(\"POST /x\") did not panic")
		}
	}()
	New(Options{Source: staticSource{}}).Handle("POST /x", http.NotFoundHandler())
}

// TestSlowClients stalls connections in the middle of their headers: other
// clients are still answered, the agent keeps cycling, and the server cuts
// the stalled connections after ReadHeaderTimeout.
func TestSlowClients(t *testing.T) {
	t.Parallel()
	root, _ := fixtureRoot(t)
	a := newAgent(t, root, 20*time.Millisecond)
	runAgent(t, a)
	addr := serve(t, New(Options{Source: a, Interval: 20 * time.Millisecond}))
	waitLatest(t, a)

	var stalled []net.Conn
	for range 50 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte("GET /api/v1/cgroups HTTP/1.1\r\nHost: cgmon\r\nX-Half: ")); err != nil {
			t.Fatal(err)
		}
		stalled = append(stalled, c)
	}
	start := time.Now()
	before := a.Stats().Cycles
	for i := 0; i < 20; i++ {
		if code, _, body := get(t, addr, "/api/v1/cgroups/system.slice"); code != http.StatusOK {
			t.Fatalf("with 50 stalled clients: %d %s", code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if after := a.Stats().Cycles; after < before+5 {
		t.Errorf("the agent ran %d cycles in %s with 50 stalled clients, want ≥ 5", after-before, time.Since(start))
	}
	// A stalled connection is closed after ReadHeaderTimeout.
	c := stalled[0]
	c.SetReadDeadline(time.Now().Add(ReadHeaderTimeout + 3*time.Second))
	buf := make([]byte, 512)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue // net/http may answer 408 before closing
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("a stalled client is still connected after %s", time.Since(start))
		}
		break
	}
	if d := time.Since(start); d < ReadHeaderTimeout-time.Second {
		t.Errorf("the stalled client was cut after %s, before ReadHeaderTimeout %s", d, ReadHeaderTimeout)
	}
}

func TestHTTPServerSettings(t *testing.T) {
	hs := New(Options{Source: staticSource{}}).httpServer()
	if hs.ReadHeaderTimeout != 5*time.Second || hs.ReadTimeout != 10*time.Second || hs.WriteTimeout != 30*time.Second ||
		hs.IdleTimeout != 60*time.Second || hs.MaxHeaderBytes != 64<<10 || hs.ErrorLog == nil {
		t.Errorf("http.Server settings: %+v", hs)
	}
}
