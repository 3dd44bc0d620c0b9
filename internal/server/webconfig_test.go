package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/testtls"
)

// TestServeWebConfig serves the API on a fixture agent through a real web
// configuration file (a certificate from a CA made here, a bcrypt user)
// and talks to it as curl and Prometheus would: only HTTPS with the right
// credentials reaches the routes; plain HTTP, a client that does not trust
// the CA, and wrong or no credentials do not. The log, at debug level,
// holds neither the password nor its hash nor the key.
func TestServeWebConfig(t *testing.T) {
	dir := t.TempDir()
	ca := testtls.NewCA(t, dir, "cgmon")
	cert, key := ca.Server(t, dir, "server")
	const user, password = "prometheus", "correct horse battery staple"
	hash := testtls.Hash(t, password)
	web := testtls.WriteFile(t, dir, "web.yml", "tls_server_config:\n  cert_file: "+cert+"\n  key_file: "+key+
		"\nbasic_auth_users:\n  "+user+": "+hash+"\n")

	root, _ := fixtureRoot(t)
	a := newAgent(t, root, time.Hour)
	runAgent(t, a)
	waitLatest(t, a)
	var logs logBuffer
	addr := serve(t, New(Options{Source: a, WebConfigFile: web, Logger: logs.logger(),
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "cgmon_up 1\n") })}))

	trusting := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: ca.Client()}}
	do := testtls.Get
	base := "https://" + addr
	for _, tc := range []struct {
		name, path, user, password string
		want                       int
		body                       string // in the answer
	}{
		{"cgroups with the right credentials", "/api/v1/cgroups", user, password, http.StatusOK, `"cgroups"`},
		{"metrics with the right credentials", "/metrics", user, password, http.StatusOK, "cgmon_up 1"},
		{"healthz with the right credentials", "/healthz", user, password, http.StatusOK, `"ok"`},
		{"a wrong password", "/api/v1/cgroups", user, "wrong", http.StatusUnauthorized, "Unauthorized"},
		{"an unknown user", "/metrics", "root", password, http.StatusUnauthorized, "Unauthorized"},
		{"no credentials", "/api/v1/cgroups", "", "", http.StatusUnauthorized, "Unauthorized"},
		{"no credentials, unknown route", "/nope", "", "", http.StatusUnauthorized, "Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body, err := do(trusting, base+tc.path, tc.user, tc.password)
			if err != nil || code != tc.want || !strings.Contains(body, tc.body) {
				t.Errorf("GET %s as %q: %d %v, want %d with %q; body:\n%.300s", tc.path, tc.user, code, err, tc.want, tc.body, body)
			}
		})
	}

	t.Run("plain HTTP", func(t *testing.T) {
		// Go's TLS server answers a plain request with a 400 of its own;
		// either way no route is reached.
		code, body, err := do(client, "http://"+addr+"/api/v1/cgroups", user, password)
		if err == nil && (code != http.StatusBadRequest || strings.Contains(body, "cgroups")) {
			t.Errorf("plain HTTP: %d, want an error or the TLS server's 400; body:\n%.300s", code, body)
		}
	})
	t.Run("a client that does not trust the CA", func(t *testing.T) {
		other := testtls.NewCA(t, t.TempDir(), "other")
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: other.Client()}}
		_, _, err := do(c, base+"/api/v1/cgroups", user, password)
		var ua x509.UnknownAuthorityError
		if !errors.As(err, &ua) {
			t.Errorf("a client trusting another CA: %v, want x509.UnknownAuthorityError", err)
		}
	})
	t.Run("TLS 1.1", func(t *testing.T) {
		cfg := ca.Client()
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		if _, _, err := do(c, base+"/healthz", user, password); err == nil {
			t.Error("a TLS 1.1 client was served; the toolkit's default min_version is TLS 1.2")
		}
	})

	for _, secret := range []string{password, hash, "PRIVATE KEY"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows %q:\n%s", secret, logs.String())
		}
	}
}

// TestServeWebConfigReadsTheFileAgain: the toolkit reads the file on each
// handshake and request, so a renewed certificate is served without a
// restart, as node_exporter's is.
func TestServeWebConfigReadsTheFileAgain(t *testing.T) {
	dir := t.TempDir()
	ca := testtls.NewCA(t, dir, "first")
	cert, key := ca.Server(t, dir, "server")
	web := testtls.WriteFile(t, dir, "web.yml", "tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n")
	addr := serve(t, New(Options{Source: staticSource{}, WebConfigFile: web}))
	get := func(ca *testtls.CA) error {
		// A new transport: a new connection, a new handshake.
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: ca.Client()}}
		resp, err := c.Get("https://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(ca); err != nil {
		t.Fatalf("before the renewal: %v", err)
	}
	renewed := testtls.NewCA(t, t.TempDir(), "renewed")
	c2, k2 := renewed.Server(t, t.TempDir(), "server")
	for _, mv := range [][2]string{{c2, cert}, {k2, key}} {
		if err := copyFile(mv[0], mv[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := get(renewed); err != nil {
		t.Errorf("the renewed certificate is not served: %v", err)
	}
	if err := get(ca); err == nil {
		t.Error("the old CA still verifies the server after the renewal")
	}
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
