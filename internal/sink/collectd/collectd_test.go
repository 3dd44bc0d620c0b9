package collectd

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/model"
)

func container(path, runtime, id, name, role string) model.Cgroup {
	return model.Cgroup{
		Path:      path,
		Container: &model.Container{Runtime: runtime, ID: id, Name: name, Role: role},
		CPU: model.CPU{
			UsageSecondsTotal: model.Float{V: 12.3456789, OK: true},
			Percent:           model.Float{V: 49.5, OK: true},
		},
		Memory: model.Memory{
			UsageBytes:      model.Count{V: 3000, OK: true},
			WorkingSetBytes: model.Count{V: 1000, OK: true},
		},
	}
}

var t0 = time.Unix(1700000000, 250_000_000)

func TestValues(t *testing.T) {
	unnamed := container("/machine.slice/libpod-abc.scope", "podman", "abc", "", "container")
	snap := &model.Snapshot{Timestamp: t0, Hostname: "host/1", Cgroups: []model.Cgroup{
		container("/lxc.payload.web", "lxc", "web", "web", "container"),
		container("/lxc.monitor.web", "lxc", "web", "web", "monitor"),     // not the container
		container("/lxc.payload.web/init.scope", "lxc", "web", "web", ""), // nested
		unnamed,
		{Path: "/system.slice/sshd.service"}, // no container
	}}
	snap.Cgroups[0].CPU.Percent = model.Float{} // first snapshot: no rate
	v := Values{Memory: MemoryCurrent, Interval: 10 * time.Second}
	got := v.Append(nil, snap)
	want := []ValueList{
		{Host: "host_1", Plugin: "libpodstats", PluginInstance: "web", Type: "pod_cpu", Time: t0, Interval: 10 * time.Second,
			Values: []Value{{Type: Gauge, F: math.NaN()}, {Type: Derive, I: 12345678900}}},
		{Host: "host_1", Plugin: "libpodstats", PluginInstance: "web", Type: "pod_memory", Time: t0, Interval: 10 * time.Second,
			Values: []Value{{Type: Gauge, F: 1000}}},
	}
	if d := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) })); d != "" {
		t.Errorf("first snapshot (-want +got):\n%s", d)
	}
	// The unnamed podman container waits for its name, then its ID stands in.
	for i := 2; i <= unnamedGrace; i++ {
		got = v.Append(nil, snap)
		ids := map[string]bool{}
		for _, vl := range got {
			ids[vl.PluginInstance] = true
		}
		if ids["abc"] != (i == unnamedGrace) {
			t.Errorf("snapshot %d: plugin instances %v; the ID stands in from snapshot %d", i, ids, unnamedGrace)
		}
	}
	v.Memory = MemoryRaw
	v.Host = "collectd-host"
	got = v.Append(nil, &model.Snapshot{Timestamp: t0, Cgroups: snap.Cgroups[:1]})
	if got[1].Host != "collectd-host" || got[1].Values[0].F != 3000 {
		t.Errorf("raw memory with a host name: %+v", got[1])
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"web":                    "web",
		"a/b":                    "a_b",
		`q"uo\te`:                "q_uo_te",
		"tab\there":              "tab_here",
		strings.Repeat("é", 100): strings.Repeat("é", 63), // 127 bytes, cut before a split rune
		strings.Repeat("x", 200): strings.Repeat("x", 127),
		"my-container_1.example": "my-container_1.example",
	} {
		if got := sanitize(in); got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPutval(t *testing.T) {
	vl := ValueList{Host: "h", Plugin: "libpodstats", PluginInstance: "web", Type: "pod_cpu", Time: t0, Interval: 10 * time.Second,
		Values: []Value{{Type: Gauge, F: 49.5}, {Type: Derive, I: 123456789}}}
	got := string(AppendPutval(nil, &vl))
	if want := `PUTVAL "h/libpodstats-web/pod_cpu" interval=10.000 1700000000.250:49.5:123456789` + "\n"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	vl.Values[0].F = math.NaN()
	vl.Time = time.Time{}
	if got := string(AppendPutval(nil, &vl)); !strings.HasSuffix(got, " N:U:123456789\n") {
		t.Errorf("NaN and no time: %q", got)
	}
}

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want string // in the error; "" for none
	}{
		{Options{}, ""},
		{Options{SecurityLevel: "sign", Username: "u", Password: "p", Memory: "raw"}, ""},
		{Options{SecurityLevel: "encrypt"}, "needs a username and a password"},
		{Options{SecurityLevel: "signed"}, "want none, sign or encrypt"},
		{Options{Memory: "rss"}, "want current or raw"},
		{Options{Server: "localhost"}, "missing port"},
	} {
		s, err := New(tc.opts)
		if s != nil {
			s.Close()
		}
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("New(%+v): %v, want %q", tc.opts, err, tc.want)
		}
		if err != nil && tc.opts.Password != "" && strings.Contains(err.Error(), tc.opts.Password) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// TestOptionsHidePassword: printed or logged, the options never show the
// password.
func TestOptionsHidePassword(t *testing.T) {
	o := Options{Server: "127.0.0.1:25826", SecurityLevel: "sign", Username: "cgmon", Password: "pa55-w0rd"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("collectd", "options", o)
	for _, out := range []string{o.String(), fmt.Sprint(o), fmt.Sprintf("%v %+v %s %#v", o, o, o, o), logged.String()} {
		if strings.Contains(out, o.Password) || !strings.Contains(out, "cgmon") {
			t.Errorf("%s", out)
		}
	}
}

// decode walks a plain datagram's parts and returns the number of value
// lists (values parts) and every string part, checking each part's length.
func decode(t testing.TB, b []byte) (n int, strs []string) {
	t.Helper()
	for len(b) > 0 {
		if len(b) < 4 {
			t.Fatalf("%d bytes left: not a part header", len(b))
		}
		typ, size := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if size < 4 || size > len(b) {
			t.Fatalf("part %#x: length %d of %d bytes", typ, size, len(b))
		}
		payload := b[4:size]
		switch typ {
		case partValues:
			k := int(binary.BigEndian.Uint16(payload))
			if size != 6+9*k {
				t.Fatalf("values part of %d values is %d bytes", k, size)
			}
			n++
		case partHost, partPlugin, partPluginInstance, partType, partTypeInstance:
			if len(payload) == 0 || payload[len(payload)-1] != 0 {
				t.Fatalf("string part %#x not NUL-terminated: %q", typ, payload)
			}
			strs = append(strs, string(payload[:len(payload)-1]))
		case partTimeHR, partIntervalHR:
			if size != 12 {
				t.Fatalf("number part %#x is %d bytes", typ, size)
			}
		default:
			t.Fatalf("unknown part %#x", typ)
		}
		b = b[size:]
	}
	return n, strs
}

// TestPackerSplits: many value lists fill several datagrams, each at most
// MaxPacket (with the security part), and none is lost or repeated.
func TestPackerSplits(t *testing.T) {
	for _, level := range []SecurityLevel{None, Sign, Encrypt} {
		p := newPacker(level, "cgmon", "pw")
		var datagrams [][]byte
		var plain []int // value lists per datagram, decoded from the plaintext
		take := func() {
			n, _ := decode(t, p.buf)
			plain = append(plain, n)
			out, err := p.take(nil)
			if err != nil {
				t.Fatal(err)
			}
			datagrams = append(datagrams, out)
		}
		const lists = 200
		for i := range lists {
			vl := ValueList{Host: "host", Plugin: Plugin, PluginInstance: strings.Repeat("c", i%50+1), Type: TypeCPU, Time: t0,
				Interval: time.Second, Values: []Value{{Type: Gauge, F: float64(i)}, {Type: Derive, I: int64(i)}}}
			ok, err := p.add(&vl)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				take()
				if ok, err := p.add(&vl); !ok || err != nil {
					t.Fatalf("an empty datagram refused a value list: %v", err)
				}
			}
		}
		take()
		total := 0
		for i, d := range datagrams {
			if len(d) > MaxPacket {
				t.Errorf("level %d: datagram %d is %d bytes, over %d", level, i, len(d), MaxPacket)
			}
			total += plain[i]
		}
		if total != lists || len(datagrams) < 2 {
			t.Errorf("level %d: %d value lists in %d datagrams, want %d in several", level, total, len(datagrams), lists)
		}
	}
	p := newPacker(None, "", "")
	huge := ValueList{Host: strings.Repeat("h", 2000), Values: []Value{{Type: Gauge}}}
	if ok, err := p.add(&huge); ok || !errors.Is(err, ErrTooBig) || !p.empty() {
		t.Errorf("a value list bigger than a datagram: %v, %v, empty %v", ok, err, p.empty())
	}
}

// TestPackerRepeats: within a datagram, fields equal to the previous value
// list's are left out, as collectd's own sender does.
func TestPackerRepeats(t *testing.T) {
	p := newPacker(None, "", "")
	a := ValueList{Host: "h", Plugin: Plugin, PluginInstance: "web", Type: TypeCPU, Time: t0, Values: []Value{{Type: Gauge}, {Type: Derive}}}
	b := a
	b.Type, b.Values = TypeMemory, []Value{{Type: Gauge}}
	p.add(&a)
	p.add(&b)
	n, strs := decode(t, p.buf)
	if want := []string{"h", Plugin, "web", TypeCPU, "", TypeMemory}; n != 2 || !cmp.Equal(strs, want) {
		t.Errorf("%d value lists, strings %q; want 2, %q", n, strs, want)
	}
}

// TestSendFailure injects a server that is not there (fault injection
// beside the real collectd tests): the send fails, is counted and logged
// once, and the next send to a server that is back succeeds.
func TestSendFailure(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nobody listens: the kernel answers port unreachable
	var logged bytes.Buffer
	s, err := New(Options{Server: addr, Logger: slog.New(slog.NewTextHandler(&logged, nil)), Password: "hidden-pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap := &model.Snapshot{Timestamp: t0, Cgroups: []model.Cgroup{container("/lxc.payload.web", "lxc", "web", "web", "container")}}
	var errs int
	for range 3 {
		if s.Send(context.Background(), snap) != nil {
			errs++
		}
	}
	sent, errCount, dropped := s.SinkStats()
	if errs == 0 || errCount != uint64(errs) || dropped == 0 || sent+dropped != 6 {
		t.Errorf("3 sends to nobody: %d failed; stats sent %d errors %d dropped %d", errs, sent, errCount, dropped)
	}
	if n := strings.Count(logged.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1 for the run of failures:\n%s", n, logged.String())
	}
	if strings.Contains(logged.String(), "hidden-pw") {
		t.Error("the log shows the password")
	}

	back, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	defer back.Close()
	// The kernel may still hold the last "port unreachable" for the
	// socket: it fails the next write, and the one after goes out.
	for i := 0; s.Send(context.Background(), snap) != nil; i++ {
		if i == 2 {
			t.Fatal("three sends to a listening server failed")
		}
	}
	buf := make([]byte, MaxPacket)
	back.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := back.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if lists, _ := decode(t, buf[:n]); lists != 2 {
		t.Errorf("the server got %d value lists, want 2", lists)
	}
	if !strings.Contains(logged.String(), "sending again") {
		t.Errorf("no recovery logged:\n%s", logged.String())
	}
}

// FuzzPacker: any value lists fill datagrams no bigger than MaxPacket whose
// parts are well formed, and none is lost.
func FuzzPacker(f *testing.F) {
	f.Add("host", "web", "pod_cpu", "", uint8(2), int64(5), 1.5, uint8(0))
	f.Add(strings.Repeat("h", 127), strings.Repeat("i", 127), "t", "ti", uint8(9), int64(-1), math.NaN(), uint8(2))
	f.Fuzz(func(t *testing.T, host, inst, typ, typInst string, nvals uint8, iv int64, fv float64, level uint8) {
		p := newPacker(SecurityLevel(level%3), "user", "pw")
		vals := make([]Value, int(nvals)%20)
		for i := range vals {
			vals[i] = Value{Type: DSType(i % 4), F: fv, I: iv}
		}
		vl := ValueList{Host: sanitize(host), Plugin: Plugin, PluginInstance: sanitize(inst), Type: sanitize(typ), TypeInstance: sanitize(typInst),
			Time: t0, Interval: time.Second, Values: vals}
		added := 0
		for range 30 {
			ok, err := p.add(&vl)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				n, _ := decode(t, p.buf)
				added -= n
				out, err := p.take(nil)
				if err != nil || len(out) > MaxPacket {
					t.Fatalf("datagram of %d bytes: %v", len(out), err)
				}
				if ok, err = p.add(&vl); !ok || err != nil {
					t.Fatalf("an empty datagram refused: %v", err)
				}
			}
			added++
		}
		if n, _ := decode(t, p.buf); n != added {
			t.Fatalf("%d value lists in the last datagram, want %d", n, added)
		}
	})
}
