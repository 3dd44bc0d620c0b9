package remote

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The fetch script's output is a sequence of records, each starting with a
// NUL byte and a tag; kernel text files never contain NUL, so NUL frames
// them exactly:
//
//	\0V1\0                 the format version, first
//	\0D<dir>\0             a directory (find -type d)
//	\0B\0<head output>     a batch of files, as head -c N /dev/null FILE... prints:
//	                       "==> NAME <==\n" CONTENT, and "\n" before every
//	                       header but the first; up to the next NUL
//	\0L<link>\0<target>\n\0 a symbolic link (readlink)
//	\0S\0<stat output>    statfs(2) of mount points (Request.Statfs), as
//	                       stat -f -c statfsFormat prints them: a line each,
//	                       up to the next NUL; a line that is not seven
//	                       numbers and an absolute name is skipped
//	\0E\0                  the end: output without it was cut short
//
// head prints no header for a file it cannot open, and a header with empty
// content for one it opens but cannot read (EINVAL from a virtual NIC's
// speed); such read errors are named on stderr and dropped (see
// dropUnreadable).

// ErrTruncated means the output ended before its end record: the
// connection or the remote shell died in the middle of a cycle.
var ErrTruncated = errors.New("remote output cut short (no end record)")

const (
	headerStart = "==> "
	headerEnd   = " <==\n"
)

// Tree is what one fetch returned: files, directories and links of the
// remote host, by absolute clean name. File contents alias the output.
type Tree struct {
	files map[string][]byte
	dirs  map[string][]dirEntry // sorted by name after finish
	links map[string]string
	// statfs are the figures of the mount points the fetch ran stat on.
	statfs map[string]unix.Statfs_t
	size   int // bytes of output
}

type dirEntry struct {
	name string
	kind entryKind
}

type entryKind uint8

const (
	kindFile entryKind = iota
	kindDir
	kindLink
)

func newTree(size int) *Tree {
	return &Tree{files: map[string][]byte{}, dirs: map[string][]dirEntry{}, links: map[string]string{}, statfs: map[string]unix.Statfs_t{}, size: size}
}

// Files returns the number of files in the tree.
func (t *Tree) Files() int { return len(t.files) }

// Size returns the bytes of output the tree was parsed from.
func (t *Tree) Size() int { return t.size }

// Decode returns the script's output as Parse reads it: gunzipped when it
// starts with gzip's magic bytes, else as it is. At most max bytes are
// accepted.
func Decode(out []byte, max int) ([]byte, error) {
	if len(out) < 2 || out[0] != 0x1f || out[1] != 0x8b {
		return out, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("remote output: %w", err)
	}
	var buf bytes.Buffer
	buf.Grow(8 * len(out))
	if _, err := buf.ReadFrom(io.LimitReader(zr, int64(max)+1)); err != nil {
		return nil, fmt.Errorf("remote output: gunzip: %w", err)
	}
	if buf.Len() > max {
		return nil, fmt.Errorf("remote output exceeds %d MiB", max>>20)
	}
	return buf.Bytes(), nil
}

// Parse reads the fetch script's output. It is pure: bytes in, a tree out.
func Parse(out []byte) (*Tree, error) {
	t := newTree(len(out))
	seen := map[string]entryKind{}
	if !bytes.HasPrefix(out, []byte("\x00V1\x00")) {
		return nil, fmt.Errorf("remote output: no version record (got %q)", prefix(out, 40))
	}
	rest := out[4:]
	ended := false
	for len(rest) > 0 && !ended {
		if rest[0] != 0 || len(rest) < 2 {
			return nil, fmt.Errorf("remote output: record does not start with NUL at %q", prefix(rest, 40))
		}
		tag := rest[1]
		rest = rest[2:]
		var field []byte
		var err error
		switch tag {
		case 'D':
			field, rest, err = cutNUL(rest)
			if err != nil {
				return nil, err
			}
			if name, ok := cleanAbs(string(field)); ok {
				t.add(seen, name, kindDir)
			}
		case 'L':
			var target []byte
			field, rest, err = cutNUL(rest)
			if err == nil {
				target, rest, err = cutNUL(rest)
			}
			if err != nil {
				return nil, err
			}
			if name, ok := cleanAbs(string(field)); ok {
				t.links[name] = string(bytes.TrimSuffix(target, []byte("\n")))
				t.add(seen, name, kindLink)
			}
		case 'B':
			if len(rest) == 0 || rest[0] != 0 {
				return nil, fmt.Errorf("remote output: batch record without its NUL at %q", prefix(rest, 40))
			}
			rest = rest[1:]
			end := bytes.IndexByte(rest, 0)
			if end < 0 {
				end = len(rest)
			}
			if err := t.parseBatch(seen, rest[:end]); err != nil {
				return nil, err
			}
			rest = rest[end:]
		case 'S':
			if len(rest) == 0 || rest[0] != 0 {
				return nil, fmt.Errorf("remote output: statfs record without its NUL at %q", prefix(rest, 40))
			}
			rest = rest[1:]
			end := bytes.IndexByte(rest, 0)
			if end < 0 {
				end = len(rest)
			}
			t.parseStatfs(rest[:end])
			rest = rest[end:]
		case 'E':
			if len(rest) == 0 || rest[0] != 0 {
				return nil, fmt.Errorf("remote output: end record without its NUL")
			}
			ended = true
		default:
			return nil, fmt.Errorf("remote output: unknown record tag %q", tag)
		}
	}
	if !ended {
		return nil, ErrTruncated
	}
	t.finish()
	return t, nil
}

// parseBatch splits the output of one head run into files.
func (t *Tree) parseBatch(seen map[string]entryKind, b []byte) error {
	if len(b) == 0 {
		return nil // every file of the batch vanished before head opened it
	}
	if !bytes.HasPrefix(b, []byte(headerStart)) {
		return fmt.Errorf("remote output: batch does not start with a head header: %q", prefix(b, 40))
	}
	for len(b) > 0 {
		// b starts with a header.
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 || !bytes.HasSuffix(b[:nl+1], []byte(headerEnd)) || nl+1 < len(headerStart)+len(headerEnd) {
			return fmt.Errorf("remote output: bad head header %q", prefix(b, 60))
		}
		name := string(b[len(headerStart) : nl+1-len(headerEnd)])
		b = b[nl+1:]
		content, next := cutContent(b)
		if clean, ok := cleanAbs(name); ok && clean != "/dev/null" {
			t.files[clean] = content
			t.add(seen, clean, kindFile)
		}
		b = next
	}
	return nil
}

// parseStatfs reads the lines stat -f -c statfsFormat printed. Only whole
// lines count: timeout may have killed stat in the middle of one. A line
// that does not parse is skipped: its mount point then has no figures, as
// one that stat could not read.
func (t *Tree) parseStatfs(b []byte) {
	for {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			return
		}
		line := string(b[:nl])
		b = b[nl+1:]
		var v [7]uint64
		ok := true
		for i := range v {
			var field string
			field, line, ok = strings.Cut(line, " ")
			if ok {
				v[i], ok = parseDecimal(field)
			}
			if !ok {
				break
			}
		}
		name, abs := cleanAbs(line)
		if !ok || !abs {
			continue
		}
		var st unix.Statfs_t
		setInt(&st.Bsize, v[0])
		setInt(&st.Frsize, v[1])
		setInt(&st.Blocks, v[2])
		setInt(&st.Bfree, v[3])
		setInt(&st.Bavail, v[4])
		setInt(&st.Files, v[5])
		setInt(&st.Ffree, v[6])
		t.statfs[name] = st
	}
}

// parseDecimal parses an unsigned decimal number of stat's output.
func parseDecimal(s string) (uint64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false // ParseUint would take "+1"; stat never prints it
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// setInt sets a field of unix.Statfs_t, whose integer types differ by
// architecture.
func setInt[T ~int32 | ~int64 | ~uint32 | ~uint64](p *T, v uint64) { *p = T(v) }

// cutContent returns a file's content and what follows it, which is empty
// or starts with the next header. A header is a line "==> /NAME <==" after
// a newline; head writes that newline before every header but the first.
func cutContent(b []byte) (content, rest []byte) {
	from := 0
	for {
		// Every name asked for is absolute: a header line starts "==> /".
		i := bytes.Index(b[from:], []byte("\n"+headerStart+"/"))
		if i < 0 {
			return b, nil
		}
		i += from
		line := b[i+1:]
		if nl := bytes.IndexByte(line, '\n'); nl >= 0 && bytes.HasSuffix(line[:nl+1], []byte(headerEnd)) &&
			nl+1 >= len(headerStart)+len(headerEnd) {
			return b[:i], b[i+1:]
		}
		from = i + 1
	}
}

func cutNUL(b []byte) (field, rest []byte, err error) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return nil, nil, ErrTruncated
	}
	return b[:i], b[i+1:], nil
}

// cleanAbs accepts an absolute name and cleans it; anything else is
// ignored (a remote shell could print anything).
func cleanAbs(name string) (string, bool) {
	if !strings.HasPrefix(name, "/") || strings.IndexByte(name, 0) >= 0 {
		return "", false
	}
	return path.Clean(name), true
}

// add records name and every directory above it in their parents'
// listings.
func (t *Tree) add(seen map[string]entryKind, name string, kind entryKind) {
	for name != "/" {
		old, ok := seen[name]
		if ok {
			if kind == kindDir || old == kind {
				return // known, and so are its parents
			}
			// A directory first implied by a file below it and then
			// listed as a link (/sys/class/net/eth0): keep the link.
			if old == kindDir && kind == kindLink {
				seen[name] = kind
				dir := path.Dir(name)
				for i := range t.dirs[dir] {
					if t.dirs[dir][i].name == path.Base(name) {
						t.dirs[dir][i].kind = kind
					}
				}
			}
			return
		}
		seen[name] = kind
		dir := path.Dir(name)
		t.dirs[dir] = append(t.dirs[dir], dirEntry{name: path.Base(name), kind: kind})
		if kind == kindDir {
			if _, ok := t.dirs[name]; !ok {
				t.dirs[name] = nil
			}
		}
		name, kind = dir, kindDir
	}
	if _, ok := t.dirs["/"]; !ok {
		t.dirs["/"] = nil
	}
}

func (t *Tree) finish() {
	for _, d := range t.dirs {
		slices.SortFunc(d, func(a, b dirEntry) int { return strings.Compare(a.name, b.name) })
	}
}

// dropUnreadable removes files that head opened but could not read: it
// printed their header and no content, and named them on stderr.
func (t *Tree) dropUnreadable(stderr []byte) {
	if len(stderr) == 0 {
		return
	}
	for name, content := range t.files {
		if len(content) == 0 && bytes.Contains(stderr, []byte(name)) {
			delete(t.files, name)
			// Its directory entry stays: the file exists, it just cannot
			// be read, as on the host itself.
		}
	}
}

func prefix(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
