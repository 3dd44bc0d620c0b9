package identity

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/rootfs"
)

// IDs in testdata/root.
const (
	brokenDockerID = "7c67821df08238e0999ca876c405337d388487c65588d162b9e95b820b28e24f"
	buildahID      = "ad898cd785ed1e7804acdb810b70565ef9a57584731cc18fed0e96f6002917d4"
	namelessID     = "52b71f3747396a37874cd38441b9ef603715ed0bb528b5a585d0c3b92299c7eb"
	aliceID        = "42426859f3487e763ce899a37298ebff357c51a003b61ca1a131c9b89e04edd8"
	bobID          = "31b4eb7fe81694fb03ff1117170b6f04feba3b06c82610bf2042512668ea9f68"
)

func fixtureRoot(t *testing.T) *rootfs.Dir {
	t.Helper()
	root, err := rootfs.New("testdata/root")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return root
}

// memRoot is an in-memory Root whose files a test can change, and whose
// ReadFile can be held until the test lets it go.
type memRoot struct {
	mu    sync.Mutex
	files fstest.MapFS
	host  bool
	// gate, when not nil, holds every ReadFile until it is closed; entered
	// gets a value each time a ReadFile starts waiting.
	gate    chan struct{}
	entered chan struct{}
	reads   atomic.Int64
}

func newMemRoot(files map[string]string) *memRoot {
	m := &memRoot{files: fstest.MapFS{}}
	for name, data := range files {
		m.set(name, data)
	}
	return m
}

// set writes a file, copying the map so that readers never race the write.
func (m *memRoot) set(name, data string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	files := maps.Clone(m.files)
	files[strings.TrimPrefix(name, "/")] = &fstest.MapFile{Data: []byte(data), Mode: 0o644}
	m.files = files
}

func (m *memRoot) fsys() fstest.MapFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.files
}

func rel(name string) string {
	if name == "/" {
		return "."
	}
	return strings.TrimPrefix(name, "/")
}

func (m *memRoot) ReadFile(name string) ([]byte, error) {
	m.reads.Add(1)
	if m.gate != nil {
		select {
		case m.entered <- struct{}{}:
		default:
		}
		<-m.gate
	}
	return fs.ReadFile(m.fsys(), rel(name))
}

func (m *memRoot) ReadDir(name string) ([]fs.DirEntry, error) {
	return fs.ReadDir(m.fsys(), rel(name))
}

func (m *memRoot) Open(name string) (rootfs.Handle, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: errors.ErrUnsupported}
}

func (m *memRoot) Readlink(name string) (string, error) {
	return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.ErrUnsupported}
}

func (m *memRoot) String() string { return "mem" }
func (m *memRoot) IsHost() bool   { return m.host }

type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2024, 6, 10, 8, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// cached reports whether the resolver holds a fresh entry for id.
func (r *Resolver) cached(id Identity) (string, bool) {
	k, ok := lookupKey(id)
	if !ok {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.cache[k]
	return e.name, ok && r.now().Before(e.expires)
}

// resolved asks r for id's name until a lookup has answered, and returns it.
func resolved(t *testing.T, r *Resolver, id Identity) string {
	t.Helper()
	name := r.Name(id)
	if _, needs := lookupKey(id); !needs {
		return name
	}
	waitFor(t, "a lookup of "+id.ID, func() bool {
		r.Name(id)
		_, ok := r.cached(id)
		return ok
	})
	return r.Name(id)
}

func startResolver(t *testing.T, root rootfs.Root, opts ResolverOptions) *Resolver {
	t.Helper()
	r := NewResolver(root, opts)
	r.Start(context.Background())
	t.Cleanup(func() { r.Close() })
	return r
}

func TestResolverFixture(t *testing.T) {
	r := startResolver(t, fixtureRoot(t), ResolverOptions{})
	tests := []struct {
		name string
		path string
		want string
	}{
		{"proxmox hostname, not the snapshot's", "/lxc/101", "web-ct"},
		{"proxmox ns sub-cgroup", "/lxc/101/ns/init.scope", "web-ct"},
		{"proxmox monitor", "/lxc.monitor/101", "web-ct"},
		{"proxmox conf without hostname", "/lxc/102", "102"},
		{"numeric lxc without conf", "/lxc.payload.103", "103"},
		{"lxc name in the path", "/lxc.payload.web1", "web1"},
		{"podman rootful", "/machine.slice/libpod-" + podmanID + ".scope", "web"},
		{"podman conmon", "/machine.slice/libpod-conmon-" + podmanID + ".scope", "web"},
		{"podman cgroupfs", "/libpod_parent/libpod-" + podmanID, "web"},
		{"buildah in the same store", "/machine.slice/libpod-" + buildahID + ".scope", "buildah-working-container"},
		{"container without names", "/machine.slice/libpod-" + namelessID + ".scope", ""},
		{"podman rootless", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + aliceID + ".scope", "alice-redis"},
		{"podman in a broken store", "/user.slice/user-1001.slice/user@1001.service/user.slice/libpod-" + bobID + ".scope", ""},
		{"cri-o from containers/storage", burstablePod + "/crio-" + crioID + ".scope",
			"k8s_nginx_nginx-7c5ddbdf54-x2b9q_default_73dc8baf-43a0-413e-aac2-5eb0868f6c1a_0"},
		{"docker", "/system.slice/docker-" + dockerID + ".scope", "proxy-nginx-1"},
		{"docker cgroupfs nested", "/docker/" + dockerID + "/init.scope", "proxy-nginx-1"},
		{"docker broken config", "/system.slice/docker-" + brokenDockerID + ".scope", ""},
		{"docker unknown", "/docker/" + ctrdID, ""},
		{"nspawn", "/machine.slice/machine-debian.scope", "debian"},
		{"libvirt", `/machine.slice/machine-qemu\x2d1\x2dWin10.scope`, "Win10"},
		{"systemd unit", "/system.slice/sshd.service", "sshd.service"},
		{"containerd has no source", bestEffortPod + "/cri-containerd-" + ctrdID + ".scope", ""},
		{"kubernetes pod", burstablePod, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := resolved(t, r, Classify(tc.path)); got != tc.want {
				t.Errorf("Name(Classify(%q)) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}

	st := r.Stats()
	errs := map[string]uint64{}
	for _, s := range st.Sources {
		errs[s.Source] = s.Errors
	}
	// bob's containers.json and one config.v2.json are broken; the fixture
	// root is not the live host, so the Docker API is never asked.
	want := map[string]uint64{"proxmox": 0, "containers-storage": 1, "docker-config": 1, "docker-api": 0}
	if diff := cmp.Diff(want, errs, cmpCounts); diff != "" {
		t.Errorf("errors per source (-want +got):\n%s", diff)
	}
	for _, s := range st.Sources {
		if s.Errors > 0 && (s.LastErr == nil || s.LastErrAt.IsZero()) {
			t.Errorf("%s: %d errors but LastErr %v at %v", s.Source, s.Errors, s.LastErr, s.LastErrAt)
		}
		if s.Source == "containers-storage" && !strings.Contains(s.LastErr.Error(), "/home/bob/") {
			t.Errorf("containers-storage error %q does not name the file", s.LastErr)
		}
	}
}

// Errors of a source are counted once per read of it; the storage is read
// again for every ID it did not list, so only "at least once" holds.
var cmpCounts = cmp.Comparer(func(a, b uint64) bool { return (a == 0) == (b == 0) })

// One read of containers.json answers every container in it.
func TestResolverStorageReadOnce(t *testing.T) {
	r := startResolver(t, fixtureRoot(t), ResolverOptions{})
	if got := resolved(t, r, Classify("/machine.slice/libpod-"+podmanID+".scope")); got != "web" {
		t.Fatalf("podman name = %q, want web", got)
	}
	before := r.Stats()
	for _, id := range []string{buildahID, aliceID} {
		if got := r.Name(Classify("/machine.slice/libpod-" + id + ".scope")); got == "" {
			t.Errorf("Name(%s) not cached by the first read", id)
		}
	}
	after := r.Stats()
	if after.Lookups != before.Lookups || after.Hits != before.Hits+2 {
		t.Errorf("lookups %d -> %d, hits %d -> %d; want no lookup and 2 hits",
			before.Lookups, after.Lookups, before.Hits, after.Hits)
	}
}

func TestResolverNeedsNoLookup(t *testing.T) {
	r := NewResolver(newMemRoot(nil), ResolverOptions{}) // never started
	for path, want := range map[string]string{
		"/system.slice/sshd.service":                     "sshd.service",
		"/lxc.payload.web1":                              "web1",
		"/machine.slice/systemd-nspawn@debian.service":   "debian",
		"/machine/qemu-1-instance-00000025.libvirt-qemu": "instance-00000025",
		burstablePod: "",
		bestEffortPod + "/cri-containerd-" + ctrdID + ".scope":      "",
		"/kubepods/burstable/pod" + podUID3 + "/" + cgfsID:          "",
		"/machine.slice/machine-libpod_pod_" + podmanPID + ".slice": "",
		"/libpod_parent/conmon":                                     "",
		"/mygroup":                                                  "",
	} {
		if got := r.Name(Classify(path)); got != want {
			t.Errorf("Name(Classify(%q)) = %q, want %q", path, got, want)
		}
	}
	// An Identity made by hand, with no Name, for a plain LXC container.
	if got := r.Name(Identity{Kind: KindLXC, Runtime: "lxc", ID: "web2"}); got != "web2" {
		t.Errorf("Name(lxc web2) = %q, want web2", got)
	}
	// IDs that are not what the runtime writes are never looked up.
	for _, id := range []Identity{
		{Kind: KindDocker, Runtime: "docker", ID: "../../../etc/passwd"},
		{Kind: KindPodman, Runtime: "podman", ID: "web"},
		{Kind: KindLXC, Runtime: "lxc", ID: ""},
	} {
		r.Name(id)
	}
	if st := r.Stats(); st.Misses != 0 || st.Queued != 0 {
		t.Errorf("stats = %+v, want no misses and nothing queued", st)
	}
}

// A source that hangs holds up the background goroutine, never Name.
func TestResolverNameNeverBlocks(t *testing.T) {
	root := newMemRoot(map[string]string{
		"/var/lib/docker/containers/" + dockerID + "/config.v2.json": `{"Name":"/slow"}`,
	})
	root.gate = make(chan struct{})
	root.entered = make(chan struct{}, 1)
	r := NewResolver(root, ResolverOptions{QueueSize: 2})
	r.Start(context.Background())

	id := Classify("/system.slice/docker-" + dockerID + ".scope")
	if got := r.Name(id); got != "" {
		t.Fatalf("first Name = %q, want \"\"", got)
	}
	select {
	case <-root.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the lookup never started")
	}

	others := []Identity{id}
	for _, c := range classifyCases {
		others = append(others, Classify(c.path))
	}
	start := time.Now()
	var slowest time.Duration
	for i := range 20000 {
		t0 := time.Now()
		if got := r.Name(others[i%len(others)]); i%len(others) == 0 && got != "" {
			t.Fatalf("Name = %q while the source hangs", got)
		}
		slowest = max(slowest, time.Since(t0))
	}
	if total := time.Since(start); total > 5*time.Second || slowest > time.Second {
		t.Errorf("20000 Name calls took %v, the slowest %v, while a source hung", total, slowest)
	}
	if st := r.Stats(); st.Dropped == 0 || st.Coalesced == 0 {
		t.Errorf("stats = %+v, want drops (queue full) and coalesced misses", st)
	}

	close(root.gate)
	waitFor(t, "the slow name", func() bool { return r.Name(id) == "slow" })
	r.Close()
}

func TestResolverTTL(t *testing.T) {
	const conf = "/etc/pve/lxc/101.conf"
	root := newMemRoot(map[string]string{conf: "arch: amd64\nhostname: one\n"})
	clock := newFakeClock()
	r := NewResolver(root, ResolverOptions{TTL: time.Minute})
	r.now = clock.Now
	r.Start(context.Background())
	t.Cleanup(func() { r.Close() })
	id := Classify("/lxc/101")

	if got := resolved(t, r, id); got != "one" {
		t.Fatalf("Name = %q, want one", got)
	}
	root.set(conf, "arch: amd64\nhostname: two\n")
	reads := root.reads.Load()

	clock.Advance(59 * time.Second)
	if got := r.Name(id); got != "one" {
		t.Fatalf("before the TTL: Name = %q, want one", got)
	}
	if n := root.reads.Load(); n != reads {
		t.Fatalf("before the TTL: %d reads, want %d", n, reads)
	}

	clock.Advance(2 * time.Second)
	if got := r.Name(id); got != "one" {
		t.Fatalf("just expired: Name = %q, want the old name while it is looked up again", got)
	}
	waitFor(t, "the new name", func() bool { return r.Name(id) == "two" })
}

func TestResolverQueueOverflow(t *testing.T) {
	r := NewResolver(newMemRoot(nil), ResolverOptions{QueueSize: 2})
	var ids []Identity
	for _, vmid := range []string{"201", "202", "203", "204", "205"} {
		ids = append(ids, Classify("/lxc/"+vmid))
	}
	for _, id := range ids {
		if got := r.Name(id); got != "" {
			t.Fatalf("Name(%s) = %q before any lookup", id.ID, got)
		}
	}
	r.Name(ids[0]) // already queued: coalesced, not queued twice
	st := r.Stats()
	if st.Queued != 2 || st.Dropped != 3 || st.Coalesced != 1 || st.Misses != 6 {
		t.Fatalf("stats = %+v, want 2 queued, 3 dropped, 1 coalesced, 6 misses", st)
	}

	r.Start(context.Background())
	t.Cleanup(func() { r.Close() })
	waitFor(t, "the queued lookups", func() bool {
		_, a := r.cached(ids[0])
		_, b := r.cached(ids[1])
		return a && b
	})
	// A dropped ID is asked again on its next miss.
	if got := resolved(t, r, ids[4]); got != "205" {
		t.Errorf("Name(205) = %q after a drop, want 205", got)
	}
}

func TestResolverMaxEntries(t *testing.T) {
	r := startResolver(t, fixtureRoot(t), ResolverOptions{MaxEntries: 2})
	// containers.json lists five containers; only two fit.
	if got := resolved(t, r, Classify("/machine.slice/libpod-"+podmanID+".scope")); got != "web" {
		t.Fatalf("Name = %q, want web", got)
	}
	if n := r.Stats().Entries; n > 2 {
		t.Fatalf("%d entries, want at most 2", n)
	}
	for _, path := range []string{"/lxc/101", "/lxc/102", "/system.slice/docker-" + dockerID + ".scope"} {
		resolved(t, r, Classify(path))
		if n := r.Stats().Entries; n > 2 {
			t.Fatalf("after %s: %d entries, want at most 2", path, n)
		}
	}
	if got, ok := r.cached(Classify("/system.slice/docker-" + dockerID + ".scope")); !ok || got != "proxy-nginx-1" {
		t.Errorf("the latest name was not kept: %q, %v", got, ok)
	}
}

// serveDocker answers the Docker API on a unix socket in a temporary
// directory and returns the socket's path.
func serveDocker(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sock
}

func TestResolverDockerAPI(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	sock := serveDocker(t, func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		asked = append(asked, req.Method+" "+req.URL.Path)
		mu.Unlock()
		switch req.URL.Path {
		case "/containers/" + dockerID + "/json":
			w.Write([]byte(`{"Id":"` + dockerID + `","Name":"/from-api","State":{"Running":true}}`))
		case "/containers/" + brokenDockerID + "/json":
			http.Error(w, `{"message":"boom"}`, http.StatusInternalServerError)
		default:
			http.Error(w, `{"message":"No such container"}`, http.StatusNotFound)
		}
	})

	// The live host, where /var/lib/docker cannot be read (rootless cgmon,
	// or Docker's data-root elsewhere) but for the broken file.
	root := newMemRoot(map[string]string{
		"/var/lib/docker/containers/" + ctrdID + "/config.v2.json": `{"Name":"/from-file"}`,
	})
	root.host = true
	r := startResolver(t, root, ResolverOptions{DockerSocket: sock})

	for id, want := range map[string]string{
		dockerID:       "from-api",
		ctrdID:         "from-file",
		cgfsID:         "", // 404
		brokenDockerID: "", // 500
	} {
		if got := resolved(t, r, Classify("/docker/"+id)); got != want {
			t.Errorf("Name(%s) = %q, want %q", id[:12], got, want)
		}
	}
	mu.Lock()
	for _, a := range asked {
		if strings.Contains(a, ctrdID) {
			t.Errorf("asked the API %q although the file was readable", a)
		}
	}
	mu.Unlock()
	for _, s := range r.Stats().Sources {
		if s.Source == "docker-api" && (s.Errors != 1 || !strings.Contains(s.LastErr.Error(), "500")) {
			t.Errorf("docker-api stats = %+v, want the one 500", s)
		}
	}
}

// Without a socket (Docker not running), the API is no failure.
func TestResolverDockerAPINoSocket(t *testing.T) {
	root := newMemRoot(nil)
	root.host = true
	r := startResolver(t, root, ResolverOptions{DockerSocket: filepath.Join(t.TempDir(), "none.sock")})
	if got := resolved(t, r, Classify("/docker/"+dockerID)); got != "" {
		t.Errorf("Name = %q, want \"\"", got)
	}
	for _, s := range r.Stats().Sources {
		if s.Errors != 0 {
			t.Errorf("%s: %d errors (%v), want none", s.Source, s.Errors, s.LastErr)
		}
		if s.Source == "docker-api" && s.Reads != 1 {
			t.Errorf("docker-api reads = %d, want 1", s.Reads)
		}
	}
}

func TestResolverLifecycle(t *testing.T) {
	t.Run("close before start", func(t *testing.T) {
		r := NewResolver(newMemRoot(nil), ResolverOptions{})
		r.Close()
		r.Start(context.Background()) // does nothing
		r.Close()
		if got := r.Name(Classify("/lxc/101")); got != "" {
			t.Errorf("Name = %q", got)
		}
		if st := r.Stats(); st.Queued != 0 {
			t.Errorf("queued %d after Close, want 0", st.Queued)
		}
	})
	t.Run("context ends", func(t *testing.T) {
		r := NewResolver(newMemRoot(nil), ResolverOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		r.Start(ctx)
		r.Start(ctx) // one goroutine only
		id := Classify("/lxc/101")
		if got := resolved(t, r, id); got != "101" {
			t.Fatalf("Name = %q, want 101", got)
		}
		cancel()
		<-r.done
		if got := r.Name(id); got != "101" {
			t.Errorf("after the context ended: Name = %q, want the cached 101", got)
		}
		r.Close()
		r.Close()
	})
}

func TestNewResolverDefaults(t *testing.T) {
	r := NewResolver(newMemRoot(nil), ResolverOptions{TTL: -1, QueueSize: -5})
	want := ResolverOptions{
		TTL: 60 * time.Second, MaxEntries: 4096, QueueSize: 256,
		DockerSocket: "/run/docker.sock", DockerRoot: "/var/lib/docker", Timeout: 2 * time.Second,
	}
	if diff := cmp.Diff(want, r.opts); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	if r.docker != nil {
		t.Error("a Docker client for a root that is not the live host")
	}
}

// dockerd --data-root elsewhere: config.v2.json is read there.
func TestResolverDockerRoot(t *testing.T) {
	id := strings.Repeat("5e", 32)
	root := newMemRoot(map[string]string{
		"/srv/docker/containers/" + id + "/config.v2.json":     `{"Name":"/elsewhere"}`,
		"/var/lib/docker/containers/" + id + "/config.v2.json": `{"Name":"/default"}`,
	})
	r := startResolver(t, root, ResolverOptions{DockerRoot: "/srv/docker"})
	if got := resolved(t, r, Classify("/docker/"+id)); got != "elsewhere" {
		t.Errorf("Name = %q, want the one under DockerRoot", got)
	}
}
