package delivery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The spool keeps points that could not be sent on disk, so that an agent
// restarted during an outage still delivers them.
//
// It is a directory of append-only segment files named seg-<seq>.spool,
// oldest (lowest seq) first. A segment is a sequence of records:
//
//	uint32 LE  payload length
//	uint32 LE  CRC-32C of the payload
//	payload    points, each a uvarint length and the point's bytes
//
// Each record is written with one write(2) and fsync(2)ed before append
// returns; a new segment file is fsynced into its directory. A crash can
// leave only a torn or unsynced last record: its length or checksum does not
// match, and it and everything after it in that segment are skipped with a
// warning, never a crash. A segment is only read once it is sealed (no more
// appends) and is deleted once every point in it has been sent, so a crash
// in between sends some points twice: InfluxDB keeps one point per series
// and timestamp, so a duplicate overwrites itself.

const (
	spoolSuffix    = ".spool"
	spoolPrefix    = "seg-"
	recordHeader   = 8
	maxRecordBytes = 1 << 30
	minSegmentSize = 4 << 10
	maxSegmentSize = 4 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type segment struct {
	seq     uint64
	path    string
	bytes   int64 // valid bytes
	points  int   // points in valid records
	reading bool  // loaded by the sender: not dropped for space
}

type spool struct {
	dir      string
	maxBytes int64
	segMax   int64
	log      *slog.Logger

	segs    []*segment // oldest first; the last is active when active != nil
	active  *os.File   // the segment being appended to, nil when sealed
	nextSeq uint64
	bytes   int64
	points  int
	rec     []byte // reused record buffer
	lock    *os.File
}

// openSpool opens (creating) dir and indexes the segments a previous run
// left. Torn tails are logged and skipped.
func openSpool(dir string, maxBytes int64, log *slog.Logger) (*spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	// One process per spool: two would send and delete each other's
	// segments. The kernel drops the lock when the process dies.
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("spool: %s is in use by another process (%w)", dir, err)
	}
	s := &spool{dir: dir, maxBytes: maxBytes, log: log, nextSeq: 1, lock: lock}
	s.segMax = min(max(maxBytes/8, minSegmentSize), maxSegmentSize)
	ents, err := os.ReadDir(dir)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, spoolPrefix) || !strings.HasSuffix(name, spoolSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, spoolPrefix), spoolSuffix), 10, 64)
		if err != nil {
			continue
		}
		seg := &segment{seq: seq, path: filepath.Join(dir, name)}
		b, err := os.ReadFile(seg.path)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("spool: %w", err)
		}
		_, valid, n := decodeSegment(nil, b)
		if valid < int64(len(b)) {
			log.Warn("spool: torn or corrupt tail skipped (an earlier crash)", "file", seg.path,
				"valid_bytes", valid, "skipped_bytes", int64(len(b))-valid)
		}
		seg.bytes, seg.points = valid, n
		if n == 0 {
			os.Remove(seg.path)
			continue
		}
		s.segs = append(s.segs, seg)
		s.bytes += seg.bytes
		s.points += seg.points
		s.nextSeq = max(s.nextSeq, seq+1)
	}
	slices.SortFunc(s.segs, func(a, b *segment) int {
		if a.seq < b.seq {
			return -1
		}
		return 1
	})
	return s, nil
}

// decodeSegment appends the points of b's valid records to dst and returns
// them, the length of the valid prefix and the number of points.
func decodeSegment(dst [][]byte, b []byte) ([][]byte, int64, int) {
	off, n := 0, 0
	for len(b)-off >= recordHeader {
		size := int(binary.LittleEndian.Uint32(b[off:]))
		sum := binary.LittleEndian.Uint32(b[off+4:])
		if size > maxRecordBytes || size > len(b)-off-recordHeader {
			break
		}
		payload := b[off+recordHeader : off+recordHeader+size]
		if crc32.Checksum(payload, crcTable) != sum {
			break
		}
		points, ok := decodePayload(dst, payload)
		if !ok {
			break
		}
		n += len(points) - len(dst)
		dst = points
		off += recordHeader + size
	}
	return dst, int64(off), n
}

func decodePayload(dst [][]byte, p []byte) ([][]byte, bool) {
	for len(p) > 0 {
		l, k := binary.Uvarint(p)
		if k <= 0 || l > uint64(len(p)-k) {
			return dst, false
		}
		dst = append(dst, p[k:k+int(l):k+int(l)])
		p = p[k+int(l):]
	}
	return dst, true
}

// append writes points as one record, fsynced, and then drops the oldest
// segments while the spool is over its size. It returns the number of
// points dropped for space.
func (s *spool) append(points [][]byte) (dropped int, err error) {
	if len(points) == 0 {
		return 0, nil
	}
	rec := append(s.rec[:0], make([]byte, recordHeader)...)
	for _, p := range points {
		rec = binary.AppendUvarint(rec, uint64(len(p)))
		rec = append(rec, p...)
	}
	s.rec = rec
	payload := rec[recordHeader:]
	binary.LittleEndian.PutUint32(rec, uint32(len(payload)))
	binary.LittleEndian.PutUint32(rec[4:], crc32.Checksum(payload, crcTable))

	if s.active != nil && s.segs[len(s.segs)-1].bytes+int64(len(rec)) > s.segMax {
		s.seal()
	}
	if s.active == nil {
		if err := s.create(); err != nil {
			return 0, err
		}
	}
	seg := s.segs[len(s.segs)-1]
	if _, err := s.active.Write(rec); err != nil {
		// A short write leaves a torn record that the next open skips;
		// seal so that nothing is appended after it.
		s.seal()
		return 0, fmt.Errorf("spool: write %s: %w", seg.path, err)
	}
	if err := s.active.Sync(); err != nil {
		s.seal()
		return 0, fmt.Errorf("spool: fsync %s: %w", seg.path, err)
	}
	seg.bytes += int64(len(rec))
	seg.points += len(points)
	s.bytes += int64(len(rec))
	s.points += len(points)
	return s.trim(), nil
}

func (s *spool) create() error {
	path := filepath.Join(s.dir, spoolPrefix+fmt.Sprintf("%020d", s.nextSeq)+spoolSuffix)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	s.active = f
	s.segs = append(s.segs, &segment{seq: s.nextSeq, path: path})
	s.nextSeq++
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool: fsync %s: %w", dir, err)
	}
	return nil
}

// seal ends appends to the active segment.
func (s *spool) seal() {
	if s.active == nil {
		return
	}
	s.active.Close()
	s.active = nil
	if seg := s.segs[len(s.segs)-1]; seg.points == 0 {
		os.Remove(seg.path)
		s.segs = s.segs[:len(s.segs)-1]
	}
}

// trim drops the oldest segments, except one being read and the active
// one, while the spool is larger than maxBytes.
func (s *spool) trim() int {
	dropped := 0
	for i := 0; s.bytes > s.maxBytes && i < len(s.segs); {
		seg := s.segs[i]
		if seg.reading || (s.active != nil && i == len(s.segs)-1) {
			i++
			continue
		}
		os.Remove(seg.path)
		s.bytes -= seg.bytes
		s.points -= seg.points
		dropped += seg.points
		s.segs = slices.Delete(s.segs, i, i+1)
	}
	return dropped
}

// empty reports whether no point is spooled.
func (s *spool) empty() bool { return len(s.segs) == 0 }

// readHead seals the oldest segment if it is the active one, and returns
// its points.
func (s *spool) readHead() (*segment, [][]byte, error) {
	if len(s.segs) == 0 {
		return nil, nil, nil
	}
	if s.active != nil && len(s.segs) == 1 {
		s.seal()
		if len(s.segs) == 0 {
			return nil, nil, nil
		}
	}
	seg := s.segs[0]
	b, err := os.ReadFile(seg.path)
	if err != nil {
		// Unreadable: give it up rather than retry it forever.
		s.remove(seg)
		return seg, nil, fmt.Errorf("spool: %w", err)
	}
	points, _, _ := decodeSegment(nil, b[:min(int64(len(b)), seg.bytes)])
	seg.reading = true
	return seg, points, nil
}

// remove deletes a segment whose points were sent (or given up).
func (s *spool) remove(seg *segment) {
	i := slices.Index(s.segs, seg)
	if i < 0 {
		return
	}
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("spool: cannot remove a sent segment; its points may be sent again", "file", seg.path, "err", err)
	}
	s.bytes -= seg.bytes
	s.points -= seg.points
	s.segs = slices.Delete(s.segs, i, i+1)
}

// close seals the active segment and lets another process have the spool.
func (s *spool) close() {
	s.seal()
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}
