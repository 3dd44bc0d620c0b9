package host

import "github.com/cgmon/cgmon/internal/rootfs"

// keptFiles are per-device files (link speeds, error counters) kept open
// while their device exists: read this cycle, they stay; not read in a
// cycle, they are closed by sweep.
type keptFiles struct {
	root    rootfs.Root
	handles map[string]rootfs.Handle // nil value: the root cannot keep it open
	used    map[string]bool
	buf     []byte
}

func newKeptFiles(root rootfs.Root) *keptFiles {
	return &keptFiles{root: root, handles: make(map[string]rootfs.Handle), used: make(map[string]bool)}
}

// read returns the file's bytes, valid until the next read.
func (k *keptFiles) read(name string) ([]byte, error) {
	k.used[name] = true
	h, ok := k.handles[name]
	if !ok {
		var err error
		if h, err = k.root.Open(name); err != nil {
			if rootfs.IsGone(err) {
				return nil, err // no handle: tried again next cycle
			}
			h = nil
		}
		k.handles[name] = h
	}
	if h == nil {
		return k.root.ReadFile(name)
	}
	b, err := h.ReadAll(k.buf)
	if err != nil {
		if rootfs.IsGone(err) {
			h.Close()
			delete(k.handles, name)
		}
		return nil, err
	}
	k.buf = b[:0]
	return b, nil
}

// sweep closes the files not read since the last sweep.
func (k *keptFiles) sweep() {
	for name, h := range k.handles {
		if !k.used[name] {
			if h != nil {
				h.Close()
			}
			delete(k.handles, name)
		}
	}
	clear(k.used)
}

func (k *keptFiles) close() {
	clear(k.used)
	k.sweep()
}
