package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/delivery"
	"github.com/cgmon/cgmon/internal/sink/influx"
)

// sinkFlags are temporary flags for the InfluxDB output until `cgmon run
// --config` maps the influxdb: section onto influx.Options. Secrets come
// from the environment (CGMON_INFLUXDB_PASSWORD, CGMON_INFLUXDB_TOKEN),
// never from the command line, which every user can read in /proc.
type sinkFlags struct {
	influx influx.Options
}

func addSinkFlags(fl *pflag.FlagSet, f *sinkFlags) {
	o := &f.influx
	*o = influx.DefaultOptions()
	o.URL = ""
	fl.StringVar(&o.URL, "influxdb-url", "", "write to InfluxDB at this URL (http:// or https://); empty = off")
	fl.StringVar(&o.API, "influxdb-api", o.API, "InfluxDB write API: v1 (/write) or v2 (/api/v2/write)")
	fl.StringVar(&o.Database, "influxdb-database", "", "v1 database")
	fl.StringVar(&o.Username, "influxdb-username", "", "v1 user (password from CGMON_INFLUXDB_PASSWORD)")
	fl.StringVar(&o.RetentionPolicy, "influxdb-retention-policy", "", "v1 retention policy")
	fl.StringVar(&o.Org, "influxdb-org", "", "v2 organization")
	fl.StringVar(&o.Bucket, "influxdb-bucket", "", "v2 bucket (token from CGMON_INFLUXDB_TOKEN)")
	fl.StringVar(&o.Precision, "influxdb-precision", o.Precision, "timestamp precision: s, ms, us or ns")
	fl.BoolVar(&o.TLSVerify, "influxdb-tls-verify", o.TLSVerify, "verify the server's certificate (https)")
	fl.StringVar(&o.CAFile, "influxdb-ca-file", "", "PEM CA bundle for a self-signed server")
	fl.StringVar(&o.Measurement, "influxdb-measurement", "", "measurement name (default: the host name; native schema: cgroup)")
	fl.StringVar(&o.Schema, "influxdb-schema", o.Schema, "cgtop (cgtop_mon's series) or native (every metric)")
	fl.IntVar(&o.BatchSize, "influxdb-batch-size", o.BatchSize, "points per write request")
	fl.IntVar(&o.MaxPendingPoints, "influxdb-max-pending-points", o.MaxPendingPoints, "points kept in memory during an outage (oldest dropped)")
	fl.StringVar(&o.SpoolDir, "influxdb-spool-dir", "", "keep unsent points on disk here (survives restarts)")
	fl.Int64Var(&o.SpoolMaxBytes, "influxdb-spool-max-bytes", o.SpoolMaxBytes, "spool size limit (oldest dropped)")
	fl.StringVar(&o.Filter.Group, "influxdb-group", "", "only this cgroup and its subgroups")
	fl.StringSliceVar(&o.Filter.Include, "influxdb-include", nil, "final-name patterns to include")
	fl.StringSliceVar(&o.Filter.Exclude, "influxdb-exclude", nil, "final-name patterns to exclude (wins)")
}

// options returns the InfluxDB options, or ok false when the output is off.
func (f *sinkFlags) options() (o influx.Options, ok bool, err error) {
	o = f.influx
	if o.URL == "" {
		return o, false, nil
	}
	o.Enabled = true
	o.Password, o.Token = os.Getenv("CGMON_INFLUXDB_PASSWORD"), os.Getenv("CGMON_INFLUXDB_TOKEN")
	if err := o.Check(); err != nil {
		return o, false, usageError{err}
	}
	return o, true, nil
}

// sinkSet is the running push sinks.
type sinkSet struct {
	sinks []*influx.Sink
}

// start starts the configured sinks on ag's snapshots until ctx is done.
func (s *sinkSet) start(ctx context.Context, f *sinkFlags, ag *agent.Agent, log *slog.Logger) error {
	o, ok, err := f.options()
	if err != nil || !ok {
		return err
	}
	sk, err := influx.Start(ctx, o, ag, log)
	if err != nil {
		return fmt.Errorf("influxdb: %w", err)
	}
	s.sinks = append(s.sinks, sk)
	return nil
}

// Stats returns every sink's self-metrics, for /api/v1/sinks.
func (s *sinkSet) Stats() []delivery.Stats {
	out := make([]delivery.Stats, 0, len(s.sinks))
	for _, sk := range s.sinks {
		out = append(out, sk.Stats())
	}
	return out
}

// wait returns when every sink has flushed after its context ended.
func (s *sinkSet) wait() {
	for _, sk := range s.sinks {
		sk.Wait()
	}
}
