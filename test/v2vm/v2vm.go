// Package v2vm runs Go tests inside a throw-away cgroup v2 VM: Debian's stock
// kernel booted by qemu (-M pc, TCG, ~10 s) with a busybox initramfs whose
// /init (the file "init" beside this one) mounts cgroup2 at /sys/fs/cgroup
// with +cpu +memory +io +pids enabled at the root, and provides /proc, /sys,
// /dev, /dev/shm, /tmp and a 64 MiB virtio disk /dev/vda for direct I/O.
//
// Host side:
//
//	func TestInV2VM(t *testing.T) { v2vm.RunGuestTests(t, "./guesttest") }
//
// Guest side (the package given to RunGuestTests): every test calls
// SkipIfNotGuest(t) first, so that a plain `go test ./...` on the host skips it.
//
// The kernel and initramfs are built by build.sh into CacheDir()
// (${CGMON_V2VM_DIR:-/var/cache/cgmon/v2vm}); RunGuestTests builds what is
// missing or out of date (see Manifest). Set CGMON_V2VM_REQUIRE=1 to turn
// "qemu/image missing" skips into failures (CI).
//
// The image carries the host's systemd-cgtop with its shared libraries (on
// PATH in the guest), so that guest tests compare with it as host tests do.
package v2vm

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// GuestEnv is set to "1" in the environment of test binaries run in the VM.
const GuestEnv = "V2VM_GUEST"

//go:embed init
var initScript []byte

//go:embed build.sh
var buildScript []byte

const qemuBin = "qemu-system-x86_64"

// imageVersion is build.sh's IMAGE_VERSION: an image whose manifest says
// otherwise is rebuilt (version 2 added systemd-cgtop and the manifest).
const imageVersion = "2"

// guestManifest is where the image keeps its manifest; build.sh copies it
// to CacheDir()/base.manifest.
const guestManifest = "/etc/v2vm-image"

// CacheDir is where build.sh puts the kernel and the initramfs.
func CacheDir() string {
	if d := os.Getenv("CGMON_V2VM_DIR"); d != "" {
		return d
	}
	return "/var/cache/cgmon/v2vm"
}

// IsGuest reports whether this process runs inside the v2vm VM.
func IsGuest() bool { return os.Getenv(GuestEnv) == "1" }

// SkipIfNotGuest skips t unless it runs inside the v2vm VM.
func SkipIfNotGuest(t testing.TB) {
	t.Helper()
	if !IsGuest() {
		t.Skip("runs only inside the cgroup v2 VM (" + GuestEnv + "=1); the host test drives it via v2vm.RunGuestTests")
	}
}

func kernelPath() string {
	for _, k := range []string{"vmlinux", "vmlinuz"} {
		if p := filepath.Join(CacheDir(), k); isFile(p) {
			return p
		}
	}
	return ""
}

func imageBuilt() bool {
	return kernelPath() != "" && isFile(filepath.Join(CacheDir(), "base.cpio.gz"))
}

// Manifest returns what the image holds (build.sh's key=value lines):
// "version", "inputs", "systemd-cgtop" (its path in the image, "" when the
// host that built it had none) and "systemd-cgtop-version". In the guest it
// reads the booted image's /etc/v2vm-image, on the host the copy in CacheDir().
func Manifest() (map[string]string, error) {
	p := filepath.Join(CacheDir(), "base.manifest")
	if IsGuest() {
		p = guestManifest
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("v2vm: image manifest: %w", err)
	}
	return parseManifest(b), nil
}

func parseManifest(b []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// staleImage says why the image in CacheDir() must be (re)built, or "" if it
// need not. A build.sh of another checkout may have rebuilt base.cpio.gz with
// other contents: base.inputs then no longer matches the manifest.
func staleImage() string {
	if !imageBuilt() {
		return "no image"
	}
	m, err := Manifest()
	if err != nil {
		return err.Error()
	}
	if m["version"] != imageVersion {
		return fmt.Sprintf("image version %q, want %q", m["version"], imageVersion)
	}
	inputs, _ := os.ReadFile(filepath.Join(CacheDir(), "base.inputs"))
	if strings.TrimSpace(string(inputs)) != m["inputs"] {
		return "base.inputs does not match base.manifest (base.cpio.gz was rebuilt by another build.sh)"
	}
	if _, err := exec.LookPath("systemd-cgtop"); err == nil && m["systemd-cgtop"] == "" {
		return "the host has systemd-cgtop, the image has none"
	}
	return ""
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// Available returns nil when qemu-system-x86_64 is installed and the VM image
// exists in CacheDir() or can be built there, else an error naming what is missing.
func Available() error {
	var missing []string
	if _, err := exec.LookPath(qemuBin); err != nil {
		missing = append(missing, qemuBin)
	}
	if staleImage() != "" {
		tools := []string{"bash", "busybox", "cpio", "gzip", "xz", "flock", "apt-get", "dpkg-deb"}
		if _, err := exec.LookPath("systemd-cgtop"); err == nil {
			tools = append(tools, "ldd")
		}
		for _, tool := range tools {
			if _, err := exec.LookPath(tool); err != nil {
				missing = append(missing, tool+" (to build the image in "+CacheDir()+")")
			}
		}
		if err := os.MkdirAll(CacheDir(), 0o755); err != nil {
			missing = append(missing, "a writable "+CacheDir()+" (set CGMON_V2VM_DIR)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("v2vm: missing %s; run test/v2vm/build.sh --install-deps", strings.Join(missing, ", "))
	}
	return nil
}

// ensureImage runs the embedded build.sh when the image is missing or stale.
// build.sh takes a lock, so parallel test packages build once.
func ensureImage() error {
	why := staleImage()
	if why == "" {
		return nil
	}
	tmp, err := os.MkdirTemp("", "v2vm-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "build.sh"), buildScript, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, "init"), initScript, 0o755); err != nil {
		return err
	}
	cmd := exec.Command("bash", filepath.Join(tmp, "build.sh"))
	cmd.Env = append(os.Environ(), "CGMON_V2VM_DIR="+CacheDir(), "V2VM_INIT="+filepath.Join(tmp, "init"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build.sh (%s): %v\n%s", why, err, out)
	}
	if why := staleImage(); why != "" {
		return errors.New("build.sh succeeded but the image in " + CacheDir() + " is still not usable: " + why)
	}
	return nil
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CGMON_V2VM_REQUIRE") == "1" {
		t.Fatal(err)
	}
	t.Skip(err)
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// ansi matches the terminal escapes SeaBIOS prints on the serial console.
var ansi = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z]|c)`)

// RunGuestTests compiles the tests of the package in pkgDir (a directory,
// relative to the current one, or an import path) with
// `CGO_ENABLED=0 go test -c`, boots the VM with the binary (and the package's
// testdata/, if any) and runs it there as `pkg.test -test.v -test.count=1 args...`
// from /tests/<pkg>, with V2VM_GUEST=1 and no demo workload (the cgroup tree
// is clean); args get a -test.timeout below the VM's limit unless they hold
// one. It fails t if the guest test failed or the VM did not finish, and skips
// t under -short or when qemu or the image are missing. It returns the VM's
// serial console output.
func RunGuestTests(t testing.TB, pkgDir string, args ...string) (consoleLog string) {
	t.Helper()
	if testing.Short() {
		t.Skip("v2vm: boots a qemu VM (~10 s); skipped with -short")
	}
	if err := Available(); err != nil {
		unavailable(t, err)
	}
	if err := ensureImage(); err != nil {
		unavailable(t, fmt.Errorf("v2vm: building the VM image failed: %w", err))
	}
	tmp := t.TempDir()

	// 1. static test binary
	dir, pkg := "", pkgDir
	if st, err := os.Stat(pkgDir); err == nil && st.IsDir() {
		dir, pkg = pkgDir, "."
	}
	abs, _ := filepath.Abs(pkgDir)
	name := unsafeName.ReplaceAllString(filepath.Base(abs), "_")
	if dir == "" {
		name = unsafeName.ReplaceAllString(filepath.Base(pkgDir), "_")
	}
	bin := filepath.Join(tmp, name+".test")
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("v2vm: go command not found: %v", err)
	}
	build := exec.Command(gobin, "test", "-c", "-o", bin, pkg)
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("v2vm: go test -c %s: %v\n%s", pkgDir, err, out)
	}
	if !isFile(bin) {
		t.Fatalf("v2vm: go test -c %s produced no binary (no test files?)", pkgDir)
	}

	// The VM's time limit. The guest test gets a -test.timeout 20 s shorter
	// (unless args set one), so that a test hung in the guest panics with
	// every goroutine's stack on the console before qemu is killed.
	timeout := 5 * time.Minute
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			if left := time.Until(dl) - 15*time.Second; left < timeout {
				timeout = max(left, 10*time.Second)
			}
		}
	}
	if !slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "-test.timeout=") || strings.HasPrefix(a, "-timeout=")
	}) {
		args = append(slices.Clip(args), "-test.timeout="+max(timeout-20*time.Second, 5*time.Second).String())
	}

	// 2. initrd = base.cpio.gz + gzip(cpio: current init, tests/<name>/...)
	var ov cpioWriter
	ov.file("init", 0o755, initScript)
	binData, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ov.dir("tests")
	ov.dir("tests/" + name)
	ov.file("tests/"+name+"/"+name+".test", 0o755, binData)
	if len(args) > 0 {
		ov.file("tests/"+name+"/args", 0o644, []byte(strings.Join(args, "\n")+"\n"))
	}
	if td := filepath.Join(dir, "testdata"); dir != "" && isDir(td) {
		if err := ov.tree(td, "tests/"+name+"/testdata"); err != nil {
			t.Fatalf("v2vm: packing %s: %v", td, err)
		}
	}
	if ov.size > 256<<20 {
		t.Fatalf("v2vm: %d MiB of tests and testdata do not fit in the VM's RAM", ov.size>>20)
	}
	base, err := os.ReadFile(filepath.Join(CacheDir(), "base.cpio.gz"))
	if err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(tmp, "initrd.img")
	f, err := os.Create(initrd)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(base)
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	ov.finish(zw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(tmp, "scratch.img")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 64<<20); err != nil {
		t.Fatal(err)
	}

	// 3. boot
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemuBin, "-M", "pc", "-accel", "tcg,thread=multi", "-cpu", "max",
		"-smp", "2", "-m", "512", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
		"-kernel", kernelPath(), "-initrd", initrd,
		"-drive", "file="+disk+",if=virtio,format=raw",
		"-append", "console=ttyS0 quiet panic=-1 v2vm.workload=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("v2vm: booting with %s %q", name+".test", args)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatalf("v2vm: starting qemu: %v", err)
	}

	// 4. follow the console
	endRE := regexp.MustCompile(`^V2VM-GOTEST-END (\S+) rc=(\d+)`)
	var console strings.Builder
	rc, done := map[string]string{}, false
	r := bufio.NewReader(stdout)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			line = ansi.ReplaceAllString(strings.TrimRight(line, "\r\n"), "")
			console.WriteString(line + "\n")
			t.Log("guest: " + line)
			if m := endRE.FindStringSubmatch(line); m != nil {
				rc[m[1]] = m[2]
			} else if strings.HasPrefix(line, "V2VM-DONE") {
				done = true
			}
		}
		if err != nil {
			break
		}
	}
	werr := cmd.Wait()
	t.Logf("v2vm: VM ran %v (kernel %s)", time.Since(start).Round(time.Millisecond), filepath.Base(kernelPath()))
	consoleLog = console.String()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("v2vm: VM timed out after %v", timeout)
	case !done:
		t.Fatalf("v2vm: VM did not finish (qemu: %v) %s", werr, stderr.String())
	case rc[name] == "":
		t.Fatalf("v2vm: guest test %s never reported a result", name)
	case rc[name] != "0":
		t.Errorf("v2vm: guest test %s failed (rc=%s); see the guest: lines above", name, rc[name])
	}
	return consoleLog
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// cpioWriter buffers a "newc" cpio archive (what the kernel's initramfs unpacker reads).
type cpioWriter struct {
	buf  bytes.Buffer
	ino  int
	size int
}

func (c *cpioWriter) hdr(name string, mode, size int) {
	c.ino++
	fmt.Fprintf(&c.buf, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name)+1, 0)
	c.buf.WriteString(name + "\x00")
	c.pad(110 + len(name) + 1)
}

func (c *cpioWriter) pad(n int) { c.buf.Write(make([]byte, (4-n%4)%4)) }

func (c *cpioWriter) dir(name string) { c.hdr(name, 0o40755, 0) }

func (c *cpioWriter) file(name string, perm int, data []byte) {
	c.hdr(name, 0o100000|perm, len(data))
	c.buf.Write(data)
	c.pad(len(data))
	c.size += len(data)
}

func (c *cpioWriter) symlink(name, target string) {
	c.hdr(name, 0o120777, len(target))
	c.buf.WriteString(target)
	c.pad(len(target))
}

// tree adds the directory src (recursively) as dst.
func (c *cpioWriter) tree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		name := filepath.ToSlash(filepath.Join(dst, rel))
		switch {
		case d.IsDir():
			c.dir(name)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			c.symlink(name, target)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			perm := 0o644
			if info, err := d.Info(); err == nil && info.Mode()&0o111 != 0 {
				perm = 0o755
			}
			c.file(name, perm, data)
		}
		return nil
	})
}

func (c *cpioWriter) finish(w io.Writer) {
	c.hdr("TRAILER!!!", 0, 0)
	w.Write(c.buf.Bytes())
}
