package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/testsvc"
	"github.com/cgmon/cgmon/internal/testsvc/promtest"
	"github.com/cgmon/cgmon/internal/testtls"
)

// webAuth is a CA, a server certificate it signed and web configuration
// files using them, in one directory.
type webAuth struct {
	dir                 string
	ca                  *testtls.CA
	cert, key, hash     string
	both, tlsOnly, auth string // web configuration files
}

const webUser, webPassword = "prometheus", "Tr0ub4dor&3 horse"

func newWebAuth(t *testing.T) webAuth {
	t.Helper()
	w := webAuth{dir: t.TempDir()}
	w.ca = testtls.NewCA(t, w.dir, "cgmon")
	w.cert, w.key = w.ca.Server(t, w.dir, "server")
	w.hash = testtls.Hash(t, webPassword)
	tls := "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n"
	users := "basic_auth_users:\n  " + webUser + ": " + w.hash + "\n"
	w.both = testtls.WriteFile(t, w.dir, "web.yml", tls+users)
	w.tlsOnly = testtls.WriteFile(t, w.dir, "web-tls.yml", tls)
	w.auth = testtls.WriteFile(t, w.dir, "web-auth.yml", users)
	return w
}

// get fetches https://addr/path as user (none when ""), trusting ca.
func (w webAuth) get(ca *testtls.CA, addr, path, user, password string) (int, string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: ca.Client()}}
	return testtls.Get(c, "https://"+addr+path, user, password)
}

// TestRunListenRules: a listen address × what the web configuration file
// has × listen_public, through run's own loading (flags, the real files):
// allowed, or refused with the exact message.
func TestRunListenRules(t *testing.T) {
	w := newWebAuth(t)
	const hint = "; give web_config_file (--web-config-file) with tls_server_config and basic_auth_users, " +
		"or set listen_public (--listen-public) to serve on the network without them"
	const (
		none     = "the API has no TLS and no authentication: anyone who can reach the port can read every cgroup"
		tlsOnly  = "the web config has TLS but no basic_auth_users: anyone who can reach the port can read every cgroup"
		authOnly = "the web config has basic_auth_users but no tls_server_config: the passwords and the data would cross the network in clear"
	)
	webs := []struct {
		name, file, lacks string
	}{
		{"no web config", "", none},
		{"TLS only", w.tlsOnly, tlsOnly},
		{"auth only", w.auth, authOnly},
		{"TLS and auth", w.both, ""},
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:8801", "0.0.0.0:8801", ":8801", "192.0.2.1:8801"} {
		loopback := strings.HasPrefix(addr, "127.") || strings.HasPrefix(addr, "[::1]") || strings.HasPrefix(addr, "localhost")
		for _, web := range webs {
			for _, public := range []bool{false, true} {
				args := []string{"--listen", addr}
				if web.file != "" {
					args = append(args, "--web-config-file", web.file)
				}
				if public {
					args = append(args, "--listen-public")
				}
				want := ""
				if !loopback && !public && web.lacks != "" {
					want = "--listen: listen: bad listen address " + addr + ": not a loopback address, and " + web.lacks + hint
				}
				t.Run(fmt.Sprintf("%s/%s/public=%v", addr, web.name, public), func(t *testing.T) {
					cmd := newRunCommand()
					if err := cmd.ParseFlags(args); err != nil {
						t.Fatal(err)
					}
					_, err := loadRunConfig(cmd.Flags(), "", slog.New(slog.DiscardHandler))
					got := ""
					if err != nil {
						got = err.Error()
					}
					if got != want {
						t.Errorf("%q:\n got %q\nwant %q", args, got, want)
					}
				})
			}
		}
	}
}

// TestRunBadWebConfig: a web configuration file that the toolkit would
// refuse stops cgmon run and cgmon config check before anything starts,
// with exit code 2, the path and the reason, and no value of the file.
func TestRunBadWebConfig(t *testing.T) {
	dir := t.TempDir()
	bad := testtls.WriteFile(t, dir, "web.yml", "basic_auth_users:\n  alice: hunter2-not-a-hash\n")
	missing := filepath.Join(dir, "missing.yml")
	for _, tc := range []struct{ path, reason string }{
		{bad, "bcrypt"},
		{missing, "no such file or directory"},
	} {
		out, err := run(t, "run", "--listen", "127.0.0.1:0", "--web-config-file", tc.path)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--web-config-file: web_config_file: ") ||
			!strings.Contains(err.Error(), tc.path) || !strings.Contains(err.Error(), tc.reason) || strings.Contains(err.Error()+out, "hunter2") {
			t.Errorf("run --web-config-file %s: %v, want a usage error naming the flag, the path and %q, without the file's values", tc.path, err, tc.reason)
		}
		conf := testtls.WriteFile(t, dir, "cgmon.yaml", "web_config_file: "+tc.path+"\n")
		out, err = run(t, "config", "check", "--config", conf)
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), conf+":1: web_config_file: ") ||
			!strings.Contains(err.Error(), tc.reason) || strings.Contains(err.Error()+out, "hunter2") {
			t.Errorf("config check: %v, want a usage error naming %s:1, the path and %q", err, conf, tc.reason)
		}
	}
}

// TestConfigCheckWebConfig: config check prints the web configuration
// file's path, never its contents.
func TestConfigCheckWebConfig(t *testing.T) {
	w := newWebAuth(t)
	conf := testtls.WriteFile(t, w.dir, "cgmon.yaml", "web_config_file: "+w.both+"\n")
	out, err := run(t, "config", "check", "--config", conf)
	if err != nil {
		t.Fatalf("config check: %v\n%s", err, out)
	}
	if !strings.Contains(out, "web_config_file: "+w.both) || strings.Contains(out, w.hash) || strings.Contains(out, "basic_auth_users") {
		t.Errorf("config check does not show the path, or shows the file's contents:\n%s", out)
	}
}

// TestRunWebConfigBinary runs the binary with a web configuration file on
// a loopback port: only HTTPS with the right credentials reaches the API
// and /metrics. SIGHUP reads the configuration and the web configuration
// file again: without it the API is plain HTTP, with it HTTPS again, and
// a bad one is refused, naming the file, and the agent stays. The log
// (debug level) shows neither the password, nor its hash, nor the key.
func TestRunWebConfigBinary(t *testing.T) {
	w := newWebAuth(t)
	root := v2Root(t, w.dir)
	conf := filepath.Join(w.dir, "cgmon.yaml")
	write := func(web string) {
		t.Helper()
		body := "rootfs: " + root + "\nlisten: 127.0.0.1:0\ninterval: 200ms\nlogging:\n  log_format: json\n  log_level: debug\n"
		if web != "" {
			body += "web_config_file: " + web + "\n"
		}
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(w.both)
	p := startCgmon(t, buildCgmon(t), "run", "--config", conf)
	addr := p.waitServing(t)
	waitFor(t, p, "the first snapshot over HTTPS", func() bool {
		code, _, err := w.get(w.ca, addr, "/healthz", webUser, webPassword)
		return err == nil && code == http.StatusOK
	})
	other := testtls.NewCA(t, t.TempDir(), "other")
	for _, tc := range []struct {
		name, path, user, password string
		want                       int
		body                       string
	}{
		{"cgroups", "/api/v1/cgroups", webUser, webPassword, http.StatusOK, `"cgroups"`},
		{"metrics", "/metrics", webUser, webPassword, http.StatusOK, "container_cpu_usage_seconds_total"},
		{"companion route", "/api/v1.0/system.slice/processes", webUser, webPassword, http.StatusOK, "["},
		{"wrong password", "/api/v1/cgroups", webUser, "wrong", http.StatusUnauthorized, "Unauthorized"},
		{"no credentials", "/metrics", "", "", http.StatusUnauthorized, "Unauthorized"},
	} {
		code, body, err := w.get(w.ca, addr, tc.path, tc.user, tc.password)
		if err != nil || code != tc.want || !strings.Contains(body, tc.body) {
			t.Errorf("%s: GET %s: %d %v, want %d with %q; body: %.200s", tc.name, tc.path, code, err, tc.want, tc.body, body)
		}
	}
	if code, body, err := getOK(addr, "/api/v1/cgroups"); err == nil && (code != http.StatusBadRequest || strings.Contains(string(body), "cgroups")) {
		t.Errorf("plain HTTP: %d, want an error or the TLS server's 400; body: %.200s", code, body)
	}
	var ua x509.UnknownAuthorityError
	if _, _, err := w.get(other, addr, "/healthz", webUser, webPassword); !errors.As(err, &ua) {
		t.Errorf("a client trusting another CA: %v, want x509.UnknownAuthorityError", err)
	}

	reload := func(what string) string {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		return p.waitServing(t)
	}
	write("")
	addr = reload("without the web config")
	waitFor(t, p, "plain HTTP after the reload", func() bool {
		code, _, err := getOK(addr, "/api/v1/cgroups")
		return err == nil && code == http.StatusOK
	})
	write(w.both)
	addr = reload("with the web config")
	waitFor(t, p, "HTTPS again after the reload", func() bool {
		code, _, err := w.get(w.ca, addr, "/api/v1/cgroups", webUser, webPassword)
		return err == nil && code == http.StatusOK
	})
	if code, _, err := w.get(w.ca, addr, "/api/v1/cgroups", "", ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("no credentials after the reload: %d %v, want 401", code, err)
	}

	bad := testtls.WriteFile(t, w.dir, "web-bad.yml", "tls_server_config:\n  cert_file: server.pem\n")
	write(bad)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "the failed reload's log line", func() bool {
		return strings.Contains(p.stderr(), "reload failed")
	})
	if s := p.stderr(); !strings.Contains(s, bad) || !strings.Contains(s, "missing one of key or key_file") {
		t.Errorf("the failed reload does not name the file and the reason:\n%s", s)
	}
	if code, _, err := w.get(w.ca, addr, "/api/v1/cgroups", webUser, webPassword); err != nil || code != http.StatusOK {
		t.Errorf("after a bad reload: %d %v, want the running agent to stay", code, err)
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit code %d, want 0; stderr:\n%s", code, p.stderr())
	}
	logs := p.stderr()
	key, err := os.ReadFile(w.key)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{webPassword, w.hash, "PRIVATE KEY", string(key[40:80])} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log shows %q", secret)
		}
	}
	if !strings.Contains(logs, `"tls":true,"auth":true`) {
		t.Errorf("the serving line does not say TLS and auth are on:\n%s", logs)
	}
}

// TestRunWebConfigPrometheus: a real Prometheus scrapes cgmon over HTTPS
// with basic authentication, trusting the test's CA, as its documentation
// example says: the target is up and a cgmon series is queryable.
func TestRunWebConfigPrometheus(t *testing.T) {
	testsvc.LookPath(t, "prometheus", "prometheus") // skip before starting cgmon
	w := newWebAuth(t)
	root := v2Root(t, w.dir)
	p := startCgmon(t, buildCgmon(t), "run", "--rootfs", root, "--listen", "127.0.0.1:0", "--interval", "1s",
		"--log-format", "json", "--web-config-file", w.both)
	target := p.waitServing(t)

	pwFile := testtls.WriteFile(t, t.TempDir(), "password", webPassword)
	base := promtest.Start(t, fmt.Sprintf(`  - job_name: cgmon
    scheme: https
    tls_config:
      ca_file: %s
    basic_auth:
      username: %s
      password_file: %s
    static_configs:
      - targets: [%q]
`, w.ca.File, webUser, pwFile, target))
	n, err := promtest.Query(base, `count(container_memory_usage_bytes{job="cgmon"})`)
	if err != nil || len(n) != 1 || n[0] < 1 {
		t.Errorf("count(container_memory_usage_bytes{job=\"cgmon\"}) = %v %v, want at least 1", n, err)
	}
}

// TestRunWebConfigGuardsPublicAddress: on a non-loopback address served
// only because the web configuration has TLS and users, removing the users
// from the file (no SIGHUP) closes the API — a 503 to everyone, logged —
// instead of serving it to anyone; putting them back opens it again.
func TestRunWebConfigGuardsPublicAddress(t *testing.T) {
	ip := nonLoopbackIPv4(t)
	w := newWebAuth(t)
	root := v2Root(t, w.dir)
	web := testtls.WriteFile(t, w.dir, "web-guarded.yml", "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n"+
		"basic_auth_users:\n  "+webUser+": "+w.hash+"\n")
	p := startCgmon(t, buildCgmon(t), "run", "--rootfs", root, "--listen", net.JoinHostPort(ip, "0"),
		"--interval", "200ms", "--log-format", "json", "--web-config-file", web)
	addr := p.waitServing(t)
	get := func(user, password string) (int, string) {
		t.Helper()
		cfg := w.ca.Client()
		cfg.ServerName = "localhost" // the test certificate names loopback only
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		code, body, err := testtls.Get(c, "https://"+addr+"/api/v1/cgroups", user, password)
		if err != nil {
			t.Fatalf("GET %s: %v", addr, err)
		}
		return code, body
	}
	waitFor(t, p, "the first snapshot on "+addr, func() bool { code, _ := get(webUser, webPassword); return code == http.StatusOK })
	if code, _ := get("", ""); code != http.StatusUnauthorized {
		t.Fatalf("no credentials: %d, want 401", code)
	}

	// The users go; the file is still valid (TLS only).
	testtls.WriteFile(t, w.dir, "web-guarded.yml", "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n")
	code, body := get("", "")
	if code != http.StatusServiceUnavailable || strings.Contains(body, `"cgroups"`) || strings.Contains(body, web) {
		t.Errorf("without users in the file: %d %.200s, want a 503 that names no file", code, body)
	}
	waitFor(t, p, "the refusal in the log", func() bool {
		return strings.Contains(p.stderr(), "refusing every request of the API") && strings.Contains(p.stderr(), "no longer has both TLS and authentication")
	})

	testtls.WriteFile(t, w.dir, "web-guarded.yml", "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n"+
		"basic_auth_users:\n  "+webUser+": "+w.hash+"\n")
	if code, body := get(webUser, webPassword); code != http.StatusOK {
		t.Errorf("users back: %d %.200s, want 200", code, body)
	}
	if code, _ := get("", ""); code != http.StatusUnauthorized {
		t.Errorf("users back, no credentials: %d, want 401", code)
	}
	if s := p.stderr(); strings.Contains(s, w.hash) || strings.Contains(s, webPassword) {
		t.Errorf("the log holds the hash or the password:\n%s", s)
	}
}

// nonLoopbackIPv4 returns an IPv4 address of this host that is not
// loopback, or skips.
func nonLoopbackIPv4(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			return n.IP.String()
		}
	}
	t.Skip("no non-loopback IPv4 address on this host to listen on")
	return ""
}
