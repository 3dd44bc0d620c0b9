package cgroupfs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMountinfo(t *testing.T) {
	// byID picks the mounts the test looks at, and checks the count.
	check := func(name string, in []byte, wantCount int, want map[int]Mount) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseMountinfo(in)
			checkErr(t, err, nil)
			if len(got) != wantCount {
				t.Errorf("got %d mounts, want %d", len(got), wantCount)
			}
			seen := map[int]Mount{}
			for _, m := range got {
				if _, ok := want[m.ID]; ok {
					seen[m.ID] = m
				}
			}
			if d := cmp.Diff(want, seen); d != "" {
				t.Errorf("ParseMountinfo (-want +got):\n%s", d)
			}
		})
	}
	check("hybrid host", testdata(t, "proc/mountinfo-hybrid"), 20, map[int]Mount{
		27: {ID: 27, Parent: 1, Major: 254, Minor: 0, Root: "/", MountPoint: "/", Options: "rw,relatime",
			FSType: "ext4", Source: "/dev/vda", SuperOptions: []string{"rw", "discard", "resv_strict", "resuid=65534", "resgid=65534"}},
		32: {ID: 32, Parent: 31, Major: 0, Minor: 29, Root: "/", MountPoint: "/sys/fs/cgroup/cpu", Options: "rw,relatime",
			FSType: "cgroup", Source: "cgroup", SuperOptions: []string{"rw", "cpu"}},
		40: {ID: 40, Parent: 31, Major: 0, Minor: 37, Root: "/", MountPoint: "/sys/fs/cgroup/systemd", Options: "rw,relatime",
			FSType: "cgroup", Source: "cgroup", SuperOptions: []string{"rw", "name=systemd"}},
		41: {ID: 41, Parent: 31, Major: 0, Minor: 38, Root: "/", MountPoint: "/sys/fs/cgroup/unified", Options: "rw,relatime",
			FSType: "cgroup2", Source: "cgroup2", SuperOptions: []string{"rw"}},
	})
	// A private mount namespace with shared/master propagation (optional
	// fields) and names with space, tab, newline, backslash and ':'.
	src := "src with space"
	check("escapes and optional fields", testdata(t, "proc/mountinfo-escapes"), 26, map[int]Mount{
		57: {ID: 57, Parent: 47, Major: 0, Minor: 38, Root: "/", MountPoint: "/sys/fs/cgroup/unified", Options: "rw,relatime",
			FSType: "cgroup2", Source: "cgroup2", SuperOptions: []string{"rw"}},
		63: {ID: 63, Parent: 43, Major: 0, Minor: 39, Root: "/", MountPoint: "/tmp/mi/dir with space", Options: "rw,relatime",
			FSType: "tmpfs", Source: src, SuperOptions: []string{"rw", "size=1024k", "mode=700"}},
		64: {ID: 64, Parent: 43, Major: 0, Minor: 40, Root: "/", MountPoint: "/tmp/mi/tab\tdir", Options: "rw,relatime",
			FSType: "tmpfs", Source: "tabsrc", SuperOptions: []string{"rw", "size=1024k"}},
		65: {ID: 65, Parent: 43, Major: 0, Minor: 41, Root: "/", MountPoint: `/tmp/mi/back\slash`, Options: "rw,relatime",
			FSType: "tmpfs", Source: `bs\src`, SuperOptions: []string{"rw", "size=1024k"}},
		66: {ID: 66, Parent: 43, Major: 0, Minor: 42, Root: "/", MountPoint: "/tmp/mi/nl\ndir", Options: "rw,relatime",
			FSType: "tmpfs", Source: "tmpfs", SuperOptions: []string{"rw"}},
		67: {ID: 67, Parent: 43, Major: 0, Minor: 39, Root: "/sub:colon dir", MountPoint: "/tmp/mi/bind", Options: "ro,relatime",
			FSType: "tmpfs", Source: src, SuperOptions: []string{"rw", "size=1024k", "mode=700"}},
		68: {ID: 68, Parent: 43, Major: 0, Minor: 39, Root: "/sub:colon dir", MountPoint: "/tmp/mi/slave", Options: "rw,relatime",
			FSType: "tmpfs", Source: src, SuperOptions: []string{"rw", "size=1024k", "mode=700"}},
	})
	check("proc(5) example", []byte("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n"), 1, map[int]Mount{
		36: {ID: 36, Parent: 35, Major: 98, Minor: 0, Root: "/mnt1", MountPoint: "/mnt2", Options: "rw,noatime",
			FSType: "ext3", Source: "/dev/root", SuperOptions: []string{"rw", "errors=continue"}},
	})
	check("empty source, escaped comma and = in super options, odd backslashes", []byte(
		`1 0 0:1 / /x rw shared:1 master:2 propagate_from:3 unbindable - cgroup  rw,release_agent=/a\054b\075c,x\9,y\`+"\n"), 1, map[int]Mount{
		1: {ID: 1, Parent: 0, Major: 0, Minor: 1, Root: "/", MountPoint: "/x", Options: "rw",
			FSType: "cgroup", Source: "", SuperOptions: []string{"rw", "release_agent=/a,b=c", `x\9`, `y\`}},
	})
	check("empty", nil, 0, map[int]Mount{})
	check("blank lines", []byte("\n\n"), 0, map[int]Mount{})

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseMountinfo([]byte(in))
			checkErr(t, err, want, msg...)
			if got != nil {
				t.Errorf("ParseMountinfo returned %d mounts with an error", len(got))
			}
		})
	}
	bad("garbage", "hello world\n", ErrMissing, "line 1: separator: missing")
	bad("truncated", "22 27 0:21 / /proc rw,relatime - proc proc\n", ErrSyntax, "line 1")
	bad("truncated before separator", "22 27 0:21 / /proc\n", ErrMissing, "separator")
	bad("separator too early", "22 27 0:21 / - proc proc rw\n", ErrMissing, "separator")
	bad("extra field", "22 27 0:21 / /proc rw - proc proc rw extra\n", ErrSyntax)
	bad("bad ID", "x 27 0:21 / /proc rw - proc proc rw\n", ErrSyntax, `mount ID: malformed "x"`)
	bad("negative parent", "22 -1 0:21 / /proc rw - proc proc rw\n", ErrSyntax, "parent ID")
	bad("huge ID", "99999999999999999999 1 0:21 / /proc rw - proc proc rw\n", ErrRange, "mount ID")
	bad("ID beyond int", "9223372036854775808 1 0:21 / /proc rw - proc proc rw\n", ErrRange, "mount ID")
	bad("bad device", "22 27 0-21 / /proc rw - proc proc rw\n", ErrSyntax, "device")
	bad("second line bad", "22 27 0:21 / /proc rw - proc proc rw\n23 x\n", ErrMissing, "line 2")
}

func TestParseMountinfoCRLF(t *testing.T) {
	// "\r" is not special: it ends up in the super options, as the bytes say.
	got, err := ParseMountinfo([]byte("22 27 0:21 / /proc rw - proc proc rw\r\n"))
	checkErr(t, err, nil)
	if d := cmp.Diff([]string{"rw\r"}, got[0].SuperOptions); d != "" {
		t.Errorf("SuperOptions (-want +got):\n%s", d)
	}
}

func TestParseProcCgroup(t *testing.T) {
	check := func(name string, in []byte, want []ProcCgroup) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseProcCgroup(in)
			checkErr(t, err, nil)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseProcCgroup (-want +got):\n%s", d)
			}
		})
	}
	// On this host cpu and cpuacct are separate hierarchies, not "cpu,cpuacct".
	check("hybrid host", testdata(t, "proc/cgroup-hybrid"), []ProcCgroup{
		{ID: 9, Controllers: []string{"name=systemd"}, Path: "/"},
		{ID: 8, Controllers: []string{"pids"}, Path: "/"},
		{ID: 7, Controllers: []string{"blkio"}, Path: "/"},
		{ID: 6, Controllers: []string{"freezer"}, Path: "/"},
		{ID: 5, Controllers: []string{"devices"}, Path: "/"},
		{ID: 4, Controllers: []string{"memory"}, Path: "/process_api/9263aa9e04f130fca7ccf06cc5380a87"},
		{ID: 3, Controllers: []string{"cpuset"}, Path: "/"},
		{ID: 2, Controllers: []string{"cpuacct"}, Path: "/"},
		{ID: 1, Controllers: []string{"cpu"}, Path: "/"},
		{ID: 0, Path: "/"},
	})
	parsetest := testdata(t, "proc/cgroup-parsetest")
	got, err := ParseProcCgroup(parsetest)
	checkErr(t, err, nil)
	if len(got) != 10 || got[1].Path[:len("/cgmon-parsetest-")] != "/cgmon-parsetest-" || got[1].Controllers[0] != "pids" {
		t.Errorf("parsetest: %+v", got)
	}
	check("v2 only", []byte("0::/system.slice/demo.service\n"), []ProcCgroup{{ID: 0, Path: "/system.slice/demo.service"}})
	check("v1 co-mounted", []byte("4:cpu,cpuacct:/docker/abc\n"), []ProcCgroup{{ID: 4, Controllers: []string{"cpu", "cpuacct"}, Path: "/docker/abc"}})
	check("path with colons", []byte("0::/machine.slice/a:b:c\n"), []ProcCgroup{{ID: 0, Path: "/machine.slice/a:b:c"}})
	check("deleted v2 cgroup", []byte("0::/gone (deleted)\n"), []ProcCgroup{{ID: 0, Path: "/gone (deleted)"}})
	check("cgroup namespace", []byte("0::/../../sibling\n"), []ProcCgroup{{ID: 0, Path: "/../../sibling"}})
	check("no final newline, blank lines", []byte("\n1:cpu:/\n\n0::/"), []ProcCgroup{{ID: 1, Controllers: []string{"cpu"}, Path: "/"}, {ID: 0, Path: "/"}})
	check("empty", nil, nil)

	bad := func(name, in string, want error, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			got, err := ParseProcCgroup([]byte(in))
			checkErr(t, err, want, msg...)
			if got != nil {
				t.Errorf("ParseProcCgroup returned %d entries with an error", len(got))
			}
		})
	}
	bad("garbage", "hello\n", ErrSyntax, `line 1: malformed "hello"`)
	bad("one colon", "0:/\n", ErrSyntax)
	bad("bad ID", "x::/\n", ErrSyntax, "hierarchy ID")
	bad("negative ID", "-1::/\n", ErrSyntax, "hierarchy ID")
	bad("huge ID", "99999999999999999999::/\n", ErrRange, "hierarchy ID")
	bad("second line bad", "0::/\nx\n", ErrSyntax, "line 2")
}

func TestParseUeventDevname(t *testing.T) {
	check := func(name string, in []byte, want string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if got := ParseUeventDevname(in); got != want {
				t.Errorf("ParseUeventDevname = %q, want %q", got, want)
			}
		})
	}
	check("vda", testdata(t, "sys/uevent-vda"), "vda")
	check("loop0", testdata(t, "sys/uevent-loop0"), "loop0")
	check("partition", []byte("MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\nPARTN=1\n"), "sda1")
	check("dm", []byte("MAJOR=253\nMINOR=0\nDEVNAME=dm-0\nDEVTYPE=disk\nDISKSEQ=1"), "dm-0")
	check("no DEVNAME", []byte("MAJOR=8\nMINOR=0\n"), "")
	check("empty", nil, "")
	check("garbage", []byte("\x00\xff\nDEVNAMEX=y\n"), "")
	check("last line without newline", []byte("MAJOR=8\nDEVNAME=nvme0n1"), "nvme0n1")
}
