// Package collectd sends every container's cpu and memory figures to a
// collectd server with collectd's binary network protocol (proto.go), named as the
// collectd-libpod-stats plugin named them (plugin libpodstats, plugin
// instance = container name, types pod_cpu and pod_memory of
// packaging/collectd/types.db.libpodstats). The same value lists feed
// `cgmon collectd-exec`, which prints them as PUTVAL lines for collectd's
// exec plugin.
//
// The sink renders the model and computes nothing: cpu percent is the
// model's rate, memory its usage or working set.
package collectd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/cgmon/cgmon/internal/model"
)

// DefaultServer is collectd's network plugin's default address.
const DefaultServer = "127.0.0.1:25826"

// Options configure a Sink. The field names follow the collectd section of
// the configuration.
type Options struct {
	// Server is the collectd network plugin's host:port; "" is
	// DefaultServer.
	Server string
	// SecurityLevel is none, sign (HMAC-SHA-256) or encrypt (AES-256);
	// sign and encrypt need Username and Password, as in the server's
	// AuthFile.
	SecurityLevel string
	Username      string
	Password      string // a secret: never logged
	// Memory is "current" (usage − inactive_file) or "raw" (usage); "" is
	// current.
	Memory string
	// Hostname is collectd's host field; "" takes the snapshot's host name.
	Hostname string
	// Interval is the agent's interval, sent with every value list.
	Interval time.Duration
	// Logger receives send errors. Optional.
	Logger *slog.Logger
}

// String shows the options with the password masked, so that printing or
// logging them never shows it.
func (o Options) String() string {
	pw := ""
	if o.Password != "" {
		pw = "***"
	}
	return fmt.Sprintf("collectd{server=%s security_level=%s username=%s password=%s memory=%s hostname=%s interval=%s}",
		o.Server, o.SecurityLevel, o.Username, pw, o.Memory, o.Hostname, o.Interval)
}

// GoString is String, for %#v.
func (o Options) GoString() string { return o.String() }

// LogValue logs the options as String shows them.
func (o Options) LogValue() slog.Value { return slog.StringValue(o.String()) }

// Sink sends snapshots to one collectd server.
type Sink struct {
	conn   net.Conn
	server string
	packer *packer
	values Values
	log    *slog.Logger
	vls    []ValueList
	out    []byte

	sent, errs, dropped atomic.Uint64
	failing             bool
}

// ParseSecurityLevel parses none, sign or encrypt; "" is none.
func ParseSecurityLevel(s string) (SecurityLevel, error) {
	switch s {
	case "", "none":
		return None, nil
	case "sign":
		return Sign, nil
	case "encrypt":
		return Encrypt, nil
	}
	return 0, fmt.Errorf("collectd security_level %q: want none, sign or encrypt", s)
}

// New checks the options and opens the UDP socket (sending needs no
// server to be up).
func New(opts Options) (*Sink, error) {
	level, err := ParseSecurityLevel(opts.SecurityLevel)
	if err != nil {
		return nil, err
	}
	if level != None && (opts.Username == "" || opts.Password == "") {
		return nil, fmt.Errorf("collectd security_level %s needs a username and a password", opts.SecurityLevel)
	}
	mem, err := ParseMemory(opts.Memory)
	if err != nil {
		return nil, err
	}
	server := opts.Server
	if server == "" {
		server = DefaultServer
	}
	if _, _, err := net.SplitHostPort(server); err != nil {
		return nil, fmt.Errorf("collectd server %q: %w", server, err)
	}
	conn, err := net.Dial("udp", server)
	if err != nil {
		return nil, fmt.Errorf("collectd server %s: %w", server, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sink{
		conn: conn, server: server, log: log, packer: newPacker(level, opts.Username, opts.Password),
		values: Values{Host: opts.Hostname, Memory: mem, Interval: opts.Interval},
	}, nil
}

// Name is the sink's name in cgmon's own metrics.
func (s *Sink) Name() string { return "collectd" }

// SinkStats returns the value lists sent, the failed sends, and the value
// lists lost to them.
func (s *Sink) SinkStats() (sent, errors, dropped uint64) {
	return s.sent.Load(), s.errs.Load(), s.dropped.Load()
}

// Run sends every snapshot from snaps until the channel closes or ctx is
// done. Sending never blocks for long (UDP), so a snapshot is sent whole
// before the next is taken.
func (s *Sink) Run(ctx context.Context, snaps <-chan *model.Snapshot) {
	for {
		select {
		case <-ctx.Done():
			return
		case snap, ok := <-snaps:
			if !ok {
				return
			}
			s.Send(ctx, snap)
		}
	}
}

// Send sends one snapshot's value lists, in as few datagrams as they fit,
// and sends the last one at once: a partly filled datagram must not wait
// for the next interval.
func (s *Sink) Send(ctx context.Context, snap *model.Snapshot) error {
	s.vls = s.values.Append(s.vls[:0], snap)
	var firstErr error
	lost, pending := 0, 0
	fail := func(err error, n int) {
		lost += n
		if firstErr == nil {
			firstErr = err
		}
	}
	for i := range s.vls {
		ok, err := s.packer.add(&s.vls[i])
		if err != nil {
			fail(err, 1)
			continue
		}
		if !ok {
			if err := s.flush(); err != nil {
				fail(err, pending)
			}
			pending = 0
			if ok, err = s.packer.add(&s.vls[i]); !ok || err != nil {
				fail(fmt.Errorf("%s: %w", s.vls[i].Identifier(), ErrTooBig), 1)
				continue
			}
		}
		pending++
	}
	if !s.packer.empty() {
		if err := s.flush(); err != nil {
			fail(err, pending)
		}
	}
	s.report(len(s.vls), lost, firstErr)
	clear(s.vls) // drop the strings until the next snapshot
	return firstErr
}

// flush sends the datagram being filled.
func (s *Sink) flush() error {
	var err error
	s.out, err = s.packer.take(s.out)
	if err != nil {
		return err
	}
	if _, err := s.conn.Write(s.out); err != nil {
		return fmt.Errorf("collectd: send to %s: %w", s.server, err)
	}
	return nil
}

// report counts a send and logs the first failure of a run of failures.
func (s *Sink) report(n, lost int, err error) {
	s.sent.Add(uint64(n - lost))
	if err == nil {
		if s.failing {
			s.log.Info("collectd: sending again", "server", s.server)
			s.failing = false
		}
		return
	}
	s.errs.Add(1)
	s.dropped.Add(uint64(lost))
	if !s.failing {
		s.log.Warn("collectd: send failed; values of this interval are lost", "server", s.server, "err", err)
		s.failing = true
	} else {
		s.log.Debug("collectd: send failed", "server", s.server, "err", err)
	}
}

// Close closes the socket.
func (s *Sink) Close() error {
	if err := s.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("collectd: close: %w", err)
	}
	return nil
}
