package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// ErrListenAddress marks a listen address refused before listening: not
// host:port, or not a loopback address while the listener is not guarded
// (see Access). It is the user's input, not the host's.
var ErrListenAddress = errors.New("bad listen address")

// ErrNotLoopback is wrapped (with ErrListenAddress) when a non-loopback
// address is refused; the message says what the listener lacks.
var ErrNotLoopback = errors.New("not a loopback address")

// Access is what guards a listener: TLS and authentication from the web
// configuration file, or the explicit opt-in to serve without them.
type Access struct {
	// Public allows a non-loopback address without TLS and
	// authentication (listen_public): the container image, which listens
	// on 0.0.0.0 in a network namespace of its own.
	Public bool
	// TLS: the web configuration file has a certificate and key.
	TLS bool
	// Auth: it has basic_auth_users, or verified client certificates.
	Auth bool
}

// Guarded reports whether the listener has both TLS and authentication,
// which is what a non-loopback address needs unless Public.
func (a Access) Guarded() bool { return a.TLS && a.Auth }

// Lacks says what an unguarded listener lacks, for the error that refuses
// it and the warning that serves it anyway; "" when Guarded.
func (a Access) Lacks() string {
	switch {
	case a.Guarded():
		return ""
	case a.TLS:
		return "the web config has TLS but no basic_auth_users: anyone who can reach the port can read every cgroup"
	case a.Auth:
		return "the web config has basic_auth_users but no tls_server_config: the passwords and the data would cross the network in clear"
	default:
		return "the API has no TLS and no authentication: anyone who can reach the port can read every cgroup"
	}
}

// Listen checks addr ("127.0.0.1:8801", "[::1]:8801", "localhost:8801";
// port 0 picks a free port) as CheckAddr does and listens on it.
func Listen(addr string, acc Access) (net.Listener, error) {
	if err := CheckAddr(addr, acc); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if oe, ok := err.(*net.OpError); ok {
			err = oe.Err // "bind: address already in use", without repeating the address
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// CheckAddr checks a listen address without listening. A loopback address
// is always allowed; any other, an empty host (every interface) included,
// needs TLS and authentication, or acc.Public.
func CheckAddr(addr string, acc Access) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrListenAddress, addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%w %q: port %q: want a number from 0 to 65535", ErrListenAddress, addr, port)
	}
	if acc.Public || acc.Guarded() || IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("%w %s: %w, and %s", ErrListenAddress, addr, ErrNotLoopback, acc.Lacks())
}

// IsLoopback reports whether a listen host is loopback only: "localhost" or
// a loopback IP. An empty host (every interface) and other names are not.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// IsLoopbackAddr reports whether a listener's address is loopback.
func IsLoopbackAddr(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
