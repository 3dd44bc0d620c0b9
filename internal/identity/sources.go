package identity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/rootfs"
)

// missing reports whether err means there is no such file: not a failure for
// a name source, which most containers are not in.
func missing(err error) bool {
	return rootfs.IsGone(err) || errors.Is(err, unix.ENOTDIR)
}

// lookupProxmox reads /etc/pve/lxc/VMID.conf, the Proxmox VE container
// configuration (pct.conf(5)). Without one, or without a hostname in it, the
// name is the ID: a plain LXC container named by a number.
func (r *Resolver) lookupProxmox(vmid string) string {
	r.read(srcProxmox)
	name := "/etc/pve/lxc/" + vmid + ".conf"
	b, err := r.root.ReadFile(name)
	if err != nil {
		if !missing(err) {
			r.fail(srcProxmox, err)
		}
		return vmid
	}
	if h := parsePVEHostname(b); h != "" {
		return h
	}
	return vmid
}

// parsePVEHostname returns the value of the "hostname:" line of the current
// configuration in a Proxmox container config; the sections that follow
// ("[snapshot]", "[pending]") describe other states.
func parsePVEHostname(b []byte) string {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte{'\n'})
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] == '[' {
			break
		}
		if v, ok := bytes.CutPrefix(line, []byte("hostname:")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// storageRoots are containers/storage graph roots: rootful Podman's and
// CRI-O's, then rootless Podman's under each home.
func (r *Resolver) storageRoots() []string {
	roots := []string{"/var/lib/containers/storage", "/root/.local/share/containers/storage"}
	homes, err := r.root.ReadDir("/home")
	if err != nil && !missing(err) {
		r.fail(srcStorage, err)
	}
	for _, h := range homes {
		if h.IsDir() || h.Type()&fs.ModeSymlink != 0 {
			roots = append(roots, "/home/"+h.Name()+"/.local/share/containers/storage")
		}
	}
	return roots
}

// loadStorage reads every containers.json that containers/storage keeps, one
// per graph driver (DRIVER-containers/containers.json, usually
// overlay-containers), and returns the first name of each container by ID.
func (r *Resolver) loadStorage() map[string]string {
	r.read(srcStorage)
	names := make(map[string]string)
	for _, root := range r.storageRoots() {
		drivers, err := r.root.ReadDir(root)
		if err != nil {
			if !missing(err) {
				r.fail(srcStorage, err)
			}
			continue
		}
		for _, d := range drivers {
			if !strings.HasSuffix(d.Name(), "-containers") {
				continue
			}
			file := root + "/" + d.Name() + "/containers.json"
			b, err := r.root.ReadFile(file)
			if err != nil {
				if !missing(err) {
					r.fail(srcStorage, err)
				}
				continue
			}
			if err := parseStorageContainers(b, names); err != nil {
				r.fail(srcStorage, fmt.Errorf("%s: %w", file, err))
			}
		}
	}
	return names
}

// storageContainer is the part of a containers/storage Container record
// (containers.json) that names it.
type storageContainer struct {
	ID    string   `json:"id"`
	Names []string `json:"names"`
}

// parseStorageContainers adds the containers listed in a containers.json to
// names, ID to first name.
func parseStorageContainers(b []byte, names map[string]string) error {
	var list []storageContainer
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	for _, c := range list {
		if c.ID != "" && len(c.Names) > 0 {
			names[c.ID] = c.Names[0]
		}
	}
	return nil
}

// lookupDocker reads DockerRoot/containers/ID/config.v2.json, which
// dockerd writes for every container, and asks the Docker API when that file
// cannot be read and the Root is the live host.
func (r *Resolver) lookupDocker(ctx context.Context, id string) string {
	r.read(srcDockerConfig)
	file := r.opts.DockerRoot + "/containers/" + id + "/config.v2.json"
	b, err := r.root.ReadFile(file)
	if err == nil {
		name, perr := parseDockerName(b)
		if perr == nil {
			return name
		}
		err = fmt.Errorf("%s: %w", file, perr)
	}
	if !missing(err) {
		r.fail(srcDockerConfig, err)
	}
	if r.docker == nil {
		return ""
	}
	r.read(srcDockerAPI)
	name, err := r.dockerInspect(ctx, id)
	if err != nil {
		r.fail(srcDockerAPI, err)
	}
	return name
}

// parseDockerName returns the container name from a config.v2.json or a
// GET /containers/ID/json answer: field "Name", without its leading "/".
func parseDockerName(b []byte) (string, error) {
	var c struct {
		Name string `json:"Name"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return "", err
	}
	return strings.TrimPrefix(c.Name, "/"), nil
}

// maxInspect caps a Docker API answer; an inspect is a few kilobytes.
const maxInspect = 4 << 20

func newDockerClient(socket string, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			},
			MaxIdleConns:    1,
			IdleConnTimeout: 30 * time.Second,
		},
	}
}

// dockerInspect asks the Docker Engine API for a container: GET
// /containers/ID/json. No socket (Docker not running) and 404 (no such
// container) are answers, not failures.
func (r *Resolver) dockerInspect(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker/containers/"+id+"/json", nil)
	if err != nil {
		return "", err
	}
	resp, err := r.docker.Do(req)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("docker api %s: %w", r.opts.DockerSocket, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return "", nil
	default:
		return "", fmt.Errorf("docker api %s: GET /containers/%s/json: %s", r.opts.DockerSocket, id, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxInspect))
	if err != nil {
		return "", fmt.Errorf("docker api %s: %w", r.opts.DockerSocket, err)
	}
	name, err := parseDockerName(b)
	if err != nil {
		return "", fmt.Errorf("docker api %s: GET /containers/%s/json: %w", r.opts.DockerSocket, id, err)
	}
	return name, nil
}
