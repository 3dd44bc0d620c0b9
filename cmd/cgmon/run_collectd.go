package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/pflag"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/config"
	"github.com/cgmon/cgmon/internal/sink/collectd"
)

// bindCollectdFlags defines the flags of the collectd: keys. The password
// of sign and encrypt comes from the file or $CGMON_COLLECTD_PASSWORD: a
// flag would show it to everyone in ps.
func bindCollectdFlags(fl *pflag.FlagSet, c *config.Collectd) {
	fl.StringVar(&c.Server, "collectd-server", "", "send every container's cpu and memory to collectd's network plugin at host:port; turns the output on (key collectd.server)")
	fl.StringVar(&c.SecurityLevel, "collectd-security-level", c.SecurityLevel, "collectd: none, sign or encrypt (password in $CGMON_COLLECTD_PASSWORD)")
	fl.StringVar(&c.Username, "collectd-username", c.Username, "collectd: user name of sign and encrypt")
	fl.StringVar(&c.Memory, "collectd-memory", c.Memory, "collectd pod_memory: current (usage − inactive_file, podman ≥ 5.6) or raw (usage, podman 4.x)")
}

// newCollectdSink returns the sink of the collectd: keys, or nil when the
// output is off.
func newCollectdSink(c config.Collectd, interval time.Duration, log *slog.Logger) (*collectd.Sink, error) {
	if !c.Enabled {
		return nil, nil
	}
	s, err := collectd.New(collectd.Options{
		Server: c.Server, SecurityLevel: c.SecurityLevel, Username: c.Username, Password: c.Password,
		Memory: c.Memory, Hostname: c.Hostname, Interval: interval, Logger: log,
	})
	if err != nil {
		return nil, usageError{fmt.Errorf("collectd: %w", err)}
	}
	return s, nil
}

// runCollectd sends every snapshot of agents to s until ctx is done; the
// channel returned is closed then. A nil s does nothing. The caller closes
// s.
func runCollectd(ctx context.Context, s *collectd.Sink, agents []*agent.Agent) <-chan struct{} {
	done := make(chan struct{})
	if s == nil {
		close(done)
		return done
	}
	snaps := agent.Merge("collectd", agents...)
	go func() {
		defer close(done)
		defer snaps.Close()
		s.Run(ctx, snaps.C())
	}()
	return done
}
