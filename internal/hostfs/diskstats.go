package hostfs

// Disk is one line of /proc/diskstats (Documentation/admin-guide/iostats.rst
// and Documentation/ABI/testing/procfs-diskstats). Counters are cumulative;
// times are milliseconds; sectors are 512 bytes whatever the device's block
// size.
type Disk struct {
	Major, Minor uint32
	Name         string

	ReadIOs, ReadMerges, ReadSectors, ReadTicks     uint64 // fields 1–4
	WriteIOs, WriteMerges, WriteSectors, WriteTicks uint64 // fields 5–8
	InFlight                                        uint64 // field 9: I/Os in progress now (a gauge)
	IOTicks                                         uint64 // field 10: ms during which at least one I/O was in progress (busy time)
	WeightedTicks                                   uint64 // field 11: ms spent doing I/Os, weighted by the number in progress (the queue's time integral)

	// Discards (kernel ≥ 4.18) and flushes (≥ 5.5); HasDiscard/HasFlush
	// say whether the kernel has them.
	DiscardIOs, DiscardMerges, DiscardSectors, DiscardTicks uint64
	FlushIOs, FlushTicks                                    uint64
	HasDiscard, HasFlush                                    bool
}

// ParseDiskstats parses /proc/diskstats into dst, reusing it (and the names
// in it, so a steady device list does not allocate). Lines have 14 fields
// (kernels before 4.18), 18 or 20; the 7-field partition lines of kernels
// before 2.6.25 are skipped.
func ParseDiskstats(b []byte, dst []Disk) ([]Disk, error) {
	out := dst[:0]
	var f [maxFields][]byte
	l := lines{Rest: b}
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		n := splitFields(line, &f)
		switch n {
		case 0, 7:
			continue
		case 14, 18, 20:
		default:
			return dst[:0], newError(l.N, "", line, ErrSyntax)
		}
		var d Disk
		maj, err := atou(f[0])
		if err == nil && maj > 1<<32-1 {
			err = ErrRange
		}
		if err != nil {
			return dst[:0], newError(l.N, "major", f[0], err)
		}
		min, err := atou(f[1])
		if err == nil && min > 1<<32-1 {
			err = ErrRange
		}
		if err != nil {
			return dst[:0], newError(l.N, "minor", f[1], err)
		}
		d.Major, d.Minor = uint32(maj), uint32(min)
		counters := [...]*uint64{&d.ReadIOs, &d.ReadMerges, &d.ReadSectors, &d.ReadTicks,
			&d.WriteIOs, &d.WriteMerges, &d.WriteSectors, &d.WriteTicks,
			&d.InFlight, &d.IOTicks, &d.WeightedTicks,
			&d.DiscardIOs, &d.DiscardMerges, &d.DiscardSectors, &d.DiscardTicks,
			&d.FlushIOs, &d.FlushTicks}
		for i := 3; i < n; i++ {
			v, err := atou(f[i])
			if err != nil {
				return dst[:0], newError(l.N, string(f[2]), f[i], err)
			}
			*counters[i-3] = v
		}
		d.HasDiscard, d.HasFlush = n >= 18, n >= 20
		if k := len(out); k < cap(out) && out[:k+1][k].Name == string(f[2]) {
			d.Name = out[:k+1][k].Name
		} else {
			d.Name = string(f[2])
		}
		out = append(out, d)
	}
	return out, nil
}
