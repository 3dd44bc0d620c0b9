package identity

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Container IDs and pod UIDs below have the shapes the runtimes write; the
// paths are laid out as they are on real hosts (systemd-cgls, /proc/PID/cgroup).
const (
	dockerID  = "c22f99c69233ff26633769d2e24089162c40ede5eb9c01acc0c37998a153c54b"
	podmanID  = "1d16e5700bb207936a96b02cfe929fa161e5685aa15186f4c8be5dc44821b860"
	podmanPID = "aed1dcce39a52379aaa25179323c2597863a7a9bc9a974950c58d6b5ea4f04e7"
	quadletID = "9687bac58d5c4d1606aa46af33d1a21c1d1652e0ac9fb3fc0fc86e3495f42869"
	crioID    = "f52987fbdcc7b29175fb52e01c7917e9d6d2e14550e3a2a7abf739da5a067e31"
	crioBox   = "c81572302e4a00c05810fc436ebc0952ed7a0806c58a2b7eddbfb58de4539206"
	ctrdID    = "123cd1db937c3c2d0d7772ef9b0a1c4b0b3dcfcb6b889452a90b2fcb43eae43a"
	cgfsID    = "cde6dfaf5007ed65aad2d6aed72af91b0f3d95813492f773286e29ae145d20f4"
	podUID1   = "73dc8baf-43a0-413e-aac2-5eb0868f6c1a"
	podUID2   = "6dc88073-2128-40d6-9dbc-0ba508da7fe8"
	podUID3   = "4a163a05-439d-484b-8e53-2968bc15824f"
	staticUID = "b53dfa9e2dc9b890f7fadb2770857b03"

	burstablePod  = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod73dc8baf_43a0_413e_aac2_5eb0868f6c1a.slice"
	bestEffortPod = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod6dc88073_2128_40d6_9dbc_0ba508da7fe8.slice"
)

type classifyCase struct {
	name string
	path string
	want Identity
}

var classifyCases = []classifyCase{
	// systemd
	{"root", "/", Identity{Kind: KindRaw}},
	{"init scope", "/init.scope", Identity{Kind: KindSystemd, Name: "init.scope", Unit: "init.scope", UnitType: "scope"}},
	{"system slice", "/system.slice", Identity{Kind: KindSystemd, Name: "system.slice", Unit: "system.slice", UnitType: "slice"}},
	{"service", "/system.slice/sshd.service",
		Identity{Kind: KindSystemd, Name: "sshd.service", Unit: "sshd.service", UnitType: "service"}},
	{"slice with dash stays", "/system.slice/system-getty.slice",
		Identity{Kind: KindSystemd, Name: "system-getty.slice", Unit: "system-getty.slice", UnitType: "slice"}},
	{"template instance", "/system.slice/system-getty.slice/getty@tty1.service",
		Identity{Kind: KindSystemd, Name: "getty@tty1.service", Unit: "getty@tty1.service", UnitType: "service"}},
	{"escaped swap", `/system.slice/dev-disk-by\x2duuid-0a6f2c1e\x2d5b7d\x2d4c3a\x2d9e8f\x2d1d2c3b4a5f60.swap`,
		Identity{Kind: KindSystemd, Name: "dev-disk-by-uuid-0a6f2c1e-5b7d-4c3a-9e8f-1d2c3b4a5f60.swap",
			Unit: `dev-disk-by\x2duuid-0a6f2c1e\x2d5b7d\x2d4c3a\x2d9e8f\x2d1d2c3b4a5f60.swap`, UnitType: "swap"}},
	{"socket", "/system.slice/dbus.socket",
		Identity{Kind: KindSystemd, Name: "dbus.socket", Unit: "dbus.socket", UnitType: "socket"}},
	{"mount", "/system.slice/boot-efi.mount",
		Identity{Kind: KindSystemd, Name: "boot-efi.mount", Unit: "boot-efi.mount", UnitType: "mount"}},
	{"docker daemon is a unit", "/system.slice/docker.service",
		Identity{Kind: KindSystemd, Name: "docker.service", Unit: "docker.service", UnitType: "service"}},
	{"session", "/user.slice/user-1000.slice/session-2.scope",
		Identity{Kind: KindSystemd, Name: "session-2.scope", Unit: "session-2.scope", UnitType: "scope"}},
	{"user manager", "/user.slice/user-1000.slice/user@1000.service",
		Identity{Kind: KindSystemd, Name: "user@1000.service", Unit: "user@1000.service", UnitType: "service"}},
	{"user app", "/user.slice/user-1000.slice/user@1000.service/app.slice/app-org.gnome.Terminal.slice/vte-spawn-4f8b8c1e-2f4c-4b4e-9d7a-6f1e2d3c4b5a.scope",
		Identity{Kind: KindSystemd, Name: "vte-spawn-4f8b8c1e-2f4c-4b4e-9d7a-6f1e2d3c4b5a.scope",
			Unit: "vte-spawn-4f8b8c1e-2f4c-4b4e-9d7a-6f1e2d3c4b5a.scope", UnitType: "scope"}},
	{"machine slice", "/machine.slice", Identity{Kind: KindSystemd, Name: "machine.slice", Unit: "machine.slice", UnitType: "slice"}},
	{"raw", "/mygroup", Identity{Kind: KindRaw}},
	{"quadlet conmon sub-cgroup", "/system.slice/nginx.service/runtime", Identity{Kind: KindRaw}},

	// LXC, LXD, Incus
	{"lxc payload", "/lxc.payload.web1",
		Identity{Kind: KindLXC, Role: RoleContainer, Runtime: "lxc", ID: "web1", Name: "web1"}},
	{"lxc payload init", "/lxc.payload.web1/init.scope",
		Identity{Kind: KindLXC, Runtime: "lxc", ID: "web1", Name: "web1", Unit: "init.scope", UnitType: "scope"}},
	{"lxc payload service", "/lxc.payload.web1/system.slice/nginx.service",
		Identity{Kind: KindLXC, Runtime: "lxc", ID: "web1", Name: "web1", Unit: "nginx.service", UnitType: "service"}},
	{"lxc monitor", "/lxc.monitor.web1",
		Identity{Kind: KindLXC, Role: RoleMonitor, Runtime: "lxc", ID: "web1", Name: "web1"}},
	{"lxc pivot", "/lxc.pivot", Identity{Kind: KindLXC, Role: RoleMonitor, Runtime: "lxc"}},
	{"lxc old layout", "/lxc/mybox",
		Identity{Kind: KindLXC, Role: RoleContainer, Runtime: "lxc", ID: "mybox", Name: "mybox"}},
	{"lxc parent", "/lxc", Identity{Kind: KindLXC, Runtime: "lxc"}},

	// Proxmox VE: lxc.cgroup.dir.container = lxc/VMID, .inner = ns,
	// lxc.cgroup.dir.monitor = lxc.monitor/VMID.
	{"proxmox ct", "/lxc/101", Identity{Kind: KindLXC, Role: RoleContainer, Runtime: "lxc", ID: "101"}},
	{"proxmox ns", "/lxc/101/ns", Identity{Kind: KindLXC, Runtime: "lxc", ID: "101"}},
	{"proxmox ns service", "/lxc/101/ns/system.slice/cron.service",
		Identity{Kind: KindLXC, Runtime: "lxc", ID: "101", Unit: "cron.service", UnitType: "service"}},
	{"proxmox docker in ct", "/lxc/131/ns/system.slice/docker-" + dockerID + ".scope",
		Identity{Kind: KindLXC, Runtime: "lxc", ID: "131", Unit: "docker-" + dockerID + ".scope", UnitType: "scope"}},
	{"proxmox monitor", "/lxc.monitor/101", Identity{Kind: KindLXC, Role: RoleMonitor, Runtime: "lxc", ID: "101"}},

	// Podman
	{"podman rootful", "/machine.slice/libpod-" + podmanID + ".scope",
		Identity{Kind: KindPodman, Role: RoleContainer, Runtime: "podman", ID: podmanID,
			Unit: "libpod-" + podmanID + ".scope", UnitType: "scope"}},
	{"podman crun payload", "/machine.slice/libpod-" + podmanID + ".scope/container",
		Identity{Kind: KindPodman, Runtime: "podman", ID: podmanID}},
	{"podman systemd inside", "/machine.slice/libpod-" + podmanID + ".scope/container/system.slice/httpd.service",
		Identity{Kind: KindPodman, Runtime: "podman", ID: podmanID, Unit: "httpd.service", UnitType: "service"}},
	{"podman conmon", "/machine.slice/libpod-conmon-" + podmanID + ".scope",
		Identity{Kind: KindPodman, Role: RoleMonitor, Runtime: "podman", ID: podmanID,
			Unit: "libpod-conmon-" + podmanID + ".scope", UnitType: "scope"}},
	{"podman rootless", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + podmanID + ".scope",
		Identity{Kind: KindPodman, Role: RoleContainer, Runtime: "podman", ID: podmanID,
			Unit: "libpod-" + podmanID + ".scope", UnitType: "scope"}},
	{"podman rootless conmon", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-" + podmanID + ".scope",
		Identity{Kind: KindPodman, Role: RoleMonitor, Runtime: "podman", ID: podmanID,
			Unit: "libpod-conmon-" + podmanID + ".scope", UnitType: "scope"}},
	{"podman cgroupfs", "/libpod_parent/libpod-" + podmanID,
		Identity{Kind: KindPodman, Role: RoleContainer, Runtime: "podman", ID: podmanID}},
	{"podman cgroupfs old ctr", "/libpod_parent/libpod-" + podmanID + "/ctr",
		Identity{Kind: KindPodman, Runtime: "podman", ID: podmanID}},
	{"podman cgroupfs conmon", "/libpod_parent/conmon", Identity{Kind: KindPodman, Role: RoleMonitor, Runtime: "podman"}},
	{"podman cgroupfs parent", "/libpod_parent", Identity{Kind: KindPodman, Runtime: "podman"}},
	{"podman pod", "/machine.slice/machine-libpod_pod_" + podmanPID + ".slice",
		Identity{Kind: KindPodman, Role: RolePod, Runtime: "podman", ID: podmanPID,
			Unit: "machine-libpod_pod_" + podmanPID + ".slice", UnitType: "slice"}},
	{"podman pod container", "/machine.slice/machine-libpod_pod_" + podmanPID + ".slice/libpod-" + podmanID + ".scope",
		Identity{Kind: KindPodman, Role: RoleContainer, Runtime: "podman", ID: podmanID,
			Unit: "libpod-" + podmanID + ".scope", UnitType: "scope"}},
	{"podman pod conmon", "/machine.slice/machine-libpod_pod_" + podmanPID + ".slice/libpod-conmon-" + podmanID + ".scope",
		Identity{Kind: KindPodman, Role: RoleMonitor, Runtime: "podman", ID: podmanID,
			Unit: "libpod-conmon-" + podmanID + ".scope", UnitType: "scope"}},
	{"podman rootless pod", "/user.slice/user-1000.slice/user@1000.service/user.slice/user-libpod_pod_" + podmanPID + ".slice",
		Identity{Kind: KindPodman, Role: RolePod, Runtime: "podman", ID: podmanPID,
			Unit: "user-libpod_pod_" + podmanPID + ".slice", UnitType: "slice"}},
	{"podman cgroupfs pod", "/libpod_parent/" + podmanPID,
		Identity{Kind: KindPodman, Role: RolePod, Runtime: "podman", ID: podmanPID}},
	{"podman cgroupfs pod container", "/libpod_parent/" + podmanPID + "/libpod-" + podmanID,
		Identity{Kind: KindPodman, Role: RoleContainer, Runtime: "podman", ID: podmanID}},
	{"podman cgroupfs pod conmon", "/libpod_parent/" + podmanPID + "/conmon",
		Identity{Kind: KindPodman, Role: RoleMonitor, Runtime: "podman", ID: podmanPID}},
	{"quadlet payload", "/system.slice/nginx.service/libpod-payload-" + quadletID,
		Identity{Kind: KindPodman, Role: RoleContainer, Runtime: "podman", ID: quadletID}},
	{"rootless quadlet payload", "/user.slice/user-1000.slice/user@1000.service/app.slice/redis.service/libpod-payload-" + quadletID,
		Identity{Kind: KindPodman, Role: RoleContainer, Runtime: "podman", ID: quadletID}},

	// Docker
	{"docker cgroupfs", "/docker/" + dockerID,
		Identity{Kind: KindDocker, Role: RoleContainer, Runtime: "docker", ID: dockerID}},
	{"docker cgroupfs nested", "/docker/" + dockerID + "/init.scope",
		Identity{Kind: KindDocker, Runtime: "docker", ID: dockerID, Unit: "init.scope", UnitType: "scope"}},
	{"docker systemd", "/system.slice/docker-" + dockerID + ".scope",
		Identity{Kind: KindDocker, Role: RoleContainer, Runtime: "docker", ID: dockerID,
			Unit: "docker-" + dockerID + ".scope", UnitType: "scope"}},
	{"docker rootless", "/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" + dockerID + ".scope",
		Identity{Kind: KindDocker, Role: RoleContainer, Runtime: "docker", ID: dockerID,
			Unit: "docker-" + dockerID + ".scope", UnitType: "scope"}},
	{"docker scope mount unit", "/system.slice/docker-" + dockerID + ".scope.mount",
		Identity{Kind: KindSystemd, Name: "docker-" + dockerID + ".scope.mount",
			Unit: "docker-" + dockerID + ".scope.mount", UnitType: "mount"}},
	{"docker parent", "/docker", Identity{Kind: KindDocker, Runtime: "docker"}},

	// systemd-nspawn
	{"nspawn scope", "/machine.slice/machine-debian.scope",
		Identity{Kind: KindNspawn, Role: RoleContainer, Runtime: "nspawn", ID: "debian", Name: "debian",
			Unit: "machine-debian.scope", UnitType: "scope"}},
	{"nspawn scope escaped", `/machine.slice/machine-fedora\x2d40.scope`,
		Identity{Kind: KindNspawn, Role: RoleContainer, Runtime: "nspawn", ID: "fedora-40", Name: "fedora-40",
			Unit: `machine-fedora\x2d40.scope`, UnitType: "scope"}},
	{"nspawn scope payload", "/machine.slice/machine-debian.scope/payload/system.slice/sshd.service",
		Identity{Kind: KindNspawn, Runtime: "nspawn", ID: "debian", Name: "debian", Unit: "sshd.service", UnitType: "service"}},
	{"nspawn service", "/machine.slice/systemd-nspawn@debian.service",
		Identity{Kind: KindNspawn, Role: RoleContainer, Runtime: "nspawn", ID: "debian", Name: "debian",
			Unit: "systemd-nspawn@debian.service", UnitType: "service"}},
	{"nspawn service payload", "/machine.slice/systemd-nspawn@debian.service/payload",
		Identity{Kind: KindNspawn, Runtime: "nspawn", ID: "debian", Name: "debian"}},
	{"nspawn supervisor", "/machine.slice/systemd-nspawn@debian.service/supervisor",
		Identity{Kind: KindNspawn, Role: RoleMonitor, Runtime: "nspawn", ID: "debian", Name: "debian"}},

	// Kubernetes, systemd driver (CRI-O with crun, containerd)
	{"kubepods slice", "/kubepods.slice",
		Identity{Kind: KindKubernetes, Unit: "kubepods.slice", UnitType: "slice"}},
	{"qos slice", "/kubepods.slice/kubepods-burstable.slice",
		Identity{Kind: KindKubernetes, Unit: "kubepods-burstable.slice", UnitType: "slice"}},
	{"pod slice", burstablePod,
		Identity{Kind: KindKubernetes, Role: RolePod, ID: podUID1,
			Unit: "kubepods-burstable-pod73dc8baf_43a0_413e_aac2_5eb0868f6c1a.slice", UnitType: "slice"}},
	{"crio container", burstablePod + "/crio-" + crioID + ".scope",
		Identity{Kind: KindKubernetes, Role: RoleContainer, Runtime: "cri-o", ID: crioID,
			Unit: "crio-" + crioID + ".scope", UnitType: "scope"}},
	{"crio crun child", burstablePod + "/crio-" + crioID + ".scope/container",
		Identity{Kind: KindKubernetes, Runtime: "cri-o", ID: crioID}},
	{"crio conmon", burstablePod + "/crio-conmon-" + crioID + ".scope",
		Identity{Kind: KindKubernetes, Role: RoleMonitor, Runtime: "cri-o", ID: crioID,
			Unit: "crio-conmon-" + crioID + ".scope", UnitType: "scope"}},
	{"crio sandbox", burstablePod + "/crio-" + crioBox,
		Identity{Kind: KindKubernetes, Role: RoleContainer, Runtime: "cri-o", ID: crioBox}},
	{"crio conmon in system slice", "/system.slice/crio-conmon-" + crioID + ".scope",
		Identity{Kind: KindKubernetes, Role: RoleMonitor, Runtime: "cri-o", ID: crioID,
			Unit: "crio-conmon-" + crioID + ".scope", UnitType: "scope"}},
	{"containerd container", bestEffortPod + "/cri-containerd-" + ctrdID + ".scope",
		Identity{Kind: KindKubernetes, Role: RoleContainer, Runtime: "containerd", ID: ctrdID,
			Unit: "cri-containerd-" + ctrdID + ".scope", UnitType: "scope"}},
	{"guaranteed pod", "/kubepods.slice/kubepods-pod2d51509a_fcf0_41cc_b535_57cfeeaf73d1.slice",
		Identity{Kind: KindKubernetes, Role: RolePod, ID: "2d51509a-fcf0-41cc-b535-57cfeeaf73d1",
			Unit: "kubepods-pod2d51509a_fcf0_41cc_b535_57cfeeaf73d1.slice", UnitType: "slice"}},
	{"dockershim container", bestEffortPod + "/docker-" + dockerID + ".scope",
		Identity{Kind: KindKubernetes, Role: RoleContainer, Runtime: "docker", ID: dockerID,
			Unit: "docker-" + dockerID + ".scope", UnitType: "scope"}},
	{"kind node", "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod6dc88073_2128_40d6_9dbc_0ba508da7fe8.slice/cri-containerd-" + ctrdID + ".scope",
		Identity{Kind: KindKubernetes, Role: RoleContainer, Runtime: "containerd", ID: ctrdID,
			Unit: "cri-containerd-" + ctrdID + ".scope", UnitType: "scope"}},

	// Kubernetes, cgroupfs driver
	{"cgroupfs kubepods", "/kubepods", Identity{Kind: KindKubernetes}},
	{"cgroupfs qos", "/kubepods/burstable", Identity{Kind: KindKubernetes}},
	{"cgroupfs pod", "/kubepods/burstable/pod" + podUID3, Identity{Kind: KindKubernetes, Role: RolePod, ID: podUID3}},
	{"cgroupfs container", "/kubepods/burstable/pod" + podUID3 + "/" + cgfsID,
		Identity{Kind: KindKubernetes, Role: RoleContainer, ID: cgfsID}},
	{"cgroupfs static pod", "/kubepods/pod" + staticUID, Identity{Kind: KindKubernetes, Role: RolePod, ID: staticUID}},
	{"cgroupfs crio", "/kubepods/pod" + staticUID + "/crio-" + crioID,
		Identity{Kind: KindKubernetes, Role: RoleContainer, Runtime: "cri-o", ID: crioID}},
	{"kind cgroupfs", "/kubelet/kubepods/burstable/pod" + podUID1 + "/" + crioID,
		Identity{Kind: KindKubernetes, Role: RoleContainer, ID: crioID}},

	// libvirt
	{"libvirt systemd", `/machine.slice/machine-qemu\x2d1\x2dWin10.scope`,
		Identity{Kind: KindLibvirt, Role: RoleContainer, Runtime: "libvirt", ID: "qemu-1-Win10", Name: "Win10",
			Unit: `machine-qemu\x2d1\x2dWin10.scope`, UnitType: "scope"}},
	{"libvirt name with dash", `/machine.slice/machine-qemu\x2d1\x2ddebian12\x2d1.scope/libvirt`,
		Identity{Kind: KindLibvirt, Runtime: "libvirt", ID: "qemu-1-debian12-1", Name: "debian12-1"}},
	{"libvirt vcpu", `/machine.slice/machine-qemu\x2d2\x2dubuntu20.04.scope/libvirt/vcpu0`,
		Identity{Kind: KindLibvirt, Runtime: "libvirt", ID: "qemu-2-ubuntu20.04", Name: "ubuntu20.04"}},
	{"libvirt old emulator", `/machine.slice/machine-qemu\x2d1\x2dinstance\x2d0000001d.scope/emulator`,
		Identity{Kind: KindLibvirt, Runtime: "libvirt", ID: "qemu-1-instance-0000001d", Name: "instance-0000001d"}},
	{"libvirt partition", `/machine.slice/machine-test.slice/machine-qemu\x2d16\x2dtest14.scope`,
		Identity{Kind: KindLibvirt, Role: RoleContainer, Runtime: "libvirt", ID: "qemu-16-test14", Name: "test14",
			Unit: `machine-qemu\x2d16\x2dtest14.scope`, UnitType: "scope"}},
	{"libvirt cgroupfs", "/machine/qemu-1-instance-00000025.libvirt-qemu",
		Identity{Kind: KindLibvirt, Role: RoleContainer, Runtime: "libvirt", ID: "qemu-1-instance-00000025", Name: "instance-00000025"}},
	{"libvirt cgroupfs emulator", "/machine/qemu-1-instance-00000025.libvirt-qemu/emulator",
		Identity{Kind: KindLibvirt, Runtime: "libvirt", ID: "qemu-1-instance-00000025", Name: "instance-00000025"}},
	{"libvirt cgroupfs old", "/machine/instance-000065d3.libvirt-qemu/vcpu0",
		Identity{Kind: KindLibvirt, Runtime: "libvirt", ID: "instance-000065d3", Name: "instance-000065d3"}},
}

// Edge cases: malformed, partial and look-alike paths.
var classifyEdgeCases = []classifyCase{
	{"empty", "", Identity{Kind: KindRaw}},
	{"slashes only", "///", Identity{Kind: KindRaw}},
	{"trailing slash", "/system.slice/sshd.service/",
		Identity{Kind: KindSystemd, Name: "sshd.service", Unit: "sshd.service", UnitType: "service"}},
	{"no leading slash", "system.slice/docker-" + dockerID + ".scope",
		Identity{Kind: KindDocker, Role: RoleContainer, Runtime: "docker", ID: dockerID,
			Unit: "docker-" + dockerID + ".scope", UnitType: "scope"}},
	{"double slashes", "//docker//" + dockerID + "//",
		Identity{Kind: KindDocker, Role: RoleContainer, Runtime: "docker", ID: dockerID}},
	{"upper-case hex", "/system.slice/docker-" + strings.ToUpper(dockerID) + ".scope",
		Identity{Kind: KindSystemd, Name: "docker-" + strings.ToUpper(dockerID) + ".scope",
			Unit: "docker-" + strings.ToUpper(dockerID) + ".scope", UnitType: "scope"}},
	{"63 hex digits", "/system.slice/docker-" + dockerID[1:] + ".scope",
		Identity{Kind: KindSystemd, Name: "docker-" + dockerID[1:] + ".scope",
			Unit: "docker-" + dockerID[1:] + ".scope", UnitType: "scope"}},
	{"65 hex digits", "/docker/" + dockerID + "0", Identity{Kind: KindDocker, Runtime: "docker"}},
	{"non-hex id", "/machine.slice/libpod-" + strings.Repeat("g", 64) + ".scope",
		Identity{Kind: KindSystemd, Name: "libpod-" + strings.Repeat("g", 64) + ".scope",
			Unit: "libpod-" + strings.Repeat("g", 64) + ".scope", UnitType: "scope"}},
	{"docker non-hex child", "/docker/foo", Identity{Kind: KindDocker, Runtime: "docker"}},
	{"empty lxc payload name", "/lxc.payload.", Identity{Kind: KindRaw}},
	{"bare suffix", "/.service", Identity{Kind: KindRaw}},
	{"not a unit suffix", "/system.slice/foo.services", Identity{Kind: KindRaw}},
	{"machine scope without name", "/machine.slice/machine-.scope",
		Identity{Kind: KindSystemd, Name: "machine-.scope", Unit: "machine-.scope", UnitType: "scope"}},
	{"qemu machine without vm name", `/machine.slice/machine-qemu\x2d1\x2d.scope`,
		Identity{Kind: KindNspawn, Role: RoleContainer, Runtime: "nspawn", ID: "qemu-1-", Name: "qemu-1-",
			Unit: `machine-qemu\x2d1\x2d.scope`, UnitType: "scope"}},
	{"bad escape kept", `/system.slice/a\x2.service`,
		Identity{Kind: KindSystemd, Name: `a\x2.service`, Unit: `a\x2.service`, UnitType: "service"}},
	{"pod uid too short", "/kubepods/burstable/pod1234",
		Identity{Kind: KindKubernetes}},
	{"pod uid bad dashes", "/kubepods/burstable/pod73dc8baf43a0-413e-aac2-5eb0868f6c1a-",
		Identity{Kind: KindKubernetes}},
	{"pod child not a container", "/kubepods/burstable/pod" + podUID3 + "/foo",
		Identity{Kind: KindKubernetes, ID: podUID3}},
	{"container in container: outer wins", "/docker/" + dockerID + "/docker/" + cgfsID,
		Identity{Kind: KindDocker, Runtime: "docker", ID: dockerID}},
	{"podman pod slice bad id", "/machine.slice/machine-libpod_pod_xyz.slice",
		Identity{Kind: KindSystemd, Name: "machine-libpod_pod_xyz.slice", Unit: "machine-libpod_pod_xyz.slice", UnitType: "slice"}},
	{"nspawn supervisor child", "/machine.slice/systemd-nspawn@debian.service/supervisor/x",
		Identity{Kind: KindNspawn, Runtime: "nspawn", ID: "debian", Name: "debian"}},
	{"very long", "/" + strings.Repeat("a/", 5000) + "sshd.service",
		Identity{Kind: KindSystemd, Name: "sshd.service", Unit: "sshd.service", UnitType: "service"}},
	{"very long element", "/" + strings.Repeat("x", 1<<16),
		Identity{Kind: KindRaw}},
}

func TestClassify(t *testing.T) {
	for _, group := range []struct {
		name  string
		cases []classifyCase
	}{{"real", classifyCases}, {"edge", classifyEdgeCases}} {
		t.Run(group.name, func(t *testing.T) {
			for _, tc := range group.cases {
				t.Run(tc.name, func(t *testing.T) {
					got := Classify(tc.path)
					if diff := cmp.Diff(tc.want, got); diff != "" {
						t.Errorf("Classify(%.120q) mismatch (-want +got):\n%s", tc.path, diff)
					}
				})
			}
		})
	}
}

// Classify allocates only to unescape names and to rewrite pod UIDs.
func TestClassifyAllocs(t *testing.T) {
	for _, path := range []string{
		"/system.slice/sshd.service",
		"/system.slice/docker-" + dockerID + ".scope",
		"/lxc.payload.web1/init.scope",
		"/machine.slice/libpod-" + podmanID + ".scope/container",
		"/kubepods/burstable/pod" + podUID3 + "/" + cgfsID,
	} {
		if n := testing.AllocsPerRun(100, func() { Classify(path) }); n != 0 {
			t.Errorf("Classify(%q) allocates %v times, want 0", path, n)
		}
	}
}

func TestIsContainer(t *testing.T) {
	for path, want := range map[string]bool{
		"/docker/" + dockerID:                 true,
		"/docker/" + dockerID + "/init.scope": false,
		"/lxc.monitor.web1":                   false,
		burstablePod:                          false,
		"/system.slice/sshd.service":          false,
	} {
		if got := Classify(path).IsContainer(); got != want {
			t.Errorf("Classify(%q).IsContainer() = %v, want %v", path, got, want)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"plain":                    "plain",
		`qemu\x2d1\x2dvm`:          "qemu-1-vm",
		`a\x2fb`:                   "a/b",
		`trailing\x2`:              `trailing\x2`,
		`\x`:                       `\x`,
		`\xZZ`:                     `\xZZ`,
		`\x2D`:                     `\x2D`, // systemd escapes in lower case only
		`\\x2d`:                    `\-`,
		`dev-disk-by\x2duuid.swap`: "dev-disk-by-uuid.swap",
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzClassify(f *testing.F) {
	for _, tc := range classifyCases {
		f.Add(tc.path)
	}
	for _, tc := range classifyEdgeCases {
		if len(tc.path) < 1000 {
			f.Add(tc.path)
		}
	}
	f.Fuzz(func(t *testing.T, path string) {
		got := Classify(path)
		if again := Classify(path); again != got {
			t.Fatalf("Classify(%q) not deterministic: %+v then %+v", path, got, again)
		}
		if got.Kind == "" {
			t.Fatalf("Classify(%q) has no Kind", path)
		}
		if fromPath(path, got.ID) == false {
			t.Errorf("Classify(%q).ID = %q, not from the path", path, got.ID)
		}
		if fromPath(path, got.Name) == false {
			t.Errorf("Classify(%q).Name = %q, not from the path", path, got.Name)
		}
		if got.Unit != "" && !strings.HasSuffix(path, got.Unit) && !strings.Contains(path, got.Unit+"/") {
			t.Errorf("Classify(%q).Unit = %q, not the last element", path, got.Unit)
		}
		if (got.Unit == "") != (got.UnitType == "") {
			t.Errorf("Classify(%q): Unit %q with UnitType %q", path, got.Unit, got.UnitType)
		}
		if got.Role == RoleContainer && got.ID == "" {
			t.Errorf("Classify(%q): a container without an ID", path)
		}
		// Slashes around the path do not matter.
		if again := Classify("/" + path + "/"); again != got {
			t.Errorf("Classify(%q) = %+v, but with slashes around %+v", path, got, again)
		}
	})
}

// fromPath reports whether s is in path as it is, unescaped, or as a pod UID
// with its underscores turned into dashes.
func fromPath(path, s string) bool {
	return s == "" || strings.Contains(path, s) || strings.Contains(unescape(path), s) ||
		strings.Contains(strings.ReplaceAll(path, "_", "-"), s)
}
