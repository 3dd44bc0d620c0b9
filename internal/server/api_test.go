package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/engine"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/render"
)

// cgroupURL is the API path of a cgroup, each segment escaped as a client
// would.
func cgroupURL(path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return cgroupsPrefix + "/" + strings.Join(segs, "/")
}

var timestamp = regexp.MustCompile(`"timestamp":"[^"]*"`)

func TestAPIAgainstFixture(t *testing.T) {
	root, _ := fixtureRoot(t)
	a := newAgent(t, root, time.Hour) // one cycle: the snapshot stays put
	addr := serve(t, New(Options{Source: a, Interval: time.Hour}))

	// Before the first cycle: 503 with a reason, everywhere.
	for _, path := range []string{"/healthz", "/api/v1/cgroups", "/api/v1/cgroups/system.slice"} {
		code, h, body := get(t, addr, path)
		checkJSONHeaders(t, h)
		if code != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
			t.Errorf("%s before the first cycle: %d (Retry-After %q), want 503 with Retry-After", path, code, h.Get("Retry-After"))
		}
		if !strings.Contains(string(body), "no snapshot yet") {
			t.Errorf("%s before the first cycle: %s, want the reason", path, body)
		}
	}

	runAgent(t, a)
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, _, _ := get(t, addr, "/healthz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz still %d 10 s after the agent started", code)
		}
		time.Sleep(5 * time.Millisecond)
	}
	snap := a.Latest()

	t.Run("healthz", func(t *testing.T) {
		code, h, body := get(t, addr, "/healthz")
		checkJSONHeaders(t, h)
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"status": "ok", "last_cycle": snap.Timestamp.Format(time.RFC3339), "cgroups": float64(len(snap.Cgroups))}
		if d := cmp.Diff(want, got); code != http.StatusOK || d != "" {
			t.Errorf("status %d, body (-want +got):\n%s", code, d)
		}
	})

	t.Run("all cgroups", func(t *testing.T) {
		code, h, body := get(t, addr, "/api/v1/cgroups")
		checkJSONHeaders(t, h)
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		// Byte for byte what `cgmon snapshot --format json` writes for
		// the same snapshot...
		var cli bytes.Buffer
		if err := render.JSON(&cli, snap, false); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(cli.String(), string(body)); d != "" {
			t.Errorf("body differs from render.JSON (-cli +api):\n%s", d)
		}
		// ...and what an engine of its own reads from the same root, but
		// for the time.
		e, err := engine.New(engine.Options{Root: root, NoNames: true})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		own, err := e.Next()
		if err != nil {
			t.Fatal(err)
		}
		want := timestamp.ReplaceAll(append(own.AppendJSON(nil), '\n'), []byte(`"timestamp":"X"`))
		if d := cmp.Diff(string(want), string(timestamp.ReplaceAll(body, []byte(`"timestamp":"X"`)))); d != "" {
			t.Errorf("body differs from the engine's own snapshot (-engine +api):\n%s", d)
		}
		if snap.Find(backslashCgroup) == nil {
			t.Errorf("the snapshot has no %s", backslashCgroup)
		}
	})

	t.Run("each cgroup", func(t *testing.T) {
		_, _, body := get(t, addr, "/api/v1/cgroups")
		var all struct{ Cgroups []json.RawMessage }
		if err := json.Unmarshal(body, &all); err != nil {
			t.Fatal(err)
		}
		if len(all.Cgroups) != len(snap.Cgroups) || len(all.Cgroups) < 15 {
			t.Fatalf("%d cgroups in the body, %d in the snapshot", len(all.Cgroups), len(snap.Cgroups))
		}
		for i, c := range snap.Cgroups {
			code, h, body := get(t, addr, cgroupURL(c.Path))
			checkJSONHeaders(t, h)
			if code != http.StatusOK {
				t.Errorf("%s: status %d: %s", c.Path, code, body)
				continue
			}
			if d := cmp.Diff(string(all.Cgroups[i])+"\n", string(body)); d != "" {
				t.Errorf("%s differs from its element of /api/v1/cgroups (-all +one):\n%s", c.Path, d)
			}
		}
		// The same, asked in other ways.
		for path, want := range map[string]string{
			"/api/v1/cgroups/":              "/",
			"/api/v1/cgroups/system.slice/": "/system.slice",
			"/api/v1/cgroups/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3633c56e_87fd_365b_8654_3cf07f6129a2.slice": "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3633c56e_87fd_365b_8654_3cf07f6129a2.slice",
			`/api/v1/cgroups/system.slice/system-serial%5Cx2dgetty.slice`:                                                              backslashCgroup,
		} {
			code, _, body := get(t, addr, path)
			var got struct{ Path string }
			if err := json.Unmarshal(body, &got); code != http.StatusOK || err != nil || got.Path != want {
				t.Errorf("%s: %d %s, want %s", path, code, body, want)
			}
		}
		resp, body := raw(t, addr, "GET", `/api/v1/cgroups/system.slice/system-serial\x2dgetty.slice`)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"name":"system-serial\\x2dgetty.slice"`)) {
			t.Errorf("raw backslash: %d %s", resp.StatusCode, body)
		}
		code, h, body := get(t, addr, "/api/v1/cgroups/system.slice/nosuch.service")
		checkJSONHeaders(t, h)
		if code != http.StatusNotFound || !strings.Contains(errorBody(t, body), "/system.slice/nosuch.service") {
			t.Errorf("absent cgroup: %d %s, want 404 naming it", code, body)
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		resp, err := client.Head("http://" + addr + "/api/v1/cgroups")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength <= 0 {
			t.Errorf("HEAD: %d, length %d", resp.StatusCode, resp.ContentLength)
		}
	})

	t.Run("filters", func(t *testing.T) {
		for _, tc := range []struct {
			query string
			want  []string
		}{
			// As TestSnapshotFilters in cmd/cgmon.
			{"group=system.slice&include=*.service,*.scope&exclude=sshd.*", []string{
				"/system.slice/demo.service",
				"/system.slice/docker-a5d7b9f06b349c74cc6ba5dab5855532c550cbc1d7bdfd73ff581be809c553c7.scope"}},
			{"group=/machine.slice&include=libpod-*&include=nothing", []string{
				"/machine.slice/libpod-conmon-ddf9ae9b9f6846c640b12473c3e3530289a8120953197bea1dbe6f7345a4e644.scope",
				"/machine.slice/libpod-ddf9ae9b9f6846c640b12473c3e3530289a8120953197bea1dbe6f7345a4e644.scope"}},
			{"group=user.slice/", []string{"/user.slice", "/user.slice/user-1000.slice", "/user.slice/user-1000.slice/session-1.scope"}},
			{"include=*.web1&exclude=lxc.monitor.*", []string{"/lxc.payload.web1"}},
			{"include=" + url.QueryEscape(`*\x2d*`), []string{backslashCgroup}},
			{"group=no.such.slice", []string{}},
		} {
			code, _, body := get(t, addr, "/api/v1/cgroups?"+tc.query)
			var got struct{ Cgroups []struct{ Path string } }
			if err := json.Unmarshal(body, &got); code != http.StatusOK || err != nil {
				t.Errorf("%s: %d %v %s", tc.query, code, err, body)
				continue
			}
			paths := []string{}
			for _, c := range got.Cgroups {
				paths = append(paths, c.Path)
			}
			if d := cmp.Diff(tc.want, paths); d != "" {
				t.Errorf("%s: paths (-want +got):\n%s", tc.query, d)
			}
		}
		for _, query := range []string{
			"include=a/b", "exclude=x/y", "group=a//b", "group=..", "group=system.slice/../..", "group=a%00b",
			"group=a&group=b", "grop=system.slice", "pretty=1", "group=%zz", "a;b",
		} {
			code, h, body := get(t, addr, "/api/v1/cgroups?"+query)
			checkJSONHeaders(t, h)
			if code != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", query, code, body)
				continue
			}
			t.Logf("%s: %s", query, errorBody(t, body))
		}
		if code, _, body := get(t, addr, "/api/v1/cgroups/system.slice?group=x"); code != http.StatusBadRequest {
			t.Errorf("a query on one cgroup: %d %s, want 400", code, body)
		}
	})
}

func TestHealthStaleAndFailing(t *testing.T) {
	old := &model.Snapshot{Timestamp: time.Now().Add(-time.Minute).UTC(), Cgroups: make([]model.Cgroup, 3)}
	for _, tc := range []struct {
		name string
		src  staticSource
		want map[string]any
	}{
		{"stale", staticSource{snap: old}, map[string]any{"status": "unavailable",
			"error": "the latest snapshot is 1m0s old, more than 3 intervals of 5s", "last_cycle": old.Timestamp.Format(time.RFC3339), "cgroups": 3.0}},
		{"stale and failing", staticSource{snap: old, err: errors.New("read /sys/fs/cgroup: gone")}, map[string]any{"status": "unavailable",
			"error": "the latest snapshot is 1m0s old, more than 3 intervals of 5s; last cycle: read /sys/fs/cgroup: gone", "last_cycle": old.Timestamp.Format(time.RFC3339), "cgroups": 3.0}},
		{"never succeeded", staticSource{err: errors.New("no cgroup mount")}, map[string]any{"status": "unavailable",
			"error": "no snapshot yet: the first cycle has not finished; last cycle: no cgroup mount"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := serve(t, New(Options{Source: tc.src, Interval: 5 * time.Second}))
			code, h, body := get(t, addr, "/healthz")
			checkJSONHeaders(t, h)
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); code != http.StatusServiceUnavailable || d != "" {
				t.Errorf("status %d, body (-want +got):\n%s", code, d)
			}
			if h.Get("Retry-After") != "5" {
				t.Errorf("Retry-After %q, want 5", h.Get("Retry-After"))
			}
		})
	}
}

func TestAppendCgroupJSONIsTheSnapshotsElement(t *testing.T) {
	e, err := engine.New(engine.Options{Root: fixture, NoNames: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for range 2 { // the second has rates
		snap, err := e.Next()
		if err != nil {
			t.Fatal(err)
		}
		var all struct{ Cgroups []json.RawMessage }
		if err := json.Unmarshal(snap.AppendJSON(nil), &all); err != nil {
			t.Fatal(err)
		}
		for i := range snap.Cgroups {
			got := snap.Cgroups[i].AppendJSON([]byte("prefix"))
			if d := cmp.Diff("prefix"+string(all.Cgroups[i]), string(got)); d != "" {
				t.Errorf("%s (-want +got):\n%s", snap.Cgroups[i].Path, d)
			}
			std, err := json.Marshal(&snap.Cgroups[i])
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(std, all.Cgroups[i]) {
				t.Errorf("%s: encoding/json gives\n%s", snap.Cgroups[i].Path, std)
			}
		}
	}
}
