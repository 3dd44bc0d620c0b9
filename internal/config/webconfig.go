package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.yaml.in/yaml/v2"
)

// WebConfig is what cgmon needs to know of a web configuration file, the
// exporter-toolkit's (node_exporter's --web.config.file): whether it
// guards the API. The file itself is served by the toolkit, which reads it
// again on every connection and request.
type WebConfig struct {
	// TLS: tls_server_config has a certificate and its key.
	TLS bool
	// Auth: basic_auth_users has a user, or client certificates are
	// required and verified (client_auth_type RequireAndVerifyClientCert).
	Auth bool
}

// ReadWebConfig checks the web configuration file at path as the toolkit
// does before serving (web.Validate: the YAML, each bcrypt hash, the
// certificate and key) and says what it guards. Its errors carry the path
// and never a value of the file: the file holds password hashes and may
// hold a key.
func ReadWebConfig(path string) (WebConfig, error) {
	if err := web.Validate(path); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == path {
			return WebConfig{}, err // "open PATH: no such file or directory"
		}
		return WebConfig{}, fmt.Errorf("%s: %s", path, redactYAML(err.Error()))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return WebConfig{}, err
	}
	var c web.Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		// web.Validate has read the same file: it changed since.
		return WebConfig{}, fmt.Errorf("%s: %s", path, redactYAML(err.Error()))
	}
	t := c.TLSConfig
	return WebConfig{
		TLS:  t.TLSCertPath != "" || t.TLSCert != "", // web.Validate has checked the key is there too
		Auth: len(c.Users) > 0 || t.ClientAuth == "RequireAndVerifyClientCert",
	}, nil
}

// redactYAML blanks what the YAML decoder quotes between backquotes in a
// message ("cannot unmarshal !!str `hunter2` into map…"): the first
// characters of a value, which in this file may be a password put where a
// hash belongs.
func redactYAML(msg string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(msg, '`')
		if i < 0 {
			break
		}
		j := strings.IndexByte(msg[i+1:], '`')
		if j < 0 {
			break
		}
		b.WriteString(msg[:i])
		b.WriteString("`…`")
		msg = msg[i+1+j+1:]
	}
	b.WriteString(msg)
	return b.String()
}

// WebConfigGuard returns a check, for every request, that the web
// configuration file at path still has TLS and authentication: the toolkit
// reads the file again on every request, so without it a public listener
// whose basic_auth_users were removed would serve everyone until the next
// SIGHUP. The file is read again only when its size, modification time or
// inode change (a stat a request); while it is bad or no longer guards
// the API the check fails, and the API refuses to serve (fails closed).
func WebConfigGuard(path string) func() error {
	g := &webGuard{path: path}
	return g.check
}

type webGuard struct {
	path string
	mu   sync.Mutex
	seen fileStamp
	err  error
}

type fileStamp struct {
	size, ino int64
	mtime     time.Time
}

func (g *webGuard) check() error {
	st, err := os.Stat(g.path)
	if err != nil {
		return fmt.Errorf("web_config_file: %w", err)
	}
	stamp := fileStamp{size: st.Size(), mtime: st.ModTime()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		stamp.ino = int64(sys.Ino)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if stamp == g.seen && g.seen != (fileStamp{}) {
		return g.err
	}
	g.seen = stamp
	wc, err := ReadWebConfig(g.path)
	switch {
	case err != nil:
		g.err = fmt.Errorf("web_config_file: %w", err)
	case !wc.TLS || !wc.Auth:
		g.err = fmt.Errorf("web_config_file: %s no longer has both TLS and authentication, which a public listen address needs", g.path)
	default:
		g.err = nil
	}
	return g.err
}
