package identity

import "strings"

// Classify tells what the cgroup at path is. path is relative to the
// hierarchy root, as in /proc/PID/cgroup: "/" for the root,
// "/system.slice/sshd.service" for a unit. Extra, leading or trailing slashes
// do not matter.
//
// Classify is pure and does no I/O. It allocates only to unescape systemd
// names ("\x2d") and to turn a pod UID's underscores back into dashes.
//
// The first path element that marks a container wins: everything below it
// carries that container's Kind, Runtime and ID with RoleNone, so that callers
// can aggregate; only the container's own cgroup has RoleContainer (or
// RoleMonitor, RolePod). A container inside a container is thus counted as
// part of the outer one.
//
// Recognized, at any depth:
//
//	systemd     any last element NAME.service .scope .slice .socket .mount
//	            .swap .target .device .automount .timer .path
//	lxc         lxc.payload.NAME, lxc/NAME (Proxmox: lxc/VMID, lxc/VMID/ns),
//	            lxc.monitor.NAME and lxc.monitor/NAME (monitor), lxc.pivot
//	podman      libpod-ID.scope, libpod-ID (cgroupfs), libpod-payload-ID
//	            (--cgroups=split, quadlets), libpod-conmon-ID[.scope] (monitor),
//	            *-libpod_pod_ID.slice and libpod_parent/ID (pods),
//	            libpod_parent/conmon (monitor)
//	docker      docker-ID.scope, docker/ID
//	nspawn      machine-NAME.scope, systemd-nspawn@NAME.service (its
//	            supervisor sub-cgroup is the monitor)
//	kubernetes  kubepods, kubepods.slice, *-kubepods.slice, then the pod
//	            (podUID, *-podUID_WITH_UNDERSCORES.slice), then the container:
//	            cri-containerd-ID.scope, crio-ID[.scope], docker-ID.scope, a
//	            bare ID (cgroupfs: runtime unknown); crio-conmon-ID[.scope]
//	            is the monitor
//	libvirt     machine-qemu\x2dN\x2dNAME.scope, machine-lxc\x2dN\x2dNAME.scope,
//	            qemu-N-NAME.libvirt-qemu and NAME.libvirt-qemu (cgroupfs)
//
// Container IDs are 64 lower-case hex digits; anything else is not one.
func Classify(path string) Identity {
	it := elems{rest: path}
	id := scan(&it)
	last := lastElem(path)
	if t := unitType(last); t != "" {
		id.Unit, id.UnitType = last, t
	}
	if id.Kind == "" {
		if id.Unit != "" {
			id.Kind = KindSystemd
			id.Name = unescape(id.Unit)
		} else {
			id.Kind = KindRaw
		}
	}
	return id
}

// scan walks the path to the first element that marks a runtime's cgroup and
// returns what it found, or an Identity with no Kind.
func scan(it *elems) Identity {
	for {
		e, ok := it.next()
		if !ok {
			return Identity{}
		}
		switch {
		case len(e) > len("lxc.payload.") && strings.HasPrefix(e, "lxc.payload."):
			return lxc(e[len("lxc.payload."):], RoleContainer, it)
		case len(e) > len("lxc.monitor.") && strings.HasPrefix(e, "lxc.monitor."):
			return lxc(e[len("lxc.monitor."):], RoleMonitor, it)
		case e == "lxc" || e == "lxc.payload":
			name, ok := it.next()
			if !ok {
				return Identity{Kind: KindLXC, Runtime: "lxc"}
			}
			return lxc(name, RoleContainer, it)
		case e == "lxc.monitor":
			name, ok := it.next()
			if !ok {
				return Identity{Kind: KindLXC, Runtime: "lxc"}
			}
			return lxc(name, RoleMonitor, it)
		case e == "lxc.pivot":
			// LXC parks monitors here while it removes their cgroups.
			return below(Identity{Kind: KindLXC, Runtime: "lxc"}, RoleMonitor, it)
		case e == "docker":
			id := Identity{Kind: KindDocker, Runtime: "docker"}
			if c, ok := it.next(); ok && isHex64(c) {
				id.ID = c
				return below(id, RoleContainer, it)
			}
			return id
		case e == "libpod_parent":
			return podmanCgroupfs(it)
		case e == "kubepods" || e == "kubepods.slice" || strings.HasSuffix(e, "-kubepods.slice"):
			return kubepods(it)
		case strings.HasSuffix(e, ".libvirt-qemu"):
			return libvirt(e[:len(e)-len(".libvirt-qemu")], it)
		case strings.HasSuffix(e, ".libvirt-lxc"):
			return libvirt(e[:len(e)-len(".libvirt-lxc")], it)
		}
		if id, ok := unitAnchor(e, it); ok {
			return id
		}
	}
}

// unitAnchor recognizes the runtimes' own cgroups that are named like systemd
// units, or like them without the suffix (the cgroupfs managers).
func unitAnchor(e string, it *elems) (Identity, bool) {
	if id, role, ok := podmanElem(e); ok {
		return below(id, role, it), true
	}
	if c, ok := hexAfter(e, "docker-"); ok {
		return below(Identity{Kind: KindDocker, Runtime: "docker", ID: c}, RoleContainer, it), true
	}
	if rt, c, role, ok := criElem(e); ok {
		// CRI runtimes outside kubepods: CRI-O with conmon_cgroup="system.slice".
		return below(Identity{Kind: KindKubernetes, Runtime: rt, ID: c}, role, it), true
	}
	if pod, ok := podmanPodSlice(e); ok {
		return podmanPod(pod, it), true
	}
	if len(e) > len("machine-.scope") && strings.HasPrefix(e, "machine-") && strings.HasSuffix(e, ".scope") {
		return machine(unescape(e[len("machine-"):len(e)-len(".scope")]), it), true
	}
	if len(e) > len("systemd-nspawn@.service") && strings.HasPrefix(e, "systemd-nspawn@") && strings.HasSuffix(e, ".service") {
		return nspawn(unescape(e[len("systemd-nspawn@"):len(e)-len(".service")]), it), true
	}
	return Identity{}, false
}

// below finishes an identity found at one path element: that element's own
// cgroup plays role; the cgroups nested below it belong to it with no role.
func below(id Identity, role Role, it *elems) Identity {
	if !it.more() {
		id.Role = role
	}
	return id
}

// lxc is an LXC container. A numeric name is a Proxmox VMID, whose name only
// the resolver knows.
func lxc(name string, role Role, it *elems) Identity {
	id := Identity{Kind: KindLXC, Runtime: "lxc", ID: name}
	if !allDigits(name) {
		id.Name = name
	}
	return below(id, role, it)
}

// podmanElem recognizes a Podman container's or conmon's own cgroup.
func podmanElem(e string) (Identity, Role, bool) {
	if c, ok := hexAfter(e, "libpod-conmon-"); ok {
		return Identity{Kind: KindPodman, Runtime: "podman", ID: c}, RoleMonitor, true
	}
	if c, ok := hexAfter(e, "libpod-payload-"); ok {
		return Identity{Kind: KindPodman, Runtime: "podman", ID: c}, RoleContainer, true
	}
	if c, ok := hexAfter(e, "libpod-"); ok {
		return Identity{Kind: KindPodman, Runtime: "podman", ID: c}, RoleContainer, true
	}
	return Identity{}, "", false
}

// podmanPodSlice recognizes a Podman pod's slice: machine-libpod_pod_ID.slice
// (rootful) or user-libpod_pod_ID.slice (rootless).
func podmanPodSlice(e string) (string, bool) {
	if !strings.HasSuffix(e, ".slice") {
		return "", false
	}
	i := strings.Index(e, "libpod_pod_")
	if i < 0 || (i > 0 && e[i-1] != '-') {
		return "", false
	}
	c := e[i+len("libpod_pod_") : len(e)-len(".slice")]
	return c, isHex64(c)
}

// podmanPod is a Podman pod's cgroup and what is below it.
func podmanPod(pod string, it *elems) Identity {
	id := Identity{Kind: KindPodman, Runtime: "podman", ID: pod}
	e, ok := it.next()
	if !ok {
		id.Role = RolePod
		return id
	}
	if c, role, ok := podmanElem(e); ok {
		return below(c, role, it)
	}
	if e == "conmon" { // cgroupfs: the pod's conmon
		return below(id, RoleMonitor, it)
	}
	return id
}

// podmanCgroupfs reads below libpod_parent, Podman's cgroupfs parent.
func podmanCgroupfs(it *elems) Identity {
	id := Identity{Kind: KindPodman, Runtime: "podman"}
	e, ok := it.next()
	if !ok {
		return id
	}
	if c, role, ok := podmanElem(e); ok {
		return below(c, role, it)
	}
	if e == "conmon" { // shared by every container under this parent
		return below(id, RoleMonitor, it)
	}
	if isHex64(e) {
		return podmanPod(e, it)
	}
	return id
}

// kubepods reads below a kubelet's cgroup root: QoS classes, then pods.
func kubepods(it *elems) Identity {
	for {
		e, ok := it.next()
		if !ok {
			return Identity{Kind: KindKubernetes}
		}
		if uid, ok := podUID(e); ok {
			return kubePod(uid, it)
		}
		// burstable, besteffort, kubepods-burstable.slice: keep going.
	}
}

// kubePod is a pod's cgroup and what is below it.
func kubePod(uid string, it *elems) Identity {
	id := Identity{Kind: KindKubernetes, ID: uid}
	e, ok := it.next()
	if !ok {
		id.Role = RolePod
		return id
	}
	if rt, c, role, ok := criElem(e); ok {
		return below(Identity{Kind: KindKubernetes, Runtime: rt, ID: c}, role, it)
	}
	if c, ok := hexAfter(e, "docker-"); ok { // dockershim, systemd driver
		return below(Identity{Kind: KindKubernetes, Runtime: "docker", ID: c}, RoleContainer, it)
	}
	if isHex64(e) { // cgroupfs driver: containerd or dockershim, the path does not say
		return below(Identity{Kind: KindKubernetes, ID: e}, RoleContainer, it)
	}
	return id
}

// criElem recognizes a container's cgroup as a CRI runtime names it.
func criElem(e string) (runtime, id string, role Role, ok bool) {
	if c, ok := hexAfter(e, "cri-containerd-"); ok {
		return "containerd", c, RoleContainer, true
	}
	if c, ok := hexAfter(e, "crio-conmon-"); ok {
		return "cri-o", c, RoleMonitor, true
	}
	if c, ok := hexAfter(e, "crio-"); ok {
		return "cri-o", c, RoleContainer, true
	}
	return "", "", "", false
}

// podUID returns the pod UID named by a pod's cgroup: "pod" + UID (cgroupfs)
// or "...-pod" + UID with underscores + ".slice" (systemd). UIDs are UUIDs,
// or 32 hex digits for static pods.
func podUID(e string) (string, bool) {
	var uid string
	if strings.HasSuffix(e, ".slice") {
		i := strings.LastIndex(e, "-pod")
		if i < 0 {
			return "", false
		}
		uid = e[i+len("-pod") : len(e)-len(".slice")]
	} else if strings.HasPrefix(e, "pod") {
		uid = e[len("pod"):]
	} else {
		return "", false
	}
	if !isPodUID(uid) {
		return "", false
	}
	return strings.ReplaceAll(uid, "_", "-"), true
}

func isPodUID(s string) bool {
	switch len(s) {
	case 32:
		return isHex(s)
	case 36:
		for i := 0; i < len(s); i++ {
			c := s[i]
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if c != '-' && c != '_' {
					return false
				}
			} else if !isHexDigit(c) {
				return false
			}
		}
		return true
	}
	return false
}

// machine is a machined scope, machine-NAME.scope: libvirt names its domains
// qemu-N-NAME or lxc-N-NAME, everything else is taken for nspawn.
func machine(name string, it *elems) Identity {
	if vm, ok := libvirtName(name); ok {
		return below(Identity{Kind: KindLibvirt, Runtime: "libvirt", ID: name, Name: vm}, RoleContainer, it)
	}
	return nspawn(name, it)
}

// nspawn is a systemd-nspawn machine. Run as systemd-nspawn@.service, nspawn
// keeps itself in the supervisor sub-cgroup and the container in payload.
func nspawn(name string, it *elems) Identity {
	id := Identity{Kind: KindNspawn, Runtime: "nspawn", ID: name, Name: name}
	if e, ok := it.next(); ok {
		if e == "supervisor" && !it.more() {
			id.Role = RoleMonitor
		}
		return id
	}
	id.Role = RoleContainer
	return id
}

// libvirt is a libvirt domain's cgroupfs cgroup, NAME.libvirt-qemu: libvirt
// 1.3+ names it qemu-N-NAME, older versions NAME alone.
func libvirt(name string, it *elems) Identity {
	if name == "" {
		return Identity{}
	}
	vm, ok := libvirtName(name)
	if !ok {
		vm = name
	}
	return below(Identity{Kind: KindLibvirt, Runtime: "libvirt", ID: name, Name: vm}, RoleContainer, it)
}

// libvirtName returns NAME from a libvirt machine name, qemu-N-NAME or
// lxc-N-NAME.
func libvirtName(s string) (string, bool) {
	switch {
	case strings.HasPrefix(s, "qemu-"):
		s = s[len("qemu-"):]
	case strings.HasPrefix(s, "lxc-"):
		s = s[len("lxc-"):]
	default:
		return "", false
	}
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i == 0 || i+1 >= len(s) || s[i] != '-' {
		return "", false
	}
	return s[i+1:], true
}

// hexAfter returns ID from prefix+ID or prefix+ID+".scope", where ID is a
// container ID.
func hexAfter(e, prefix string) (string, bool) {
	if !strings.HasPrefix(e, prefix) {
		return "", false
	}
	c := strings.TrimSuffix(e[len(prefix):], ".scope")
	return c, isHex64(c)
}

// unitType returns the systemd unit type of a cgroup's name, or "" when the
// name is not a unit's (systemd.unit(5)).
func unitType(e string) string {
	dot := strings.LastIndexByte(e, '.')
	if dot <= 0 {
		return ""
	}
	switch t := e[dot+1:]; t {
	case "service", "scope", "slice", "socket", "mount", "swap",
		"target", "device", "automount", "timer", "path":
		return t
	}
	return ""
}

// unescape undoes systemd's C-style escapes, "\x2d" for "-"
// (systemd-escape(1)). Anything that is not a valid escape stays as it is.
func unescape(s string) string {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for i < len(s) {
		c := s[i]
		if c == '\\' && i+3 < len(s) && s[i+1] == 'x' && isHexDigit(s[i+2]) && isHexDigit(s[i+3]) {
			b = append(b, unhex(s[i+2])<<4|unhex(s[i+3]))
			i += 4
			continue
		}
		b = append(b, c)
		i++
	}
	return string(b)
}

// elems walks the elements of a slash path, skipping empty ones.
type elems struct{ rest string }

func (it *elems) next() (string, bool) {
	s := it.rest
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	if s == "" {
		it.rest = ""
		return "", false
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		it.rest = s[i:]
		return s[:i], true
	}
	it.rest = ""
	return s, true
}

// more reports whether another element follows.
func (it *elems) more() bool {
	for i := 0; i < len(it.rest); i++ {
		if it.rest[i] != '/' {
			return true
		}
	}
	return false
}

// lastElem returns the last non-empty element of a slash path.
func lastElem(p string) string {
	end := len(p)
	for end > 0 && p[end-1] == '/' {
		end--
	}
	p = p[:end]
	return p[strings.LastIndexByte(p, '/')+1:]
}

// isHex64 reports whether s is a container ID: 64 lower-case hex digits.
func isHex64(s string) bool { return len(s) == 64 && isHex(s) }

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return false
		}
	}
	return true
}

// isHexDigit accepts lower-case hex digits only: the runtimes write no other.
func isHexDigit(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'a' + 10
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
