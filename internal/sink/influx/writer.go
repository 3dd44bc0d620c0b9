package influx

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cgmon/cgmon/internal/delivery"
)

// writer is the delivery.Sender that POSTs line protocol to InfluxDB's
// v1 /write or v2 /api/v2/write.
type writer struct {
	endpoint string // the full write URL, with no secret in it
	shown    string // endpoint with any user info redacted, for messages
	auth     func(h http.Header)
	tlsConf  *tls.Config
	timeout  time.Duration

	mu     sync.Mutex
	client *http.Client
	body   bytes.Buffer // used by the one goroutine that sends
}

func newWriter(o Options, u *url.URL) (*writer, error) {
	w := &writer{}
	base := *u
	base.User = nil // credentials in the URL become basic auth below
	q := url.Values{}
	switch o.API {
	case "v1":
		base.Path = strings.TrimSuffix(base.Path, "/") + "/write"
		q.Set("db", o.Database)
		if o.RetentionPolicy != "" {
			q.Set("rp", o.RetentionPolicy)
		}
		// InfluxDB 1.x says "u" for microseconds.
		q.Set("precision", map[string]string{"s": "s", "ms": "ms", "us": "u", "ns": "ns"}[o.Precision])
		user, pass := o.Username, o.Password
		if u.User != nil && user == "" {
			user = u.User.Username()
			pass, _ = u.User.Password()
		}
		// Basic auth, which InfluxDB 1.x accepts like u= and p=, keeps the
		// password out of the URL and so out of every error message.
		if user != "" {
			w.auth = func(h http.Header) { h.Set("Authorization", basicAuth(user, pass)) }
		}
	case "v2":
		base.Path = strings.TrimSuffix(base.Path, "/") + "/api/v2/write"
		if o.Org != "" {
			q.Set("org", o.Org)
		}
		q.Set("bucket", o.Bucket)
		q.Set("precision", o.Precision)
		if tok := o.Token; tok != "" {
			w.auth = func(h http.Header) { h.Set("Authorization", "Token "+tok) }
		}
	}
	base.RawQuery = q.Encode()
	w.endpoint = base.String()
	w.shown = base.Redacted()

	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: !o.TLSVerify} //nolint:gosec // the user's explicit choice (tls_verify: false)
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("influxdb.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("influxdb.ca_file: %s: no PEM certificate in it", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	w.tlsConf, w.timeout = cfg, o.Timeout
	w.client = w.newClient()
	return w, nil
}

func basicAuth(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func (w *writer) newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a metrics sink talks to its server directly
	tr.TLSClientConfig = w.tlsConf.Clone()
	tr.MaxIdleConnsPerHost = 2
	return &http.Client{Transport: tr, Timeout: w.timeout}
}

// Reset implements delivery.Sender: a new client with new connections.
func (w *writer) Reset() {
	w.mu.Lock()
	old := w.client
	w.client = w.newClient()
	w.mu.Unlock()
	old.CloseIdleConnections()
}

// maxErrorBody is how much of an error answer is read and quoted.
const maxErrorBody = 4 << 10

// Send implements delivery.Sender: one POST of the points.
func (w *writer) Send(ctx context.Context, points [][]byte) error {
	w.body.Reset()
	for _, p := range points {
		w.body.Write(p)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.endpoint, bytes.NewReader(w.body.Bytes()))
	if err != nil {
		return delivery.Classify(delivery.Config, fmt.Errorf("POST %s: %w", w.shown, err))
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	if w.auth != nil {
		w.auth(req.Header)
	}
	w.mu.Lock()
	client := w.client
	w.mu.Unlock()
	resp, err := client.Do(req)
	if err != nil {
		return classifyTransport(w.shown, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	return classifyStatus(w.shown, resp.StatusCode, msg)
}

// classifyTransport turns a failed request into a delivery error without
// the *url.Error's URL (which could carry a query with secrets in other
// setups) and with TLS verification failures marked as configuration
// errors: a retry cannot fix a certificate.
func classifyTransport(shown string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var cv *tls.CertificateVerificationError
	var hn x509.HostnameError
	var ua x509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	if errors.As(err, &cv) || errors.As(err, &hn) || errors.As(err, &ua) || errors.As(err, &ci) {
		return delivery.Classify(delivery.Config, fmt.Errorf("POST %s: TLS certificate not accepted (check the url's host name, ca_file or tls_verify): %w", shown, err))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return delivery.Classify(delivery.Retry, fmt.Errorf("POST %s: timed out: %w", shown, err))
	}
	return delivery.Classify(delivery.Retry, fmt.Errorf("POST %s: %w", shown, err))
}

// classifyStatus maps InfluxDB's answers: 204 (or any 2xx) is success;
// 400 (unparsable points, a partial write, a field type conflict), 413
// and 422 say the batch itself is bad; 401 and 403 are credentials; 404
// is a database or bucket that does not exist (or a wrong URL path);
// anything else (429, 5xx, ...) may pass and is retried.
func classifyStatus(shown string, code int, body []byte) error {
	if code/100 == 2 {
		return nil
	}
	err := fmt.Errorf("POST %s: %d %s: %s", shown, code, http.StatusText(code), serverMessage(body))
	switch code {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		return delivery.Classify(delivery.BadData, err)
	case http.StatusUnauthorized, http.StatusForbidden:
		return delivery.Classify(delivery.Auth, err)
	case http.StatusNotFound:
		return delivery.Classify(delivery.Config, err)
	}
	return delivery.Classify(delivery.Retry, err)
}

// serverMessage is the server's error text, on one line and short.
func serverMessage(body []byte) string {
	s := strings.Join(strings.Fields(string(body)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "(no message)"
	}
	return s
}
