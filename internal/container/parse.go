package container

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/kerntext"
)

// ParseNamespace returns the inode of a namespace link's target as
// readlink(2) gives it for /proc/PID/ns/TYPE: "net:[4026531833]"
// (namespaces(7)). kind is the type before the colon ("net").
func ParseNamespace(link []byte, kind string) (uint64, error) {
	rest, ok := bytes.CutPrefix(link, []byte(kind))
	if !ok {
		return 0, kerntext.NewError(0, kind, link, kerntext.ErrSyntax)
	}
	rest, ok = bytes.CutPrefix(rest, []byte(":["))
	if !ok || len(rest) < 2 || rest[len(rest)-1] != ']' {
		return 0, kerntext.NewError(0, kind, link, kerntext.ErrSyntax)
	}
	n, err := kerntext.Atou(rest[:len(rest)-1])
	if err != nil {
		return 0, kerntext.NewError(0, kind, link, err)
	}
	return n, nil
}

// ParseFrozen reads a freezer file: v1 freezer.state ("THAWED", "FREEZING",
// "FROZEN") or v2 cgroup.freeze ("0", "1"). A cgroup being frozen counts as
// frozen: its tasks no longer run.
func ParseFrozen(b []byte) (bool, error) {
	switch string(bytes.TrimSpace(b)) {
	case "FROZEN", "FREEZING", "1":
		return true, nil
	case "THAWED", "0":
		return false, nil
	}
	return false, kerntext.NewError(0, "freezer", b, kerntext.ErrSyntax)
}
