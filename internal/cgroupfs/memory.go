package cgroupfs

import (
	"github.com/cgmon/cgmon/internal/sample"
)

// Indexes of the memory.stat values cgmon keeps.
const (
	statAnon = iota
	statFile
	statShmem
	statInactiveFile
	nStat
)

// ParseMemoryStat parses memory.stat into m.Anon, m.File, m.Shmem and
// m.InactiveFile, all in bytes.
//
// v2 (cgroup-v2.rst, "Memory Interface Files"): anon, file, shmem,
// inactive_file.
//
// v1 (Documentation/admin-guide/cgroup-v1/memory.rst, "5.2 stat file"): the
// hierarchical totals total_rss, total_cache, total_shmem,
// total_inactive_file; when a total_ key is absent, the cgroup's own rss,
// cache, shmem, inactive_file stand in for it.
//
// Only keys present set their field; others stay as they were. On error m is
// not changed.
func ParseMemoryStat(b []byte, v2 bool, m *sample.Memory) error {
	var total, own [nStat]sample.Value
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		key, val := keyValue(line)
		var dst *sample.Value
		if v2 {
			switch string(key) {
			case "anon":
				dst = &total[statAnon]
			case "file":
				dst = &total[statFile]
			case "shmem":
				dst = &total[statShmem]
			case "inactive_file":
				dst = &total[statInactiveFile]
			default:
				continue
			}
		} else {
			switch string(key) {
			case "total_rss":
				dst = &total[statAnon]
			case "total_cache":
				dst = &total[statFile]
			case "total_shmem":
				dst = &total[statShmem]
			case "total_inactive_file":
				dst = &total[statInactiveFile]
			case "rss":
				dst = &own[statAnon]
			case "cache":
				dst = &own[statFile]
			case "shmem":
				dst = &own[statShmem]
			case "inactive_file":
				dst = &own[statInactiveFile]
			default:
				continue
			}
		}
		n, err := atou(val)
		if err != nil {
			return newError(l.N, string(key), val, err)
		}
		*dst = sample.Some(n)
	}
	fields := [nStat]*sample.Value{&m.Anon, &m.File, &m.Shmem, &m.InactiveFile}
	for i, f := range fields {
		switch {
		case total[i].OK:
			*f = total[i]
		case own[i].OK:
			*f = own[i]
		}
	}
	return nil
}

// ParseMemoryEvents parses the cgroup v2 memory.events file (cgroup-v2.rst,
// "Memory Interface Files"): max -> m.Failcnt (times the usage hit
// memory.max), oom -> m.OOMEvents, oom_kill -> m.OOMKills. Only keys present
// set their field. On error m is not changed.
func ParseMemoryEvents(b []byte, m *sample.Memory) error {
	failcnt, events, kills := m.Failcnt, m.OOMEvents, m.OOMKills
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		key, val := keyValue(line)
		var dst *sample.Value
		switch string(key) {
		case "max":
			dst = &failcnt
		case "oom":
			dst = &events
		case "oom_kill":
			dst = &kills
		default:
			continue
		}
		n, err := atou(val)
		if err != nil {
			return newError(l.N, string(key), val, err)
		}
		*dst = sample.Some(n)
	}
	m.Failcnt, m.OOMEvents, m.OOMKills = failcnt, events, kills
	return nil
}

// ParseOOMControl parses the cgroup v1 memory.oom_control file
// (Documentation/admin-guide/cgroup-v1/memory.rst, "10. OOM Control"):
// oom_kill -> m.OOMKills. Kernels before 4.13 have no oom_kill line; then
// m.OOMKills stays as it was (absent). On error m is not changed.
func ParseOOMControl(b []byte, m *sample.Memory) error {
	kills := m.OOMKills
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		key, val := keyValue(line)
		if string(key) != "oom_kill" {
			continue
		}
		n, err := atou(val)
		if err != nil {
			return newError(l.N, string(key), val, err)
		}
		kills = sample.Some(n)
	}
	m.OOMKills = kills
	return nil
}
