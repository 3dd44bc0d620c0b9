// Package sshdtest starts a real OpenSSH server for tests: on 127.0.0.1
// and a free port, with a generated host key, client key, configuration
// and known_hosts in the test's temporary directory.
package sshdtest

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/cgmon/cgmon/internal/testsvc"
)

// SSHD is a real OpenSSH server on 127.0.0.1, started for one test with its
// own host key, configuration and authorized client key in t.TempDir().
type SSHD struct {
	Proc       *testsvc.Process
	Addr       string // root@127.0.0.1:port
	HostPort   string
	Dir        string
	HostKey    ssh.PublicKey // Ed25519, the one in KnownHosts
	RSAHostKey ssh.PublicKey // a second host key the server also offers
	ClientKey  string        // private key file
	ClientPub  ssh.PublicKey
	KnownHosts string // known_hosts with the host key
}

// WriteKey writes a new Ed25519 private key in OpenSSH format and returns
// its public half.
func WriteKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return writeKey(t, file, priv)
}

// writeRSAKey writes a new 2048-bit RSA private key and returns its public
// half.
func writeRSAKey(t testing.TB, file string) ssh.PublicKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return writeKey(t, file, priv)
}

func writeKey(t testing.TB, file string, priv crypto.Signer) ssh.PublicKey {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "cgmon-test")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	pub, err := ssh.NewPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// Start runs sshd until the test ends; it skips (or fails under
// CGMON_TEST_REQUIRE=1) without root or without openssh-server.
func Start(t testing.TB) *SSHD {
	t.Helper()
	testsvc.RequireRoot(t)
	bin := testsvc.LookPath(t, "sshd", "openssh-server")
	// The privilege separation directory; Debian's init script makes it.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := &SSHD{Dir: dir}
	s.HostKey = WriteKey(t, filepath.Join(dir, "host_ed25519"))
	s.RSAHostKey = writeRSAKey(t, filepath.Join(dir, "host_rsa"))
	s.ClientKey = filepath.Join(dir, "client_ed25519")
	s.ClientPub = WriteKey(t, s.ClientKey)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(s.ClientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	port := testsvc.FreePort(t)
	s.HostPort = "127.0.0.1:" + strconv.Itoa(port)
	s.Addr = "root@" + s.HostPort
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_ed25519
HostKey %s/host_rsa
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
MaxStartups 100
LogLevel VERBOSE
`, port, dir, dir, dir, dir)
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// -t checks the configuration first, for a clear failure.
	testsvc.Run(t, 10*time.Second, bin, "-t", "-f", conf)
	s.Proc = testsvc.Start(t, "sshd", bin, "-D", "-e", "-f", conf)
	s.Proc.WaitFor(t, 10*time.Second, testsvc.TCPReady(s.HostPort))
	s.KnownHosts = filepath.Join(dir, "known_hosts")
	s.WriteKnownHosts(t, s.KnownHosts, s.HostKey)
	return s
}

// WriteKnownHosts writes a known_hosts file that has key for the server.
func (s *SSHD) WriteKnownHosts(t testing.TB, file string, key ssh.PublicKey) {
	t.Helper()
	line := knownhosts.Line([]string{knownhosts.Normalize(s.HostPort)}, key) + "\n"
	if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
}

// SignalAll sends sig to sshd's process group and to every process below
// it: sshd puts each connection in a session of its own (setsid), so the
// group alone is only the listener.
func (s *SSHD) SignalAll(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := s.Proc.Signal(sig); err != nil {
		t.Fatal(err)
	}
	// Twice: a connection may have forked while the first pass ran.
	for range 2 {
		for _, pid := range Descendants(s.Proc.Cmd.Process.Pid) {
			_ = syscall.Kill(pid, sig)
		}
	}
}

// Descendants lists the processes below pid, from /proc.
func Descendants(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
