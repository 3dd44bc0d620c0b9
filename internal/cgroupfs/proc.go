package cgroupfs

import (
	"bytes"
	"strings"
)

// Mount is one line of /proc/PID/mountinfo.
type Mount struct {
	ID, Parent   int    // mount ID and parent mount ID
	Major, Minor uint32 // st_dev of files on this filesystem
	Root         string // the directory of the filesystem mounted here ("/" or a bind mount's subdirectory)
	MountPoint   string // relative to the process's root
	Options      string // per-mount options, "rw,relatime"
	FSType       string // "cgroup", "cgroup2", "ext4", ...
	Source       string // filesystem-specific; may be empty
	SuperOptions []string
}

// ParseMountinfo parses /proc/PID/mountinfo (proc(5), and
// Documentation/filesystems/proc.rst, "3.5 /proc/<pid>/mountinfo"):
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// The optional fields between the mount options and " - " vary in number and
// are skipped. The kernel writes space, tab, newline and backslash in Root,
// MountPoint and Source as octal escapes (\040 \011 \012 \134); those and any
// other \ooo escape are decoded there and in SuperOptions (where "," and "="
// in values show as \054 and \075). Empty lines are skipped.
func ParseMountinfo(b []byte) ([]Mount, error) {
	var mounts []Mount
	var f [][]byte
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if len(line) == 0 {
			continue
		}
		// Fields are separated by single spaces; an empty Source shows as
		// two spaces in a row and must stay an empty field.
		f = f[:0]
		for rest := line; ; {
			i := bytes.IndexByte(rest, ' ')
			if i < 0 {
				f = append(f, rest)
				break
			}
			f = append(f, rest[:i])
			rest = rest[i+1:]
		}
		sep := -1
		for i := 6; i < len(f); i++ {
			if string(f[i]) == "-" {
				sep = i
				break
			}
		}
		if sep < 0 {
			return nil, newError(l.N, "separator", line, ErrMissing)
		}
		if len(f) != sep+4 {
			return nil, newError(l.N, "", line, ErrSyntax)
		}
		var m Mount
		var err error
		if m.ID, err = atoi(f[0]); err != nil {
			return nil, newError(l.N, "mount ID", f[0], err)
		}
		if m.Parent, err = atoi(f[1]); err != nil {
			return nil, newError(l.N, "parent ID", f[1], err)
		}
		if m.Major, m.Minor, err = parseDevice(f[2]); err != nil {
			return nil, newError(l.N, "device", f[2], err)
		}
		m.Root = unescapeOctal(f[3])
		m.MountPoint = unescapeOctal(f[4])
		m.Options = string(f[5])
		m.FSType = unescapeOctal(f[sep+1])
		m.Source = unescapeOctal(f[sep+2])
		if len(f[sep+3]) > 0 {
			opts := bytes.Split(f[sep+3], []byte{','})
			m.SuperOptions = make([]string, len(opts))
			for i, o := range opts {
				m.SuperOptions[i] = unescapeOctal(o)
			}
		}
		mounts = append(mounts, m)
	}
	return mounts, nil
}

// atoi parses a non-negative decimal int.
func atoi(b []byte) (int, error) {
	n, err := atou(b)
	if err != nil {
		return 0, err
	}
	if n > uint64(^uint(0)>>1) {
		return 0, ErrRange
	}
	return int(n), nil
}

// unescapeOctal decodes the \ooo escapes the kernel's seq_file mangle() and
// seq_escape() write. A backslash not followed by three octal digits of a
// byte value is kept as it is.
func unescapeOctal(b []byte) string {
	i := bytes.IndexByte(b, '\\')
	if i < 0 {
		return string(b)
	}
	var s strings.Builder
	s.Grow(len(b))
	for i >= 0 {
		s.Write(b[:i])
		b = b[i:]
		if len(b) >= 4 && isOctal(b[1]) && isOctal(b[2]) && isOctal(b[3]) && b[1] <= '3' {
			s.WriteByte((b[1]-'0')<<6 | (b[2]-'0')<<3 | (b[3] - '0'))
			b = b[4:]
		} else {
			s.WriteByte('\\')
			b = b[1:]
		}
		i = bytes.IndexByte(b, '\\')
	}
	s.Write(b)
	return s.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// ProcCgroup is one line of /proc/PID/cgroup.
type ProcCgroup struct {
	ID          int      // hierarchy ID; 0 for the v2 unified hierarchy
	Controllers []string // "cpu", "cpuacct", "name=systemd"; empty for v2
	Path        string   // the cgroup, relative to the hierarchy's root (or to the reader's cgroup namespace root)
}

// ParseProcCgroup parses /proc/PID/cgroup (cgroups(7); cgroup-v2.rst,
// "Processes"): "ID:CONTROLLERS:PATH" per hierarchy, "0::PATH" for cgroup
// v2. Controllers are split at ","; a named v1 hierarchy shows as
// "name=systemd" and is kept as is. PATH is everything after the second ":",
// so it may itself contain ":". The kernel appends " (deleted)" to the path
// of a removed v2 cgroup; that is kept too.
func ParseProcCgroup(b []byte) ([]ProcCgroup, error) {
	var cgs []ProcCgroup
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if len(line) == 0 {
			continue
		}
		id, rest, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return nil, newError(l.N, "", line, ErrSyntax)
		}
		ctrls, path, ok := bytes.Cut(rest, []byte{':'})
		if !ok {
			return nil, newError(l.N, "", line, ErrSyntax)
		}
		var cg ProcCgroup
		var err error
		if cg.ID, err = atoi(id); err != nil {
			return nil, newError(l.N, "hierarchy ID", id, err)
		}
		if len(ctrls) > 0 {
			cg.Controllers = strings.Split(string(ctrls), ",")
		}
		cg.Path = string(path)
		cgs = append(cgs, cg)
	}
	return cgs, nil
}

// ParseUeventDevname returns the DEVNAME value of a block device's uevent
// file, /sys/dev/block/MAJ:MIN/uevent (Documentation/ABI/testing/sysfs-dev,
// lines "KEY=VALUE"): "vda" for 254:0. It returns "" when there is no
// DEVNAME line.
func ParseUeventDevname(b []byte) string {
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if v, ok := bytes.CutPrefix(line, []byte("DEVNAME=")); ok {
			return string(v)
		}
	}
	return ""
}
