package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/sink/collectd"
)

// collectdPasswordEnv holds the password of --collectd-security-level sign
// or encrypt: a flag would show it to everyone in ps.
const collectdPasswordEnv = "CGMON_COLLECTD_PASSWORD"

// collectdRunFlags are cgmon run's flags of the collectd output (the
// collectd: section of the configuration).
type collectdRunFlags struct {
	server, securityLevel, username, memory string
}

func addCollectdFlags(fl *pflag.FlagSet, f *collectdRunFlags) {
	fl.StringVar(&f.server, "collectd-server", "", "send every container's cpu and memory to collectd's network plugin at host:port (off when empty)")
	fl.StringVar(&f.securityLevel, "collectd-security-level", "none", "collectd: none, sign or encrypt (password in $"+collectdPasswordEnv+")")
	fl.StringVar(&f.username, "collectd-username", "", "collectd: user name of sign and encrypt")
	fl.StringVar(&f.memory, "collectd-memory", string(collectd.MemoryCurrent), "collectd pod_memory: current (usage − inactive_file, podman ≥ 5.6) or raw (usage, podman 4.x)")
}

// newCollectdSink returns the sink the flags ask for, or nil when
// --collectd-server is empty.
func newCollectdSink(f collectdRunFlags, interval time.Duration, log *slog.Logger) (*collectd.Sink, error) {
	if f.server == "" {
		return nil, nil
	}
	s, err := collectd.New(collectd.Options{
		Server: f.server, SecurityLevel: f.securityLevel, Username: f.username, Password: os.Getenv(collectdPasswordEnv),
		Memory: f.memory, Interval: interval, Logger: log,
	})
	if err != nil {
		return nil, usageError{fmt.Errorf("--collectd-*: %w", err)}
	}
	return s, nil
}

// runCollectd sends every snapshot of ag to s until ctx is done; the
// channel returned is closed then. A nil s does nothing. The caller closes
// s.
func runCollectd(ctx context.Context, s *collectd.Sink, ag *agent.Agent) <-chan struct{} {
	done := make(chan struct{})
	if s == nil {
		close(done)
		return done
	}
	sub := ag.Subscribe("collectd")
	go func() {
		defer close(done)
		defer sub.Close()
		s.Run(ctx, sub.C())
	}()
	return done
}
