package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/testcg"
	"github.com/cgmon/cgmon/internal/testsvc/podmantest"
)

// dockerfileParts returns the Dockerfile's final stage, with its COPY from
// the build stage turned into a COPY of a binary in the build context, and
// the words of the `docker run` line its header documents. The build stage
// is left out because it pulls golang from a registry this machine cannot
// reach; the binary is built here as that stage builds it (buildCgmon).
func dockerfileParts(t *testing.T) (final string, runLine []string) {
	t.Helper()
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.LastIndex(text, "\nFROM ")
	if i < 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	final = text[i+1:]
	if first := strings.SplitN(final, "\n", 2)[0]; first != "FROM scratch" && !strings.Contains(first, "distroless") {
		t.Errorf("Dockerfile: the final stage is %q, want FROM scratch or a distroless image", first)
	}
	const copyLine = "COPY --from=build /out/cgmon /cgmon"
	if !strings.Contains(final, copyLine) {
		t.Fatalf("Dockerfile: no %q in the final stage:\n%s", copyLine, final)
	}
	final = strings.Replace(final, copyLine, "COPY cgmon /cgmon", 1)

	// The run line: "#   docker run …", continued by lines ending in "\".
	var line string
	in := false
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(l, "#"))
		if strings.HasPrefix(l, "docker run ") {
			in = true
		}
		if !in {
			continue
		}
		cont := strings.HasSuffix(l, `\`)
		line += " " + strings.TrimSuffix(l, `\`)
		if !cont {
			break
		}
	}
	runLine = strings.Fields(line)
	if len(runLine) < 3 {
		t.Fatal("Dockerfile: no documented docker run line in its header")
	}
	return final, runLine
}

// companionLine is the run line of cAdvisor-companion's README
// (seeds/cadvisor_companion.md), which must work unchanged with cgmon's
// image: no --pid=host, no --uts=host.
const companionLine = "docker run --volume=/:/rootfs:ro --publish=8801:8801 --detach=true --name=cadvisor-companion <image>"

// TestContainerImage builds the Dockerfile's image (its final stage, around
// a binary built as its build stage builds it) with podman, runs it with the
// run line the Dockerfile documents — cAdvisor-companion's line — in the
// container's own PID, UTS and (once, --cgroupns=private) cgroup
// namespaces, and reads the host through the container's API: the host's
// hostname and cgroups, and the processes of a fresh cgroup by their host
// PIDs on the companion route.
func TestContainerImage(t *testing.T) {
	pm := podmantest.New(t)
	g := testcg.Require(t).NewGroup(t, "image")
	sleeper := g.Sleepers(t, 1)[0].Process.Pid

	final, runLine := dockerfileParts(t)
	if got := strings.Join(runLine, " "); got != strings.Replace(companionLine, "<image>", "cgmon", 1) {
		t.Errorf("the Dockerfile documents %q, want cAdvisor-companion's line %q", got, companionLine)
	}
	ref := buildImage(t, pm, final)
	// A container on the host, whose process figures cgmon in its image
	// must read without --pid=host.
	pod := pm.Start(t, pm.Image(t))
	for _, extra := range [][]string{nil, {"--cgroupns=private"}} {
		t.Run("cgroupns="+map[bool]string{true: "default", false: "private"}[extra == nil], func(t *testing.T) {
			checkContainer(t, pm, ref, runLine, extra, g.Path(), sleeper, pod)
		})
	}
}

// buildImage builds the image of the Dockerfile's final stage around a
// locally built binary; it is removed when t ends.
func buildImage(t *testing.T, pm *podmantest.Podman, final string) string {
	t.Helper()
	ctx := t.TempDir()
	bin, err := os.ReadFile(buildCgmon(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "cgmon"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(final), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := "localhost/" + podmantest.UniqueName("cgmon-image") + ":test"
	t.Cleanup(func() {
		if out, err := pm.Run("rmi", "-f", ref); err != nil {
			t.Errorf("podman rmi %s: %v\n%s", ref, err, out)
		}
	})
	pm.Must(t, "build", "-t", ref, "-f", filepath.Join(ctx, "Containerfile"), ctx)
	return ref
}

// checkContainer runs runLine (its name, published port and image replaced
// by a unique name, a free loopback port and ref; extra options added
// before the image) and checks the host's hostname, the cgroup cg with one
// process, the sleeper, on /api/v1/cgroups, the host's podman container
// pod with its process figures, and the sleeper by its host PID on the
// companion route.
func checkContainer(t *testing.T, pm *podmantest.Podman, ref string, runLine, extra []string, cg string, sleeper int, pod string) {
	// A free port on loopback for the published 8801.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	name := podmantest.UniqueName("cgmon-image")
	t.Cleanup(func() {
		if out, err := pm.Run("rm", "-f", "-t", "0", name); err != nil {
			t.Errorf("podman rm %s: %v\n%s", name, err, out)
		}
	})
	// The documented line, with our container name, port and image.
	var args []string
	for i := 1; i < len(runLine); i++ { // runLine[0] is "docker"
		w := runLine[i]
		switch {
		case w == "--name" && i+1 < len(runLine):
			args = append(args, w, name)
			i++
		case strings.HasPrefix(w, "--name="):
			args = append(args, "--name="+name)
		case strings.HasPrefix(w, "--publish=") && strings.HasSuffix(w, ":8801"):
			args = append(args, "--publish=127.0.0.1:"+strconv.Itoa(port)+":8801")
		case i == len(runLine)-1:
			args = append(args, extra...)
			args = append(args, ref) // the image, "cgmon" in the line
		default:
			args = append(args, w)
		}
	}
	t.Logf("podman %s", strings.Join(args, " "))
	pm.Must(t, args...)
	logs := func() string { out, _ := pm.Run("logs", name); return out }
	addr := "127.0.0.1:" + strconv.Itoa(port)

	// The first cycle, then a snapshot that holds the fresh cgroup.
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	type cgroupJSON struct {
		Path      string
		Tasks     *int
		Processes *int
		Container *struct {
			Name      string
			State     string
			StartedAt string `json:"started_at"`
		}
	}
	var snap struct {
		Hostname string
		Cgroups  []cgroupJSON
	}
	var fresh, podCg *cgroupJSON
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, body, err := getOK(addr, "/api/v1/cgroups")
		if err == nil && code == http.StatusOK && json.Unmarshal(body, &snap) == nil {
			i := slices.IndexFunc(snap.Cgroups, func(c cgroupJSON) bool { return c.Path == cg })
			j := slices.IndexFunc(snap.Cgroups, func(c cgroupJSON) bool {
				return c.Container != nil && c.Container.Name == pod && c.Processes != nil
			})
			if i >= 0 && j >= 0 {
				fresh, podCg = &snap.Cgroups[i], &snap.Cgroups[j]
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no snapshot with %s and the container %s with its processes from the image 30 s after it started: %d %v %.300s\nlogs:\n%s",
				cg, pod, code, err, body, logs())
		}
	}
	if *podCg.Processes != 1 || podCg.Container.State != "running" || podCg.Container.StartedAt == "" {
		t.Errorf("container %s (%s): processes %d, state %q, started_at %q; want 1 (its sleep), running, a time",
			pod, podCg.Path, *podCg.Processes, podCg.Container.State, podCg.Container.StartedAt)
	}
	if snap.Hostname != host {
		t.Errorf("hostname %q, want the host's %q", snap.Hostname, host)
	}
	if fresh.Tasks == nil || *fresh.Tasks != 1 {
		t.Errorf("%s: tasks %v, want 1 (the sleeper)", cg, fresh.Tasks)
	}

	// The companion route names the sleeper by its host PID.
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + addr + "/api/v1.0" + cg + "/processes")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		Processes []struct {
			Stat    struct{ Pid int }
			Status  struct{ Pid, PPid int }
			Cmdline string
			Cgroup  string
		}
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &entries) != nil {
		t.Fatalf("processes: %d %.300s\nlogs:\n%s", resp.StatusCode, body, logs())
	}
	if len(entries) != 1 || len(entries[0].Processes) != 1 {
		t.Fatalf("processes: %+v, want one entry with the sleeper\nlogs:\n%s", entries, logs())
	}
	p := entries[0].Processes[0]
	if p.Stat.Pid != sleeper || p.Status.Pid != sleeper || p.Status.PPid != os.Getpid() || p.Cgroup != cg || !strings.Contains(p.Cmdline, "sleep") {
		t.Errorf("process %+v, want the sleeper %d (parent %d) in %s", p, sleeper, os.Getpid(), cg)
	}
}
