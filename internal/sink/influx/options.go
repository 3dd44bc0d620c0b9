package influx

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/cgmon/cgmon/internal/delivery"
	"github.com/cgmon/cgmon/internal/filter"
)

// Options are the keys of the influxdb: section of the configuration file,
// with the same names. Start from DefaultOptions: its zero-value fields are
// not all the defaults (TLSVerify is true by default).
type Options struct {
	Enabled bool   `yaml:"enabled"`
	URL     string `yaml:"url"`
	// API is "v1" (/write: Database, Username, Password, RetentionPolicy)
	// or "v2" (/api/v2/write: Org, Bucket, Token).
	API             string `yaml:"api"`
	Database        string `yaml:"database"`
	Username        string `yaml:"username"`
	Password        string `yaml:"password"` // secret
	RetentionPolicy string `yaml:"retention_policy"`
	Org             string `yaml:"org"`
	Bucket          string `yaml:"bucket"`
	Token           string `yaml:"token"` // secret
	// Precision of the timestamps written: s, ms, us or ns.
	Precision string `yaml:"precision"`
	// TLSVerify checks the server's certificate and name (https only).
	TLSVerify bool `yaml:"tls_verify"`
	// CAFile is a PEM bundle trusted besides the system's CAs.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds each write request.
	Timeout time.Duration `yaml:"timeout"`
	// Measurement overrides the measurement name: by default the host name
	// for the cgtop schema, "cgroup" for the native one.
	Measurement string `yaml:"measurement"`
	// Schema is "cgtop" (cgtop_mon's series exactly) or "native".
	Schema           string        `yaml:"schema"`
	BatchSize        int           `yaml:"batch_size"`
	MaxPendingPoints int           `yaml:"max_pending_points"`
	SpoolDir         string        `yaml:"spool_dir"`
	SpoolMaxBytes    int64         `yaml:"spool_max_bytes"`
	Filter           FilterOptions `yaml:"filter"`
}

// FilterOptions are cgtop_mon's CGTOP_MON_GROUP, _WHITELIST and _BLACKLIST.
type FilterOptions struct {
	Group   string   `yaml:"group"`
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

// DefaultOptions returns the documented defaults.
func DefaultOptions() Options {
	return Options{
		URL:              "http://127.0.0.1:8086",
		API:              "v1",
		Precision:        "s",
		TLSVerify:        true,
		Timeout:          10 * time.Second,
		Schema:           "cgtop",
		BatchSize:        delivery.DefaultBatchSize,
		MaxPendingPoints: delivery.DefaultMaxPendingPoints,
		SpoolMaxBytes:    delivery.DefaultSpoolMaxBytes,
	}
}

// LogValue shows the options with the secrets masked.
func (o Options) LogValue() slog.Value {
	o.Password, o.Token = mask(o.Password), mask(o.Token)
	if u, err := url.Parse(o.URL); err == nil {
		o.URL = u.Redacted()
	}
	return slog.AnyValue(fmt.Sprintf("%+v", struct{ Options }{o}))
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "********"
}

// Check validates the options; an error names the key at fault.
func (o Options) Check() error {
	_, err := o.check()
	return err
}

type checked struct {
	url       *url.URL
	precision lineprotocol.Precision
	filter    filter.Filter
}

func (o Options) check() (checked, error) {
	var c checked
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("influxdb.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	u, err := url.Parse(o.URL)
	switch {
	case err != nil:
		bad("url", "%v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		bad("url", "%q: want http:// or https://", u.Redacted())
	case u.Host == "":
		bad("url", "%q: no host", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		bad("url", "%q: give no query or fragment; the write path and parameters are added", u.Redacted())
	default:
		c.url = u
	}
	switch o.API {
	case "v1":
		if o.Database == "" {
			bad("database", "required with api v1")
		}
		if o.Token != "" {
			bad("token", "is for api v2; v1 uses username and password")
		}
	case "v2":
		if o.Bucket == "" {
			bad("bucket", "required with api v2")
		}
		if o.Username != "" || o.Password != "" {
			bad("username", "username and password are for api v1; v2 uses token")
		}
	default:
		bad("api", "%q: want v1 or v2", o.API)
	}
	switch o.Precision {
	case "s":
		c.precision = lineprotocol.Second
	case "ms":
		c.precision = lineprotocol.Millisecond
	case "us":
		c.precision = lineprotocol.Microsecond
	case "ns":
		c.precision = lineprotocol.Nanosecond
	default:
		bad("precision", "%q: want s, ms, us or ns", o.Precision)
	}
	if o.Schema != "cgtop" && o.Schema != "native" {
		bad("schema", "%q: want cgtop or native", o.Schema)
	}
	if o.Timeout <= 0 {
		bad("timeout", "%s: must be positive", o.Timeout)
	}
	if o.BatchSize < 1 {
		bad("batch_size", "%d: must be at least 1", o.BatchSize)
	}
	if o.MaxPendingPoints < 1 {
		bad("max_pending_points", "%d: must be at least 1", o.MaxPendingPoints)
	}
	if o.SpoolMaxBytes < 0 || (o.SpoolDir != "" && o.SpoolMaxBytes < 64<<10) {
		bad("spool_max_bytes", "%d: must be at least 65536 with a spool_dir", o.SpoolMaxBytes)
	}
	if strings.ContainsAny(o.Measurement, "\n\r\t") {
		bad("measurement", "%q: no control characters", o.Measurement)
	}
	if f, err := filter.New(o.Filter.Group, o.Filter.Include, o.Filter.Exclude); err != nil {
		bad("filter", "%v", err)
	} else {
		c.filter = f
	}
	return c, errors.Join(errs...)
}
