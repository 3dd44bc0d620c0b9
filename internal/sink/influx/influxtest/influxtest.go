// Package influxtest starts the real servers the InfluxDB output is tested
// against (InfluxDB 1.x with auth, over HTTP or HTTPS; VictoriaMetrics) as
// children of a test, and reads back what was written. Tests only.
package influxtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/testsvc"
)

// The admin user StartInfluxd creates, and the database.
const (
	AdminUser = "admin"
	AdminPass = "s3cret-Pa55"
	DB        = "cgmon"
)

// Influxd is an InfluxDB 1.x server started for a test, with auth on.
type Influxd struct {
	t       *testing.T
	bin     string
	conf    string
	URL     string // http(s)://127.0.0.1:port
	Port    int
	CAFile  string // for https: the self-signed certificate, valid for "localhost" only
	Proc    *testsvc.Process
	dataDir string
}

// StartInfluxd starts influxd 1.x with auth enabled, an admin user and the
// database DB. With tls, it serves HTTPS with a fresh self-signed
// certificate for the name "localhost" (not for 127.0.0.1).
func StartInfluxd(t *testing.T, tls bool) *Influxd {
	t.Helper()
	bin := testsvc.LookPath(t, "influxd", "influxdb")
	dir := t.TempDir()
	d := &Influxd{t: t, bin: bin, conf: filepath.Join(dir, "influxdb.conf"), Port: testsvc.FreePort(t), dataDir: dir}
	scheme, extra := "http", ""
	if tls {
		scheme = "https"
		cert, key := SelfSigned(t, dir, "localhost")
		d.CAFile = cert
		extra = fmt.Sprintf("  https-enabled = true\n  https-certificate = %q\n  https-private-key = %q\n", cert, key)
	}
	d.URL = fmt.Sprintf("%s://127.0.0.1:%d", scheme, d.Port)
	conf := fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%d"
[meta]
  dir = %q
[data]
  dir = %q
  wal-dir = %q
  query-log-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:%d"
  auth-enabled = true
  log-enabled = false
%s[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
[logging]
  level = "warn"
`, testsvc.FreePort(t), filepath.Join(dir, "meta"), filepath.Join(dir, "data"), filepath.Join(dir, "wal"), d.Port, extra)
	if err := os.WriteFile(d.conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Start()
	// With auth on and no user yet, InfluxDB lets exactly this through.
	d.Query("", fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' WITH ALL PRIVILEGES", AdminUser, AdminPass), false)
	d.Query("", "CREATE DATABASE "+DB, true)
	return d
}

// Start runs influxd (again, on the same data) and waits until it answers.
func (d *Influxd) Start() {
	d.t.Helper()
	d.Proc = testsvc.Start(d.t, "influxd", d.bin, "run", "-config", d.conf)
	d.Proc.WaitFor(d.t, 30*time.Second, func() error {
		resp, err := d.client().Get(d.URL + "/ping")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("ping: %s", resp.Status)
		}
		return nil
	})
}

// AdminURL is the server's URL with the admin's credentials as user info,
// which the influx sink takes as v1 basic auth: for a cgmon started with
// an empty environment, where CGMON_INFLUXDB_PASSWORD is not set.
func (d *Influxd) AdminURL() string {
	return strings.Replace(d.URL, "://", "://"+AdminUser+":"+AdminPass+"@", 1)
}

func (d *Influxd) client() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: insecureTLS()}}
}

// Query runs an InfluxQL statement (POST /query) and returns the decoded
// answer; it fails the test on an error.
func (d *Influxd) Query(db, q string, auth bool) QueryResult {
	d.t.Helper()
	form := url.Values{"q": {q}, "epoch": {"ms"}}
	if db != "" {
		form.Set("db", db)
	}
	req, _ := http.NewRequest(http.MethodPost, d.URL+"/query", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth {
		req.SetBasicAuth(AdminUser, AdminPass)
	}
	resp, err := d.client().Do(req)
	if err != nil {
		d.t.Fatalf("influxd query %q: %v", q, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("influxd query %q: %s: %s", q, resp.Status, body)
	}
	var r QueryResult
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&r); err != nil {
		d.t.Fatalf("influxd query %q: %v: %s", q, err, body)
	}
	for _, res := range r.Results {
		if res.Error != "" {
			d.t.Fatalf("influxd query %q: %s", q, res.Error)
		}
	}
	return r
}

// QueryResult is the JSON answer of InfluxDB's /query.
type QueryResult struct {
	Results []struct {
		Error  string `json:"error"`
		Series []struct {
			Name    string            `json:"name"`
			Tags    map[string]string `json:"tags"`
			Columns []string          `json:"columns"`
			Values  [][]any           `json:"values"`
		} `json:"series"`
	} `json:"results"`
}

// Rows returns the result's rows as maps column → value (json.Number or
// string or nil).
func (r QueryResult) Rows() []map[string]any {
	var out []map[string]any
	for _, res := range r.Results {
		for _, s := range res.Series {
			for _, v := range s.Values {
				row := map[string]any{}
				for k, val := range s.Tags {
					row[k] = val
				}
				for i, c := range s.Columns {
					row[c] = v[i]
				}
				out = append(out, row)
			}
		}
	}
	return out
}

// SelfSigned writes a self-signed ECDSA certificate for name, and its key,
// into dir.
func SelfSigned(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// Victoria is a VictoriaMetrics server started for a test.
type Victoria struct {
	t   *testing.T
	URL string
}

// StartVictoria starts VictoriaMetrics on a free port with its data in a temp dir.
func StartVictoria(t *testing.T) *Victoria {
	t.Helper()
	bin := testsvc.LookPath(t, "victoria-metrics", "victoria-metrics")
	port := testsvc.FreePort(t)
	v := &Victoria{t: t, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	p := testsvc.Start(t, "victoria-metrics", bin,
		"-httpListenAddr", fmt.Sprintf("127.0.0.1:%d", port),
		"-storageDataPath", t.TempDir(), "-loggerLevel", "ERROR",
		"-search.latencyOffset", "0s", "-search.disableCache")
	p.WaitFor(t, 30*time.Second, testsvc.HTTPReady(v.URL+"/health"))
	return v
}

// Export returns every sample of the series matching match, from
// /api/v1/export (one JSON object a series a line).
func (v *Victoria) Export(match string) []VMSeries {
	v.t.Helper()
	// Samples become searchable after a flush.
	if resp, err := http.Get(v.URL + "/internal/force_flush"); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get(v.URL + "/api/v1/export?match[]=" + url.QueryEscape(match))
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		v.t.Fatalf("victoria export: %s: %s", resp.Status, body)
	}
	var out []VMSeries
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		if line == "" {
			continue
		}
		var s VMSeries
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			v.t.Fatalf("victoria export: %v: %s", err, line)
		}
		out = append(out, s)
	}
	return out
}

// VMSeries is one series of /api/v1/export.
type VMSeries struct {
	Metric     map[string]string `json:"metric"`
	Values     []float64         `json:"values"`
	Timestamps []int64           `json:"timestamps"`
}

func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} } //nolint:gosec // test client for a self-signed server
