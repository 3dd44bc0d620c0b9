package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Backoff bounds after a failed connection or fetch: the wait doubles from
// MinBackoff up to MaxBackoff and resets after a success.
const (
	MinBackoff = time.Second
	MaxBackoff = time.Minute
)

// MaxOutput caps one fetch's output; more is an error, not a memory blow-up.
const MaxOutput = 256 << 20

// ErrBackingOff is returned, wrapped with the last failure, while a host
// waits before the next attempt.
var ErrBackingOff = errors.New("backing off after a failure")

// conn is the one SSH connection to a host: dialled when first needed,
// kept open between cycles, and dropped and re-dialled with backoff when a
// fetch fails or takes longer than the timeout.
type conn struct {
	addr    Address
	keyFile string
	keys    hostKeys
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time

	stop     context.Context // done once close was called: ends a fetch in flight
	cancel   context.CancelFunc
	mu       sync.Mutex // one fetch at a time
	client   *ssh.Client
	backoff  time.Duration
	retryAt  time.Time
	lastErr  error
	failures int
}

// run sends script to sh -s on the host and returns its standard output
// and error. It never takes much longer than the timeout: a host that
// stops answering has its connection closed.
func (c *conn) run(ctx context.Context, script string) (stdout, stderr []byte, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Before(c.retryAt) {
		return nil, nil, fmt.Errorf("%s: %w (%s more): %w", c.addr, ErrBackingOff, c.retryAt.Sub(now).Round(time.Millisecond), c.lastErr)
	}
	if err := c.stop.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: connection closed", c.addr)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	defer context.AfterFunc(c.stop, cancel)()
	if c.client == nil {
		client, err := c.dial(ctx)
		if err != nil {
			return nil, nil, c.fail(err)
		}
		c.client = client
	}
	stdout, stderr, err = c.exec(ctx, c.client, script)
	if err != nil {
		// The connection may be dead or hung: start afresh next time.
		c.client.Close()
		c.client = nil
		return nil, nil, c.fail(err)
	}
	if c.failures > 0 {
		c.log.Info("remote host answers again", "host", c.addr.String(), "after_failures", c.failures)
	}
	c.failures, c.backoff, c.retryAt, c.lastErr = 0, 0, time.Time{}, nil
	return stdout, stderr, nil
}

func (c *conn) fail(err error) error {
	c.failures++
	if c.backoff == 0 {
		c.backoff = MinBackoff
	} else {
		c.backoff = min(2*c.backoff, MaxBackoff)
	}
	c.retryAt = c.now().Add(c.backoff)
	c.lastErr = err
	if c.failures == 1 {
		c.log.Warn("remote host failed; backing off", "host", c.addr.String(), "err", err, "retry_in", c.backoff)
	} else {
		c.log.Debug("remote host failed again", "host", c.addr.String(), "err", err, "failures", c.failures, "retry_in", c.backoff)
	}
	return err
}

// dial connects and authenticates within ctx's deadline: TCP connect, the
// handshake and the host key check all count (a stopped sshd accepts the
// TCP connection in the kernel and then says nothing).
func (c *conn) dial(ctx context.Context) (*ssh.Client, error) {
	auth, closeAuth, err := c.auth()
	if err != nil {
		return nil, err
	}
	defer closeAuth()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr.HostPort())
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", c.addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	check, algos, err := c.keys.callback(c.addr.HostPort(), nc.RemoteAddr())
	if err != nil {
		nc.Close()
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              c.addr.User,
		Auth:              auth,
		HostKeyCallback:   check,
		HostKeyAlgorithms: algos,
	}
	// The handshake does not watch ctx; closing the connection ends it.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(nc, c.addr.HostPort(), cfg)
	if !stop() || err != nil {
		nc.Close()
		// The connection's deadline is ctx's: its read can time out just
		// before ctx says so.
		if err == nil || ctx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("ssh handshake with %s: no answer within %s", c.addr, c.timeout)
		}
		return nil, fmt.Errorf("ssh %s: %w", c.addr, err)
	}
	nc.SetDeadline(time.Time{})
	return ssh.NewClient(sc, chans, reqs), nil
}

// auth returns the authentication methods: the key file, or else the keys
// of the ssh-agent at SSH_AUTH_SOCK.
func (c *conn) auth() ([]ssh.AuthMethod, func(), error) {
	if c.keyFile != "" {
		b, err := os.ReadFile(c.keyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("key file: %w", err)
		}
		signer, err := ssh.ParsePrivateKey(b)
		if err != nil {
			var pm *ssh.PassphraseMissingError
			if errors.As(err, &pm) {
				return nil, nil, fmt.Errorf("key file %s is protected by a passphrase: load it into ssh-agent and leave key_file empty", c.keyFile)
			}
			return nil, nil, fmt.Errorf("key file %s: %w", c.keyFile, err)
		}
		return []ssh.AuthMethod{ssh.PublicKeys(signer)}, func() {}, nil
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return nil, nil, errors.New("no key_file given and no ssh-agent (SSH_AUTH_SOCK is not set)")
	}
	ac, err := net.DialTimeout("unix", sock, c.timeout)
	if err != nil {
		return nil, nil, fmt.Errorf("ssh-agent at SSH_AUTH_SOCK: %w", err)
	}
	ag := agent.NewClient(ac)
	return []ssh.AuthMethod{ssh.PublicKeysCallback(ag.Signers)}, func() { ac.Close() }, nil
}

// exec runs the script in one session. A hung host makes ctx expire; the
// caller then closes the client, which ends every blocked call here.
func (c *conn) exec(ctx context.Context, client *ssh.Client, script string) ([]byte, []byte, error) {
	type result struct {
		out, errOut []byte
		err         error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.out, r.errOut, r.err = session(client, script)
		done <- r
	}()
	select {
	case r := <-done:
		return r.out, r.errOut, r.err
	case <-ctx.Done():
		client.Close() // unblocks the session goroutine
		<-done
		if c.stop.Err() != nil {
			return nil, nil, fmt.Errorf("fetch from %s: connection closed", c.addr)
		}
		return nil, nil, fmt.Errorf("fetch from %s: no answer within %s", c.addr, c.timeout)
	}
}

func session(client *ssh.Client, script string) ([]byte, []byte, error) {
	s, err := client.NewSession()
	if err != nil {
		return nil, nil, fmt.Errorf("open session: %w", err)
	}
	defer s.Close()
	var stdout bytes.Buffer
	stderr := &capped{max: 64 << 10}
	s.Stdin = strings.NewReader(script)
	s.Stderr = stderr
	out, err := s.StdoutPipe()
	if err != nil {
		return nil, nil, fmt.Errorf("session stdout: %w", err)
	}
	// sh -s reads the script from standard input whatever the login shell.
	if err := s.Start("sh -s"); err != nil {
		return nil, nil, fmt.Errorf("start remote sh: %w", err)
	}
	if _, err := stdout.ReadFrom(io.LimitReader(out, MaxOutput+1)); err != nil {
		return nil, nil, fmt.Errorf("read remote output: %w", err)
	}
	if stdout.Len() > MaxOutput {
		return nil, nil, fmt.Errorf("remote output exceeds %d MiB", MaxOutput>>20)
	}
	if err := s.Wait(); err != nil {
		var ee *ssh.ExitError
		if !errors.As(err, &ee) {
			return nil, nil, fmt.Errorf("remote sh: %w", err)
		}
		// A non-zero exit (head on a vanished file) is normal; the end
		// record tells a complete output apart.
	}
	return stdout.Bytes(), stderr.b.Bytes(), nil
}

// close drops the connection; a fetch in flight ends at once.
func (c *conn) close() error {
	c.cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		return nil
	}
	err := c.client.Close()
	c.client = nil
	return err
}

// capped keeps the first max bytes written to it.
type capped struct {
	b   bytes.Buffer
	max int
}

func (w *capped) Write(p []byte) (int, error) {
	if room := w.max - w.b.Len(); room > 0 {
		w.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
