package remote

import (
	"io/fs"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cgmon/cgmon/internal/rootfs"
)

// Root is a rootfs.Root over the files of a remote host as the last fetch
// returned them: read-only and in memory. Handles are names, not copies: a
// handle opened in one cycle reads what the latest fetch returned, as a
// kept-open kernel file does. A name the fetch did not return is
// fs.ErrNotExist, so readers treat it as a file the kernel lacks.
type Root struct {
	name string
	tree atomic.Pointer[Tree]
}

// NewRoot returns an empty root named name ("ssh://root@db1:22").
func NewRoot(name string) *Root {
	r := &Root{name: name}
	r.tree.Store(newTree(0))
	return r
}

var _ rootfs.Statfser = (*Root)(nil)

// Swap makes t the files the root serves.
func (r *Root) Swap(t *Tree) { r.tree.Store(t) }

// Tree returns the files the root serves.
func (r *Root) Tree() *Tree { return r.tree.Load() }

// String implements rootfs.Root.
func (r *Root) String() string { return r.name }

func clean(op, name string) (string, error) {
	if !strings.HasPrefix(name, "/") || strings.IndexByte(name, 0) >= 0 {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return path.Clean(name), nil
}

// ReadFile implements rootfs.Root.
func (r *Root) ReadFile(name string) ([]byte, error) {
	b, err := r.read(name, "open")
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

func (r *Root) read(name, op string) ([]byte, error) {
	n, err := clean(op, name)
	if err != nil {
		return nil, err
	}
	b, ok := r.tree.Load().files[n]
	if !ok {
		return nil, &fs.PathError{Op: op, Path: r.name + n, Err: fs.ErrNotExist}
	}
	return b, nil
}

// Open implements rootfs.Root.
func (r *Root) Open(name string) (rootfs.Handle, error) {
	if _, err := r.read(name, "open"); err != nil {
		return nil, err
	}
	return &handle{root: r, name: path.Clean(name)}, nil
}

type handle struct {
	root *Root
	name string
}

// ReadAll reads the file as the latest fetch returned it; a file that
// fetch no longer had is gone (fs.ErrNotExist), as a removed cgroup's file.
func (h *handle) ReadAll(buf []byte) ([]byte, error) {
	b, err := h.root.read(h.name, "read")
	if err != nil {
		return buf[:0], err
	}
	return append(buf[:0], b...), nil
}

func (h *handle) Close() error { return nil }

// ReadDir implements rootfs.Root.
func (r *Root) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := clean("readdir", name)
	if err != nil {
		return nil, err
	}
	list, ok := r.tree.Load().dirs[n]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: r.name + n, Err: fs.ErrNotExist}
	}
	out := make([]fs.DirEntry, len(list))
	for i, e := range list {
		out[i] = entry(e)
	}
	return out, nil
}

// Readlink implements rootfs.Root.
func (r *Root) Readlink(name string) (string, error) {
	n, err := clean("readlink", name)
	if err != nil {
		return "", err
	}
	target, ok := r.tree.Load().links[n]
	if !ok {
		return "", &fs.PathError{Op: "readlink", Path: r.name + n, Err: fs.ErrNotExist}
	}
	return target, nil
}

// Statfs implements rootfs.Statfser with the figures the latest fetch
// returned (Request.Statfs): those of the mount points of the real
// filesystems in the host's mount table, the only names internal/host asks
// about. Any other name, and every name when the fetch had no statfs
// record, is fs.ErrNotExist, which the reader takes for a filesystem it
// cannot measure.
func (r *Root) Statfs(name string) (unix.Statfs_t, error) {
	n, err := clean("statfs", name)
	if err != nil {
		return unix.Statfs_t{}, err
	}
	st, ok := r.tree.Load().statfs[n]
	if !ok {
		return unix.Statfs_t{}, &fs.PathError{Op: "statfs", Path: r.name + n, Err: fs.ErrNotExist}
	}
	return st, nil
}

// entry is a fs.DirEntry of the tree.
type entry dirEntry

func (e entry) Name() string { return e.name }
func (e entry) IsDir() bool  { return e.kind == kindDir }
func (e entry) Type() fs.FileMode {
	switch e.kind {
	case kindDir:
		return fs.ModeDir
	case kindLink:
		return fs.ModeSymlink
	}
	return 0
}
func (e entry) Info() (fs.FileInfo, error) { return info(e), nil }

type info entry

func (i info) Name() string       { return i.name }
func (i info) Size() int64        { return 0 }
func (i info) Mode() fs.FileMode  { return entry(i).Type() | 0o444 }
func (i info) ModTime() time.Time { return time.Time{} }
func (i info) IsDir() bool        { return i.kind == kindDir }
func (i info) Sys() any           { return nil }
