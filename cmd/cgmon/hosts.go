package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/logging"
	"github.com/cgmon/cgmon/internal/model"
	"github.com/cgmon/cgmon/internal/remote"
	"github.com/cgmon/cgmon/internal/render"
	"github.com/cgmon/cgmon/internal/schedule"
	"github.com/cgmon/cgmon/internal/server"
)

// hostFlags are the remote-host flags of run and snapshot; with a
// configuration file they are the `hosts:` list (remote.Options).
type hostFlags struct {
	hosts      []string
	keyFile    string
	knownHosts string
	tofu       bool
	timeout    time.Duration
}

func addHostFlags(fl *pflag.FlagSet, f *hostFlags, many bool) {
	if many {
		fl.StringArrayVar(&f.hosts, "host", nil, "also read this remote host over SSH, user@host:port (repeatable)")
	} else {
		fl.StringArrayVar(&f.hosts, "host", nil, "read this remote host over SSH instead of the local one, user@host:port")
	}
	fl.StringVar(&f.keyFile, "key-file", "", "SSH private key for --host; empty: the keys of ssh-agent (SSH_AUTH_SOCK)")
	fl.StringVar(&f.knownHosts, "known-hosts", "", "known_hosts file the host keys of --host are checked against (default ~/.ssh/known_hosts)")
	fl.BoolVar(&f.tofu, "trust-on-first-use", false, "accept and record the key of a --host not in known_hosts (a changed key is refused always)")
	fl.DurationVar(&f.timeout, "host-timeout", remote.DefaultTimeout, "longest wait for a --host in one cycle, connecting included")
}

// options returns one remote.Options per --host.
func (f *hostFlags) options(log *slog.Logger) ([]remote.Options, error) {
	if f.timeout <= 0 {
		return nil, fmt.Errorf("--host-timeout %s: must be positive", f.timeout)
	}
	var out []remote.Options
	seen := map[string]bool{}
	for _, h := range f.hosts {
		a, err := remote.ParseAddress(h)
		if err != nil {
			return nil, fmt.Errorf("--host: %w", err)
		}
		if seen[a.Host] {
			return nil, fmt.Errorf("--host %s: given twice", a.Host)
		}
		seen[a.Host] = true
		out = append(out, remote.Options{Address: h, KeyFile: f.keyFile, KnownHosts: f.knownHosts,
			TrustOnFirstUse: f.tofu, Timeout: f.timeout, Logger: log})
	}
	return out, nil
}

// oneRemoteHost is the source of a one-shot command's --host (snapshot,
// use): exactly one host, not with --rootfs; o's Options come from the
// flags. An interrupt ends a fetch in flight at once, not at
// --host-timeout; errors say what to do about them on the command line.
func oneRemoteHost(cmd *cobra.Command, f hostFlags, o remote.HostOptions) (agent.Source, func() error, error) {
	if len(f.hosts) > 1 {
		return nil, nil, usageError{errors.New("--host: give one host")}
	}
	if cmd.Flags().Changed("rootfs") {
		return nil, nil, usageError{errors.New("--rootfs and --host: give one")}
	}
	opts, err := f.options(oneShotLog(cmd.ErrOrStderr()))
	if err != nil {
		return nil, nil, usageError{err}
	}
	o.Options = opts[0]
	h, err := remote.NewHost(o)
	if err != nil {
		return nil, nil, usageError{err}
	}
	stop := context.AfterFunc(cmd.Context(), func() { h.Root().Close() })
	return remoteSource{h}, func() error { stop(); return h.Close() }, nil
}

// remoteSource is a remote host whose errors say what to do about them on
// the command line.
type remoteSource struct{ h *remote.Host }

func (s remoteSource) Next() (*model.Snapshot, error) {
	snap, err := s.h.Next()
	if err != nil {
		return nil, hostHint(err)
	}
	return snap, nil
}

// hostHint adds to a remote host's error what to do about it on the
// command line: internal/remote's messages name the configuration keys.
func hostHint(err error) error {
	switch {
	case errors.Is(err, remote.ErrHostKeyUnknown):
		return fmt.Errorf("%w; on the command line: --known-hosts FILE, or --trust-on-first-use", err)
	case strings.Contains(err.Error(), "unable to authenticate"):
		// x/crypto/ssh has no error type for it, only this text.
		return fmt.Errorf("%w; the host refused the key: check --key-file (or the keys of ssh-agent) against the user's authorized_keys there", err)
	}
	return err
}

// oneShotLog is the logger of a command that reads a remote host and ends
// at its first error, which it prints: the notes announcing a retry (they
// carry retry_in) are dropped, since none comes. The rest, such as a key
// trusted on first use, stay.
func oneShotLog(w io.Writer) *slog.Logger {
	log, _ := newLogger(w, logging.Options{Level: "warn", Format: "text"})
	return slog.New(noRetryNotes{log.Logger.Handler()})
}

type noRetryNotes struct{ slog.Handler }

func (h noRetryNotes) Handle(ctx context.Context, r slog.Record) error {
	retry := false
	r.Attrs(func(a slog.Attr) bool {
		retry = a.Key == "retry_in"
		return !retry
	})
	if retry {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h noRetryNotes) WithAttrs(as []slog.Attr) slog.Handler {
	return noRetryNotes{h.Handler.WithAttrs(as)}
}

func (h noRetryNotes) WithGroup(name string) slog.Handler {
	return noRetryNotes{h.Handler.WithGroup(name)}
}

// parseSchedule reads the schedule key (--schedule): a cron expression or a duration; empty
// keeps the interval.
func parseSchedule(spec string) (schedule.Schedule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	s, err := schedule.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	if gap := schedule.MinGap(s, time.Now()); gap < minRunInterval {
		return nil, fmt.Errorf("schedule %q: runs %s apart, at least %s wanted", spec, gap, minRunInterval)
	}
	return s, nil
}

// remoteHost is one remote host with its own engine and agent: a host that
// hangs holds up only its own cycle. Sinks subscribe to each host's agent
// as to the local one; snapshots carry the host's name.
type remoteHost struct {
	host    *remote.Host
	agent   *agent.Agent
	metrics http.Handler // the host's /metrics; nil when Prometheus is off
}

// newHosts makes one agent per remote host on the local agent's
// schedule; runHosts starts them.
func newHosts(opts []remote.Options, interval time.Duration, sched schedule.Schedule,
	devices []string, log *slog.Logger) ([]*remoteHost, error) {
	var hosts []*remoteHost
	for _, o := range opts {
		h, err := remote.NewHost(remote.HostOptions{Options: o, ExcludedDevices: devices})
		if err != nil {
			closeHosts(hosts)
			return nil, err
		}
		ag, err := agent.New(agent.Options{Source: h, Interval: interval, Schedule: sched, Logger: log.With("host", h.Name())})
		if err != nil {
			h.Close()
			closeHosts(hosts)
			return nil, err
		}
		hosts = append(hosts, &remoteHost{host: h, agent: ag})
	}
	return hosts, nil
}

func closeHosts(hosts []*remoteHost) {
	for _, rh := range hosts {
		rh.host.Close()
	}
}

// runHosts runs the hosts' agents until ctx is done; wait returns when
// every one has stopped and its connection is closed.
func runHosts(ctx context.Context, hosts []*remoteHost) (wait func()) {
	var wg sync.WaitGroup
	for _, rh := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rh.host.Close()
			// A cycle waiting on a slow host must not hold up the stop.
			defer context.AfterFunc(ctx, func() { rh.host.Root().Close() })()
			rh.agent.Run(ctx) // returns only when ctx is done
		}()
	}
	return wg.Wait
}

// hostStatus is one entry of GET /api/v1/hosts.
type hostStatus struct {
	Name          string  `json:"name"`
	Address       string  `json:"address"`
	Cycles        uint64  `json:"cycles"`
	Errors        uint64  `json:"errors"`
	LastError     string  `json:"last_error,omitempty"`
	LastTimestamp string  `json:"last_timestamp,omitempty"`
	FetchBytes    int     `json:"fetch_bytes"`
	FetchWire     int     `json:"fetch_wire_bytes"`
	FetchFiles    int     `json:"fetch_files"`
	FetchSeconds  float64 `json:"fetch_seconds"`
}

// registerHostRoutes serves the remote hosts beside the local API:
// GET /api/v1/hosts lists them with their health, and
// GET /api/v1/hosts/<name> is the host's latest snapshot (the document of
// /api/v1/cgroups), and GET /api/v1/hosts/<name>/metrics its Prometheus
// metrics (the names of /metrics).
func registerHostRoutes(srv *server.Server, hosts []*remoteHost) {
	srv.Handle("/api/v1/hosts", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		list := make([]hostStatus, 0, len(hosts))
		for _, rh := range hosts {
			st := rh.agent.Stats()
			fs := rh.host.Root().LastFetch()
			s := hostStatus{Name: rh.host.Name(), Address: rh.host.Root().Address().String(), Cycles: st.Cycles,
				Errors: st.Errors, FetchBytes: fs.Bytes, FetchWire: fs.Wire, FetchFiles: fs.Files, FetchSeconds: fs.Duration.Seconds()}
			if st.LastError != nil {
				s.LastError = st.LastError.Error()
			}
			if snap := rh.agent.Latest(); snap != nil {
				s.LastTimestamp = snap.Timestamp.Format(time.RFC3339Nano)
			}
			list = append(list, s)
		}
		b, _ := json.Marshal(list)
		w.Write(append(b, '\n'))
	}))
	srv.Handle("/api/v1/hosts/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/api/v1/hosts/")
		name, metrics := strings.CutSuffix(name, "/metrics")
		for _, rh := range hosts {
			if rh.host.Name() != name {
				continue
			}
			if metrics {
				if rh.metrics == nil {
					break // 404: Prometheus is off
				}
				rh.metrics.ServeHTTP(w, r)
				return
			}
			snap := rh.agent.Latest()
			if snap == nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				msg := "no snapshot of " + name + " yet"
				if err := rh.agent.LastError(); err != nil {
					msg += ": " + err.Error()
				}
				b, _ := json.Marshal(map[string]string{"error": msg})
				w.Write(append(b, '\n'))
				return
			}
			render.JSON(w, snap, false)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		b, _ := json.Marshal(map[string]string{"error": "no remote host " + name})
		w.Write(append(b, '\n'))
	}))
}
