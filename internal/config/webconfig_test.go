package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cgmon/cgmon/internal/testtls"
)

// webFixture is a directory with a CA-signed certificate and key
// (cert.pem, cert-key.pem) and a bcrypt hash, for web configuration files.
type webFixture struct {
	dir, cert, key, hash string
}

func newWebFixture(t *testing.T) webFixture {
	t.Helper()
	dir := t.TempDir()
	ca := testtls.NewCA(t, dir, "cfg")
	cert, key := ca.Server(t, dir, "cert")
	return webFixture{dir: dir, cert: cert, key: key, hash: testtls.Hash(t, "s3cret")}
}

func TestReadWebConfig(t *testing.T) {
	f := newWebFixture(t)
	tls := "tls_server_config:\n  cert_file: " + f.cert + "\n  key_file: " + f.key + "\n"
	users := "basic_auth_users:\n  alice: " + f.hash + "\n"
	for _, tc := range []struct {
		name, body string
		want       WebConfig
	}{
		{"empty file", "", WebConfig{}},
		{"TLS only", tls, WebConfig{TLS: true}},
		{"users only", users, WebConfig{Auth: true}},
		{"TLS and users", tls + users, WebConfig{TLS: true, Auth: true}},
		{"relative paths, from the file's directory", "tls_server_config:\n  cert_file: cert.pem\n  key_file: cert-key.pem\n" + users,
			WebConfig{TLS: true, Auth: true}},
		{"verified client certificates are authentication",
			"tls_server_config:\n  cert_file: cert.pem\n  key_file: cert-key.pem\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: cfg-ca.pem\n",
			WebConfig{TLS: true, Auth: true}},
		{"client certificates not verified are not",
			"tls_server_config:\n  cert_file: cert.pem\n  key_file: cert-key.pem\n  client_auth_type: RequireAnyClientCert\n",
			WebConfig{TLS: true}},
		{"http_server_config alone", "http_server_config:\n  http2: false\n", WebConfig{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := testtls.WriteFile(t, f.dir, "web.yml", tc.body)
			got, err := ReadWebConfig(path)
			if err != nil || got != tc.want {
				t.Errorf("ReadWebConfig = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

// TestReadWebConfigErrors: each error names the file and the reason, and
// never shows a value of the file.
func TestReadWebConfigErrors(t *testing.T) {
	f := newWebFixture(t)
	missing := filepath.Join(f.dir, "nope.yml")
	for _, tc := range []struct {
		name, body string
		path       string // default: the file with body
		want       string
		secret     string // must not be in the message
	}{
		{name: "no such file", path: missing, want: "open " + missing + ": no such file or directory"},
		{name: "a password instead of a hash", body: "basic_auth_users:\n  alice: hunter2-plain\n", want: "bcrypt", secret: "hunter2"},
		{name: "users not a map", body: "basic_auth_users: hunter2\n", want: "cannot unmarshal", secret: "hunter2"},
		{name: "unknown key", body: "basic_auth_user:\n  alice: " + f.hash + "\n", want: "field basic_auth_user not found", secret: f.hash},
		{name: "cert without key", body: "tls_server_config:\n  cert_file: " + f.cert + "\n", want: "missing one of key or key_file"},
		{name: "key file missing", body: "tls_server_config:\n  cert_file: " + f.cert + "\n  key_file: " + missing + "\n", want: "failed to read key_file"},
		{name: "key not the certificate's", body: "tls_server_config:\n  cert_file: " + f.cert + "\n  key_file: " + f.cert + "\n", want: "X509KeyPair"},
		{name: "bad client_auth_type", body: "tls_server_config:\n  cert_file: " + f.cert + "\n  key_file: " + f.key + "\n  client_auth_type: Maybe\n", want: "invalid ClientAuth"},
		{name: "header not allowed", body: "http_server_config:\n  headers:\n    X-Secret: hunter2\n", want: `"X-Secret" can not be configured`, secret: "hunter2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = testtls.WriteFile(t, f.dir, "web.yml", tc.body)
			}
			_, err := ReadWebConfig(path)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Logf("%q", msg)
			if !strings.Contains(msg, path) || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q, want one naming %s and saying %q", msg, path, tc.want)
			}
			if tc.secret != "" && strings.Contains(msg, tc.secret) {
				t.Errorf("error %q shows %q, a value of the file", msg, tc.secret)
			}
		})
	}
}

// TestWebConfigFileKey: the key comes from the file and from
// CGMON_WEB_CONFIG_FILE; a bad file is an error of the key with the line
// that set it; the effective configuration shows the path, never the
// file's contents.
func TestWebConfigFileKey(t *testing.T) {
	f := newWebFixture(t)
	web := testtls.WriteFile(t, f.dir, "web.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: cert-key.pem\nbasic_auth_users:\n  alice: "+f.hash+"\n")
	conf := testtls.WriteFile(t, f.dir, "cgmon.yaml", "listen: 127.0.0.1:0\nweb_config_file: "+web+"\n")
	c, _, err := Load(Sources{File: conf})
	if err != nil || c.WebConfigFile != web {
		t.Fatalf("Load: web_config_file %q, %v; want %q", c.WebConfigFile, err, web)
	}
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "web_config_file: "+web) || strings.Contains(string(out), f.hash) {
		t.Errorf("config YAML does not show the path, or shows the hash:\n%s", out)
	}

	c, _, err = Load(Sources{Env: []string{"CGMON_WEB_CONFIG_FILE=" + web}})
	if err != nil || c.WebConfigFile != web {
		t.Errorf("CGMON_WEB_CONFIG_FILE: web_config_file %q, %v; want %q", c.WebConfigFile, err, web)
	}

	bad := testtls.WriteFile(t, f.dir, "bad.yml", "basic_auth_users:\n  alice: not-a-hash\n")
	conf = testtls.WriteFile(t, f.dir, "cgmon.yaml", "listen: 127.0.0.1:0\n\nweb_config_file: "+bad+"\n")
	_, _, err = Load(Sources{File: conf})
	want := conf + ":3: web_config_file: " + bad + ": "
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "not-a-hash") {
		t.Errorf("bad web config: %v; want an error starting %q, without the hash", err, want)
	}
	if err := os.Remove(bad); err != nil {
		t.Fatal(err)
	}
	_, _, err = Load(Sources{File: conf})
	if err == nil || !strings.Contains(err.Error(), "web_config_file: open "+bad+": no such file or directory") {
		t.Errorf("missing web config: %v", err)
	}
}

// TestWebConfigGuard: the per-request check follows the file as it
// changes, without a reload, and fails while it does not guard the API.
func TestWebConfigGuard(t *testing.T) {
	f := newWebFixture(t)
	tlsPart := "tls_server_config:\n  cert_file: cert.pem\n  key_file: cert-key.pem\n"
	both := tlsPart + "basic_auth_users:\n  alice: " + f.hash + "\n"
	path := testtls.WriteFile(t, f.dir, "web.yml", both)
	check := WebConfigGuard(path)
	for _, step := range []struct {
		name, body string // body "" removes the file
		wantErr    string
	}{
		{"both", both, ""},
		{"users removed", tlsPart, "no longer has both TLS and authentication"},
		{"both again", both, ""},
		{"TLS removed", "basic_auth_users:\n  alice: " + f.hash + "\n", "no longer has both TLS and authentication"},
		{"bad hash", tlsPart + "basic_auth_users:\n  alice: s3cret\n", "web_config_file"},
		{"gone", "", "no such file"},
		{"back", both, ""},
	} {
		if step.body == "" {
			os.Remove(path)
		} else {
			testtls.WriteFile(t, f.dir, "web.yml", step.body)
		}
		for range 2 { // the second from the cached stamp
			err := check()
			if step.wantErr == "" && err != nil || step.wantErr != "" && (err == nil || !strings.Contains(err.Error(), step.wantErr)) {
				t.Errorf("%s: %v, want %q", step.name, err, step.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("%s: the error shows the password: %v", step.name, err)
			}
		}
	}
}
