package remote

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
	"strings"
)

// Address is a parsed "user@host:port".
type Address struct {
	User string
	Host string
	Port int
}

// ParseAddress reads "user@host:port"; the port defaults to 22 and the user
// to the user cgmon runs as. An IPv6 host is written in brackets
// ("root@[::1]:22").
func ParseAddress(s string) (Address, error) {
	var a Address
	rest := s
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		a.User, rest = rest[:i], rest[i+1:]
		if a.User == "" {
			return a, fmt.Errorf("address %q: empty user", s)
		}
	}
	host, port, err := net.SplitHostPort(rest)
	if err != nil {
		// No port: the whole rest is the host ("db1", "[::1]").
		host, port = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]"), "22"
		if strings.Contains(host, ":") && !strings.HasPrefix(rest, "[") {
			return a, fmt.Errorf("address %q: write an IPv6 host in brackets, [::1]:22", s)
		}
	}
	if host == "" || strings.ContainsAny(host, " /@\x00") {
		return a, fmt.Errorf("address %q: bad host %q", s, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return a, fmt.Errorf("address %q: bad port %q", s, port)
	}
	a.Host, a.Port = host, p
	if a.User == "" {
		if u, err := user.Current(); err == nil {
			a.User = u.Username
		} else {
			return a, fmt.Errorf("address %q: no user given and the current user is unknown: %w", s, err)
		}
	}
	return a, nil
}

// HostPort is "host:port" for dialing.
func (a Address) HostPort() string { return net.JoinHostPort(a.Host, strconv.Itoa(a.Port)) }

// String is "user@host:port".
func (a Address) String() string { return a.User + "@" + a.HostPort() }
