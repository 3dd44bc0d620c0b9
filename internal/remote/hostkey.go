package remote

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// ErrHostKeyUnknown and ErrHostKeyChanged are wrapped by the errors of a
// refused host key, for errors.Is.
var (
	ErrHostKeyUnknown = errors.New("host key unknown")
	ErrHostKeyChanged = errors.New("host key changed")
)

// knownHostsMu serialises appends to known_hosts files: hosts connect in
// parallel and may share one file.
var knownHostsMu sync.Mutex

// hostKeys checks host keys against a known_hosts file. The file is read
// again at each connection, so an edit (removing a changed key) takes
// effect without a restart.
type hostKeys struct {
	path string
	tofu bool
	log  *slog.Logger
}

func (h *hostKeys) load() (ssh.HostKeyCallback, error) {
	cb, err := knownhosts.New(h.path)
	if err == nil {
		return cb, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("known_hosts %s: %w", h.path, err)
	}
	if !h.tofu {
		// Every host's key is unknown then: the same sentinel as one
		// missing from the file, so callers give the same advice.
		return nil, fmt.Errorf("%w: known_hosts %s does not exist: add the host's key (ssh-keyscan -p PORT HOST >> %s, after checking its fingerprint) or set trust_on_first_use: true", ErrHostKeyUnknown, h.path, h.path)
	}
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", h.path, err)
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", h.path, err)
	}
	f.Close()
	if cb, err = knownhosts.New(h.path); err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", h.path, err)
	}
	return cb, nil
}

// callback returns the host key check for one connection and the host key
// algorithms to ask the server for: those of the keys known for the host,
// so that a server with an RSA and an Ed25519 key is not refused as
// "changed" for offering the one we do not know.
func (h *hostKeys) callback(hostport string, remote net.Addr) (ssh.HostKeyCallback, []string, error) {
	cb, err := h.load()
	if err != nil {
		return nil, nil, err
	}
	algos := knownAlgorithms(cb, hostport, remote)
	check := func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(hostname, remote, key)
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &re):
			return fmt.Errorf("host key of %s (%s %s) is revoked in %s: refusing to connect",
				hostname, key.Type(), ssh.FingerprintSHA256(key), h.path)
		case errors.As(err, &ke) && len(ke.Want) > 0:
			w := ke.Want[0]
			return fmt.Errorf("%w: %s offered %s %s, but %s line %d has %s %s for it: refusing to connect "+
				"(someone may be intercepting the connection; if the host was really re-keyed, remove that line and add the new key)",
				ErrHostKeyChanged, hostname, key.Type(), ssh.FingerprintSHA256(key), w.Filename, w.Line,
				w.Key.Type(), ssh.FingerprintSHA256(w.Key))
		case errors.As(err, &ke):
			if !h.tofu {
				return fmt.Errorf("%w: %s offered %s %s, which is not in %s: refusing to connect "+
					"(check the fingerprint and add it with ssh-keyscan, or set trust_on_first_use: true)",
					ErrHostKeyUnknown, hostname, key.Type(), ssh.FingerprintSHA256(key), h.path)
			}
			if err := h.trust(hostname, key); err != nil {
				return err
			}
			h.log.Warn("trusting a host key on first use", "host", hostname, "key", key.Type(),
				"fingerprint", ssh.FingerprintSHA256(key), "known_hosts", h.path)
			return nil
		}
		return fmt.Errorf("check host key of %s: %w", hostname, err)
	}
	return check, algos, nil
}

// trust appends a first-seen key. A key of another type for a host we know
// never gets here: that is a mismatch, refused above.
func (h *hostKeys) trust(hostname string, key ssh.PublicKey) error {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	f, err := os.OpenFile(h.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("trust host key of %s: %w", hostname, err)
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return fmt.Errorf("trust host key of %s: write %s: %w", hostname, h.path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("trust host key of %s: write %s: %w", hostname, h.path, err)
	}
	return nil
}

// probeKey matches no known host: checking it lists the keys known for a
// host (the KeyError's Want).
var probeKey = func() ssh.PublicKey {
	// A fixed, never-used Ed25519 public key.
	k, err := ssh.ParsePublicKey(append([]byte{0, 0, 0, 11}, append([]byte("ssh-ed25519"), append([]byte{0, 0, 0, 32}, make([]byte, 32)...)...)...))
	if err != nil {
		panic(err)
	}
	return k
}()

func knownAlgorithms(cb ssh.HostKeyCallback, hostport string, remote net.Addr) []string {
	var ke *knownhosts.KeyError
	if err := cb(hostport, remote, probeKey); !errors.As(err, &ke) {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}
