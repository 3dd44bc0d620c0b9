package server

import (
	"errors"
	"fmt"
	"strings"
)

// Limits on request paths. No cgroup path comes near them: the kernel caps
// a name at 255 bytes, and real hierarchies are a few levels deep.
const (
	MaxPathBytes    = 4096
	MaxPathSegments = 256
)

// errBadPath marks a request path that is refused with 400.
var errBadPath = errors.New("bad path")

func badPath(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errBadPath}, args...)...)
}

// checkPath checks a request path as the client sent it (percent-encoded,
// as url.URL.EscapedPath returns it) and returns it decoded, without a
// trailing slash ("/" stays "/"; "" means "/"). It refuses, with an error
// wrapping errBadPath:
//
//   - a path longer than MaxPathBytes or with more than MaxPathSegments
//     segments;
//   - an empty segment ("//"), and "." and ".." segments;
//   - percent-encoded '/', '.', '%' (double encoding), NUL and other control
//     characters: they have no business in a cgroup name, and decoding
//     them after routing is how traversals slip past a check;
//   - bad percent-encoding;
//   - a backslash, except in systemd's escapes "\xNN", which are part of
//     real cgroup names ("system-serial\x2dgetty.slice").
//
// The API never opens a file by a request path (cgroups are looked up in
// the latest snapshot), so this is defence in depth and a clear 400 rather
// than a 404 for a path no cgroup can have.
func checkPath(escaped string) (string, error) {
	if len(escaped) > MaxPathBytes {
		return "", badPath("path is %d bytes long, the limit is %d", len(escaped), MaxPathBytes)
	}
	if escaped == "" || escaped == "/" {
		return "/", nil
	}
	if escaped[0] != '/' {
		return "", badPath("path must start with '/'")
	}
	rest := strings.TrimSuffix(escaped[1:], "/")
	if n := strings.Count(rest, "/") + 1; n > MaxPathSegments {
		return "", badPath("path has %d segments, the limit is %d", n, MaxPathSegments)
	}
	var b strings.Builder
	b.Grow(len(escaped))
	for seg := range strings.SplitSeq(rest, "/") {
		if seg == "" {
			return "", badPath("empty path segment ('//')")
		}
		b.WriteByte('/')
		start := b.Len()
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c == '%' {
				if i+2 >= len(seg) || !isHex(seg[i+1]) || !isHex(seg[i+2]) {
					return "", badPath("bad percent-encoding in %q", seg)
				}
				c = unhex(seg[i+1])<<4 | unhex(seg[i+2])
				switch {
				case c == '/' || c == '.' || c == '%':
					return "", badPath("percent-encoded %q is not allowed", c)
				case c < 0x20 || c == 0x7f:
					return "", badPath("percent-encoded control character 0x%02x is not allowed", c)
				}
				i += 2
			} else if c < 0x20 || c == 0x7f {
				return "", badPath("control character 0x%02x is not allowed", c)
			}
			b.WriteByte(c)
		}
		if err := checkSegment(b.String()[start:]); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

// checkDecodedPath applies checkPath's rules to a path that is decoded
// already (a query value): "/" or "/a/b", without a trailing slash.
func checkDecodedPath(p string) error {
	if len(p) > MaxPathBytes {
		return badPath("path is %d bytes long, the limit is %d", len(p), MaxPathBytes)
	}
	if p == "/" {
		return nil
	}
	if n := strings.Count(p, "/"); n > MaxPathSegments {
		return badPath("path has %d segments, the limit is %d", n, MaxPathSegments)
	}
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "" {
			return badPath("empty path segment ('//')")
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; c < 0x20 || c == 0x7f {
				return badPath("control character 0x%02x is not allowed", c)
			}
		}
		if err := checkSegment(seg); err != nil {
			return err
		}
	}
	return nil
}

// checkSegment checks one decoded path segment.
func checkSegment(s string) error {
	if s == "." || s == ".." {
		return badPath("path segment %q is not allowed", s)
	}
	return checkBackslashes(s)
}

// checkBackslashes allows a backslash only as systemd escapes bytes in unit
// names: "\x" and two hex digits.
func checkBackslashes(seg string) error {
	for i := strings.IndexByte(seg, '\\'); i >= 0; {
		if i+3 >= len(seg) || seg[i+1] != 'x' || !isHex(seg[i+2]) || !isHex(seg[i+3]) {
			return badPath(`a backslash is only allowed in systemd escapes like \x2d`)
		}
		j := strings.IndexByte(seg[i+4:], '\\')
		if j < 0 {
			break
		}
		i += 4 + j
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
