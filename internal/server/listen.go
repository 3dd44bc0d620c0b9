package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
)

// ErrListenAddress marks a listen address refused before listening: not
// host:port, or not a loopback address while public is false. It is the
// user's input, not the host's.
var ErrListenAddress = errors.New("bad listen address")

// ErrNotLoopback is wrapped (with ErrListenAddress) when a non-loopback
// address is refused.
var ErrNotLoopback = errors.New("not a loopback address, and the API has no authentication or TLS yet (they come with a later issue)")

// Listen checks addr ("127.0.0.1:8801", "[::1]:8801", "localhost:8801";
// port 0 picks a free port) and listens on it. Unless public is true it
// refuses any address that is not loopback, an empty host (every interface)
// included: the API has no authentication yet.
func Listen(addr string, public bool) (net.Listener, error) {
	if err := CheckAddr(addr, public); err != nil {
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

// CheckAddr checks a listen address as Listen does, without listening.
func CheckAddr(addr string, public bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w %q: %w", ErrListenAddress, addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%w %q: port %q: want a number from 0 to 65535", ErrListenAddress, addr, port)
	}
	if public || IsLoopback(host) {
		return nil
	}
	return fmt.Errorf("%w %s: %w", ErrListenAddress, addr, ErrNotLoopback)
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
