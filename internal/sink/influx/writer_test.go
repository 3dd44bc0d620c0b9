package influx

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/cgmon/cgmon/internal/delivery"
)

// The request each API makes, seen by a fake server (the real servers are
// in live_test.go; InfluxDB 2.x itself is not packaged for Debian 12).
func TestWriterRequests(t *testing.T) {
	var mu sync.Mutex
	var got struct {
		method, path, query, auth, ctype, body string
	}
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got.method, got.path, got.query = r.Method, r.URL.Path, r.URL.RawQuery
		got.auth, got.ctype, got.body = r.Header.Get("Authorization"), r.Header.Get("Content-Type"), string(b)
		mu.Unlock()
		w.WriteHeader(status)
		io.WriteString(w, `{"error":"partial write: field type conflict"}`)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name              string
		mod               func(*Options)
		path, query, auth string
	}{
		{"v1 with user", func(o *Options) { o.Username, o.Password, o.RetentionPolicy, o.Precision = "u", "p@ss", "week", "us" },
			"/write", "db=db&precision=u&rp=week", "Basic dTpwQHNz"},
		{"v1 without user", func(o *Options) {}, "/write", "db=db&precision=s", ""},
		{"v1 user in the url, under a path", func(o *Options) { o.URL = strings.Replace(srv.URL, "://", "://u:p@ss@", 1) + "/influx/" },
			"/influx/write", "db=db&precision=s", "Basic dTpwQHNz"},
		{"v2", func(o *Options) {
			o.API, o.Database, o.Org, o.Bucket, o.Token, o.Precision = "v2", "", "my org", "b/1", "tok==", "ns"
		},
			"/api/v2/write", "bucket=b%2F1&org=my+org&precision=ns", "Token tok=="},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := opts(func(o *Options) { o.URL = srv.URL; tc.mod(o) })
			c, err := o.check()
			if err != nil {
				t.Fatal(err)
			}
			w, err := newWriter(o, c.url)
			if err != nil {
				t.Fatal(err)
			}
			status = http.StatusNoContent
			if err := w.Send(context.Background(), [][]byte{[]byte("m,a=b f=1i 1\n"), []byte("m f=2 2\n")}); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got.method != "POST" || got.path != tc.path || got.query != tc.query || got.auth != tc.auth ||
				got.body != "m,a=b f=1i 1\nm f=2 2\n" || !strings.HasPrefix(got.ctype, "text/plain") {
				t.Errorf("request %+v, want POST %s?%s auth %q", got, tc.path, tc.query, tc.auth)
			}
			if strings.Contains(w.shown, "p@ss") || strings.Contains(w.shown, "tok") {
				t.Errorf("the shown target %q has a secret", w.shown)
			}
			status = http.StatusBadRequest
			mu.Unlock()
			err = w.Send(context.Background(), [][]byte{[]byte("x\n")})
			mu.Lock()
			if delivery.KindOf(err) != delivery.BadData || !strings.Contains(err.Error(), "field type conflict") {
				t.Errorf("400: %v (%v), want bad data with the server's message", err, delivery.KindOf(err))
			}
			w.Reset() // a new client works as well
		})
	}
}

func TestWriterNetworkErrorIsRetried(t *testing.T) {
	o := opts(func(o *Options) { o.URL = "http://127.0.0.1:1" })
	c, _ := o.check()
	w, err := newWriter(o, c.url)
	if err != nil {
		t.Fatal(err)
	}
	err = w.Send(context.Background(), [][]byte{[]byte("m f=1 1\n")})
	if err == nil || delivery.KindOf(err) != delivery.Retry || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("got %v, want a retryable connection error", err)
	}
}

func TestCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := dir + "/bad.pem"
	if err := writeFile(bad, "not a certificate"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{dir + "/missing.pem", bad} {
		o := opts(func(o *Options) { o.CAFile = f })
		if _, err := New(o, nil); err == nil || !strings.Contains(err.Error(), "influxdb.ca_file") {
			t.Errorf("ca_file %s: %v, want an error naming influxdb.ca_file", f, err)
		}
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }
