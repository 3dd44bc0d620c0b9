package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

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
