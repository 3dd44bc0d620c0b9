// Package identity tells what a cgroup is from its path — a systemd unit, an
// LXC, Podman or Docker container, an nspawn machine, a Kubernetes pod, a
// libvirt VM, or a raw group — and resolves human names from the runtimes off
// the hot path.
package identity

// Kind is what manages a cgroup.
type Kind string

const (
	KindRaw        Kind = "raw"        // none of the others: a group made by hand, or by a tool not known here
	KindSystemd    Kind = "systemd"    // a systemd unit that is not a container's
	KindLXC        Kind = "lxc"        // LXC, LXD, Incus and Proxmox VE containers
	KindPodman     Kind = "podman"     // Podman containers and pods
	KindDocker     Kind = "docker"     // Docker containers outside Kubernetes
	KindNspawn     Kind = "nspawn"     // systemd-nspawn and other machined machines
	KindKubernetes Kind = "kubernetes" // kubelet's pods and their CRI containers
	KindLibvirt    Kind = "libvirt"    // libvirt domains: QEMU/KVM VMs, libvirt-lxc
)

// Role says what part a cgroup plays for its runtime.
type Role string

const (
	RoleNone      Role = ""          // not a container's
	RoleContainer Role = "container" // the container's own cgroup: count it as the container
	RoleMonitor   Role = "monitor"   // lxc.monitor.NAME, conmon: the runtime's helper, not the container
	RolePod       Role = "pod"       // a Kubernetes pod's cgroup (holds the containers)
)

// Identity is what a cgroup is.
type Identity struct {
	Kind Kind `json:"kind"`
	Role Role `json:"role,omitempty"`
	// Runtime is the container runtime ("lxc", "podman", "docker",
	// "nspawn", "containerd", "cri-o", "libvirt"); empty when not a container.
	Runtime string `json:"runtime,omitempty"`
	// ID is the runtime's id: a container hash, an LXC name, a Proxmox VMID,
	// a machine name, a pod UID.
	ID string `json:"id,omitempty"`
	// Name is the human name when known (from the path or the runtime).
	Name string `json:"name,omitempty"`
	// Unit is the systemd unit when the last path element is one
	// ("sshd.service"), and UnitType its suffix ("service").
	Unit     string `json:"unit,omitempty"`
	UnitType string `json:"unit_type,omitempty"`
}

// IsContainer reports whether the cgroup is a container's own cgroup.
func (id Identity) IsContainer() bool { return id.Role == RoleContainer }
