package server

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

func TestCheckPath(t *testing.T) {
	f := func(escaped, want string) {
		t.Helper()
		got, err := checkPath(escaped)
		if want == "ERR" {
			if err == nil || !errors.Is(err, errBadPath) {
				t.Errorf("checkPath(%q) = %q, %v; want a bad path error", escaped, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("checkPath(%q) = %q, %v; want %q", escaped, got, err, want)
		}
	}
	f("", "/")
	f("/", "/")
	f("/system.slice", "/system.slice")
	f("/system.slice/", "/system.slice")
	f("/a/b/c", "/a/b/c")
	f("/getty@tty1.service", "/getty@tty1.service")
	f("/a%20b", "/a b")
	f("/caf%C3%A9", "/café")
	f(`/system-serial\x2dgetty.slice`, `/system-serial\x2dgetty.slice`)
	f(`/a%5Cx2Db\x41`, `/a\x2Db\x41`)
	f("/...", "/...")
	f("/..a", "/..a")
	f("/.hidden", "/.hidden")
	f("/"+strings.Repeat("a", MaxPathBytes-1), "/"+strings.Repeat("a", MaxPathBytes-1))
	f(strings.Repeat("/a", MaxPathSegments), strings.Repeat("/a", MaxPathSegments))

	f("a", "ERR")
	f("*", "ERR")
	f("//", "ERR")
	f("/a//b", "ERR")
	f("/a//", "ERR")
	f("/.", "ERR")
	f("/..", "ERR")
	f("/../a", "ERR")
	f("/a/./b", "ERR")
	f("/a/..", "ERR")
	f("/a/../", "ERR")
	f("/%2e%2e", "ERR")
	f("/%2E.", "ERR")
	f("/a%2fb", "ERR")
	f("/a%2Fb", "ERR")
	f("/%252e%252e", "ERR")
	f("/%25", "ERR")
	f("/a%00", "ERR")
	f("/a\x00", "ERR")
	f("/a%1f", "ERR")
	f("/a\n", "ERR")
	f("/a%", "ERR")
	f("/a%4", "ERR")
	f("/a%zz", "ERR")
	f(`/a\`, "ERR")
	f(`/a\b`, "ERR")
	f(`/a\x`, "ERR")
	f(`/a\x4`, "ERR")
	f(`/a\x4g`, "ERR")
	f(`/a\x41\`, "ERR")
	f(`/..\..\etc`, "ERR")
	f("/a%5c..", "ERR")
	f("/"+strings.Repeat("a", MaxPathBytes), "ERR")
	f(strings.Repeat("/a", MaxPathSegments+1), "ERR")
}

func TestCheckDecodedPath(t *testing.T) {
	for _, p := range []string{"/", "/system.slice", `/system-serial\x2dgetty.slice`, "/a b/c%2e"} {
		if err := checkDecodedPath(p); err != nil {
			t.Errorf("checkDecodedPath(%q): %v", p, err)
		}
	}
	for _, p := range []string{"//", "/a//b", "/..", "/a/.", "/a\x00", `/a\b`, "/" + strings.Repeat("a", MaxPathBytes), strings.Repeat("/a", MaxPathSegments+1)} {
		if err := checkDecodedPath(p); !errors.Is(err, errBadPath) {
			t.Errorf("checkDecodedPath(%q) = %v, want a bad path error", p, err)
		}
	}
}

// FuzzCheckPath holds the invariants of an accepted path: absolute, no
// empty, "." or ".." segment, no control character, no stray backslash,
// within the limits, and stable when checked again.
func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/%2e%2e", "/a%2fb", `/a\x2d`, "/a%5c", "//", "/a%00", "/caf%C3%A9", "/%252e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, escaped string) {
		p, err := checkPath(escaped)
		if err != nil {
			if !errors.Is(err, errBadPath) {
				t.Fatalf("error %v does not wrap errBadPath", err)
			}
			return
		}
		if p == "" || p[0] != '/' || len(p) > MaxPathBytes || (p != "/" && strings.HasSuffix(p, "/")) {
			t.Fatalf("checkPath(%q) = %q", escaped, p)
		}
		if p != "/" {
			segs := strings.Split(p[1:], "/")
			if len(segs) > MaxPathSegments {
				t.Fatalf("checkPath(%q) = %q: %d segments", escaped, p, len(segs))
			}
			for _, s := range segs {
				if s == "" || s == "." || s == ".." {
					t.Fatalf("checkPath(%q) = %q: segment %q", escaped, p, s)
				}
			}
		}
		for i := 0; i < len(p); i++ {
			if p[i] < 0x20 || p[i] == 0x7f {
				t.Fatalf("checkPath(%q) = %q: control character", escaped, p)
			}
		}
		if err := checkDecodedPath(p); err != nil {
			t.Fatalf("checkPath(%q) = %q, which checkDecodedPath refuses: %v", escaped, p, err)
		}
		if !strings.Contains(escaped, "%") && utf8.ValidString(escaped) {
			if q := strings.TrimSuffix(escaped, "/"); q != "" && q != p {
				t.Fatalf("checkPath(%q) = %q: a path without escapes changed", escaped, p)
			}
		}
	})
}

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		public bool
		want   error // nil, ErrNotLoopback or ErrListenAddress
	}{
		{"127.0.0.1:8801", false, nil},
		{"127.0.0.2:0", false, nil},
		{"[::1]:8801", false, nil},
		{"[::ffff:127.0.0.1]:8801", false, nil},
		{"localhost:8801", false, nil},
		{"0.0.0.0:8801", false, ErrNotLoopback},
		{":8801", false, ErrNotLoopback},
		{"[::]:8801", false, ErrNotLoopback},
		{"192.168.1.10:8801", false, ErrNotLoopback},
		{"example.com:8801", false, ErrNotLoopback},
		{"0.0.0.0:8801", true, nil},
		{":8801", true, nil},
		{"8801", false, ErrListenAddress},
		{"127.0.0.1", false, ErrListenAddress},
		{"127.0.0.1:http", false, ErrListenAddress},
		{"127.0.0.1:70000", false, ErrListenAddress},
		{"127.0.0.1:-1", true, ErrListenAddress},
	} {
		err := CheckAddr(tc.addr, Access{Public: tc.public})
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("CheckAddr(%q, %v): %v", tc.addr, tc.public, err)
		case tc.want != nil && (!errors.Is(err, tc.want) || !errors.Is(err, ErrListenAddress)):
			t.Errorf("CheckAddr(%q, %v) = %v, want %v", tc.addr, tc.public, err, tc.want)
		}
	}
}

// TestCheckAddrAccess: a non-loopback address needs TLS and
// authentication, or listen_public; loopback needs neither. Each refusal
// says what is missing.
func TestCheckAddrAccess(t *testing.T) {
	const (
		none     = "bad listen address %s: not a loopback address, and the API has no TLS and no authentication: anyone who can reach the port can read every cgroup"
		tlsOnly  = "bad listen address %s: not a loopback address, and the web config has TLS but no basic_auth_users: anyone who can reach the port can read every cgroup"
		authOnly = "bad listen address %s: not a loopback address, and the web config has basic_auth_users but no tls_server_config: the passwords and the data would cross the network in clear"
	)
	webs := []struct {
		name      string
		tls, auth bool
		refusal   string // the error without listen_public on a non-loopback address
	}{
		{"no web config", false, false, none},
		{"TLS only", true, false, tlsOnly},
		{"auth only", false, true, authOnly},
		{"TLS and auth", true, true, ""},
	}
	for _, addr := range []string{"127.0.0.1:8801", "[::1]:8801", "localhost:8801", "0.0.0.0:8801", ":8801", "[::]:8801", "192.0.2.1:8801", "example.com:8801"} {
		host, _, _ := net.SplitHostPort(addr)
		for _, w := range webs {
			for _, public := range []bool{false, true} {
				acc := Access{Public: public, TLS: w.tls, Auth: w.auth}
				want := ""
				if !public && !IsLoopback(host) && w.refusal != "" {
					want = fmt.Sprintf(w.refusal, addr)
				}
				t.Run(fmt.Sprintf("%s/%s/public=%v", addr, w.name, public), func(t *testing.T) {
					err := CheckAddr(addr, acc)
					got := ""
					if err != nil {
						got = err.Error()
					}
					if got != want {
						t.Errorf("CheckAddr(%q, %+v) = %q, want %q", addr, acc, got, want)
					}
					if want != "" && (!errors.Is(err, ErrNotLoopback) || !errors.Is(err, ErrListenAddress)) {
						t.Errorf("%v is not ErrNotLoopback and ErrListenAddress", err)
					}
				})
			}
		}
	}
}

func TestListen(t *testing.T) {
	ln, err := Listen("127.0.0.1:0", Access{})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !IsLoopbackAddr(ln.Addr()) {
		t.Errorf("listening on %s", ln.Addr())
	}
	_, err = Listen(ln.Addr().String(), Access{})
	if err == nil || errors.Is(err, ErrListenAddress) || !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("listening on a port in use: %v, want EADDRINUSE naming the address", err)
	}
	if _, err := Listen("0.0.0.0:0", Access{}); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("Listen(0.0.0.0:0): %v, want ErrNotLoopback", err)
	}
	if IsLoopbackAddr(&net.TCPAddr{IP: net.IPv4zero}) {
		t.Error("0.0.0.0 is loopback")
	}
}
