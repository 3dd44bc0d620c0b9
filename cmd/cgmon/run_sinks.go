package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/config"
	"github.com/cgmon/cgmon/internal/delivery"
	"github.com/cgmon/cgmon/internal/sink/influx"
)

// bindInfluxFlags defines the flags of the influxdb: keys. Secrets come
// from the configuration file or the environment (CGMON_INFLUXDB_PASSWORD,
// CGMON_INFLUXDB_TOKEN, CGTOP_MON_INFLUXDB_PASSWORD), never from the
// command line, which every user can read in /proc.
func bindInfluxFlags(fl *pflag.FlagSet, o *influx.Options) {
	fl.StringVar(&o.URL, "influxdb-url", o.URL, "write to InfluxDB at this URL (http:// or https://); turns the output on (key influxdb.url)")
	fl.StringVar(&o.API, "influxdb-api", o.API, "InfluxDB write API: v1 (/write) or v2 (/api/v2/write)")
	fl.StringVar(&o.Database, "influxdb-database", o.Database, "v1 database")
	fl.StringVar(&o.Username, "influxdb-username", o.Username, "v1 user (password from CGMON_INFLUXDB_PASSWORD)")
	fl.StringVar(&o.RetentionPolicy, "influxdb-retention-policy", o.RetentionPolicy, "v1 retention policy")
	fl.StringVar(&o.Org, "influxdb-org", o.Org, "v2 organization")
	fl.StringVar(&o.Bucket, "influxdb-bucket", o.Bucket, "v2 bucket (token from CGMON_INFLUXDB_TOKEN)")
	fl.StringVar(&o.Precision, "influxdb-precision", o.Precision, "timestamp precision: s, ms, us or ns")
	fl.BoolVar(&o.TLSVerify, "influxdb-tls-verify", o.TLSVerify, "verify the server's certificate (https)")
	fl.StringVar(&o.CAFile, "influxdb-ca-file", o.CAFile, "PEM CA bundle for a self-signed server")
	fl.StringVar(&o.Measurement, "influxdb-measurement", o.Measurement, "measurement name (default: the host name; native schema: cgroup)")
	fl.StringVar(&o.Schema, "influxdb-schema", o.Schema, "cgtop (cgtop_mon's series) or native (every metric)")
	fl.IntVar(&o.BatchSize, "influxdb-batch-size", o.BatchSize, "points per write request")
	fl.IntVar(&o.MaxPendingPoints, "influxdb-max-pending-points", o.MaxPendingPoints, "points kept in memory during an outage (oldest dropped)")
	fl.StringVar(&o.SpoolDir, "influxdb-spool-dir", o.SpoolDir, "keep unsent points on disk here (survives restarts)")
	fl.Int64Var(&o.SpoolMaxBytes, "influxdb-spool-max-bytes", o.SpoolMaxBytes, "spool size limit (oldest dropped)")
	fl.StringVar(&o.Filter.Group, "influxdb-group", o.Filter.Group, "only this cgroup and its subgroups")
	fl.StringSliceVar(&o.Filter.Include, "influxdb-include", o.Filter.Include, "final-name patterns to include")
	fl.StringSliceVar(&o.Filter.Exclude, "influxdb-exclude", o.Filter.Exclude, "final-name patterns to exclude (wins)")
}

// sinkSet is the running push sinks.
type sinkSet struct {
	sinks []*influx.Sink
}

// start starts the configured push sinks on the snapshots of agents until
// ctx is done.
func (s *sinkSet) start(ctx context.Context, cfg config.Config, agents []*agent.Agent, log *slog.Logger) error {
	if !cfg.InfluxDB.Enabled {
		return nil
	}
	sk, err := influx.New(cfg.InfluxDB, log)
	if err != nil {
		return fmt.Errorf("influxdb: %w", err)
	}
	snaps := agent.Merge("influxdb", agents...)
	go func() {
		defer snaps.Close()
		sk.Run(ctx, snaps)
	}()
	log.Info("influxdb output started", "target", sk.Stats().Target, "schema", cfg.InfluxDB.Schema, "hosts", len(agents),
		"batch_size", cfg.InfluxDB.BatchSize, "max_pending_points", cfg.InfluxDB.MaxPendingPoints, "spool_dir", cfg.InfluxDB.SpoolDir)
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
