package proc

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// CompanionStatus is /proc/PID/status in the shape cAdvisor-companion served
// as the "status" object of its processes API: the Go struct
// linux.ProcessStatus of github.com/c9s/goprocinfo, encoded by encoding/json
// with no tags, so the JSON keys are these Go field names in this order.
//
// Followed: linux/process_status.go of goprocinfo as kept in the forks
// echa/goprocinfo@49464edb78120ee03750189fd17f8c2075d1f01f and
// michalbiesek/goprocinfo@2023181de7cf6c3a65b0b12585a3811dcd17a6c7 (c9s's
// own file is the common base of both: the 44 fields below; echa adds
// RssAnon/RssFile/RssShmem and michalbiesek NSpid, neither of which
// cadvisor-companion's 2015 build had), and the companion's use of it in
// abulimov/cadvisor-companion@4bd14f1634f1b1a3e829d6186b938e6557174346
// process/process.go. Units and encodings are goprocinfo's:
//
//   - Vm* are the kernel's numbers in kB (the " kB" dropped), as numbers;
//   - SigPnd…SigCgt and Cap* are the hex masks as numbers (CapBnd
//     00000000a80425fb → 2818844155);
//   - CpusAllowed and MemsAllowed are the comma-separated 32-bit hex words of
//     Cpus_allowed and Mems_allowed, most significant first ("ffff" →
//     [65535]; "00000000,00000001" → [0, 1]);
//   - Groups is an array, [] for a process with no supplementary groups;
//   - SigQ "0/15424" is split into SigQLength and SigQLimit;
//   - a key the kernel does not print (Vm* of a kernel thread or a zombie)
//     is 0, and a slice whose key is missing is null.
//
// Keys goprocinfo did not know (Ngid, Umask, NSpid, RssAnon, CapAmb,
// NoNewPrivs, Cpus_allowed_list, …) are not added: the shape stays exactly
// the one the companion's clients were written against. Status keeps them
// all for native outputs.
type CompanionStatus struct {
	Name                     string
	State                    string
	Tgid                     uint64
	Pid                      uint64
	PPid                     int64
	TracerPid                uint64
	RealUid                  uint64
	EffectiveUid             uint64
	SavedSetUid              uint64
	FilesystemUid            uint64
	RealGid                  uint64
	EffectiveGid             uint64
	SavedSetGid              uint64
	FilesystemGid            uint64
	FDSize                   uint64
	Groups                   []int64
	VmPeak                   uint64
	VmSize                   uint64
	VmLck                    uint64
	VmHWM                    uint64
	VmRSS                    uint64
	VmData                   uint64
	VmStk                    uint64
	VmExe                    uint64
	VmLib                    uint64
	VmPTE                    uint64
	VmSwap                   uint64
	Threads                  uint64
	SigQLength               uint64
	SigQLimit                uint64
	SigPnd                   uint64
	ShdPnd                   uint64
	SigBlk                   uint64
	SigIgn                   uint64
	SigCgt                   uint64
	CapInh                   uint64
	CapPrm                   uint64
	CapEff                   uint64
	CapBnd                   uint64
	Seccomp                  uint8
	CpusAllowed              []uint32
	MemsAllowed              []uint32
	VoluntaryCtxtSwitches    uint64
	NonvoluntaryCtxtSwitches uint64
}

// Companion converts the status to cAdvisor-companion's shape. A value that
// goprocinfo would have failed to parse (a bad number, a bad hex mask) is an
// error here too; like goprocinfo, a Uid/Gid line without exactly four IDs
// and a SigQ without exactly one "/" are left at 0. Unlike goprocinfo, a
// value is everything after the first ":" of its line, so a process named
// "a:b" keeps its whole name.
func (s *Status) Companion() (CompanionStatus, error) {
	var c CompanionStatus
	for i := range s.fields {
		k, v := s.Field(i)
		if err := c.set(k, v); err != nil {
			return CompanionStatus{}, newError(i+1, string(k), v, err)
		}
	}
	return c, nil
}

func (c *CompanionStatus) set(k, v []byte) error {
	var err error
	switch string(k) {
	case "Name":
		c.Name = string(v)
	case "State":
		c.State = string(v)
	case "Tgid":
		c.Tgid, err = atou(v)
	case "Pid":
		c.Pid, err = atou(v)
	case "PPid":
		c.PPid, err = atoi(v)
	case "TracerPid":
		c.TracerPid, err = atou(v)
	case "Uid":
		return four(v, &c.RealUid, &c.EffectiveUid, &c.SavedSetUid, &c.FilesystemUid)
	case "Gid":
		return four(v, &c.RealGid, &c.EffectiveGid, &c.SavedSetGid, &c.FilesystemGid)
	case "FDSize":
		c.FDSize, err = atou(v)
	case "Groups":
		c.Groups = []int64{}
		for rest := v; ; {
			var f []byte
			if f, rest = nextField(rest); len(f) == 0 {
				break
			}
			g, err := atoi(f)
			if err != nil {
				return err
			}
			c.Groups = append(c.Groups, g)
		}
	case "VmPeak":
		c.VmPeak, err = kB(v)
	case "VmSize":
		c.VmSize, err = kB(v)
	case "VmLck":
		c.VmLck, err = kB(v)
	case "VmHWM":
		c.VmHWM, err = kB(v)
	case "VmRSS":
		c.VmRSS, err = kB(v)
	case "VmData":
		c.VmData, err = kB(v)
	case "VmStk":
		c.VmStk, err = kB(v)
	case "VmExe":
		c.VmExe, err = kB(v)
	case "VmLib":
		c.VmLib, err = kB(v)
	case "VmPTE":
		c.VmPTE, err = kB(v)
	case "VmSwap":
		c.VmSwap, err = kB(v)
	case "Threads":
		c.Threads, err = atou(v)
	case "SigQ":
		if n, lim, ok := bytes.Cut(v, []byte{'/'}); ok && bytes.IndexByte(lim, '/') < 0 {
			if c.SigQLength, err = atou(n); err != nil {
				return err
			}
			c.SigQLimit, err = atou(lim)
		}
	case "SigPnd":
		c.SigPnd, err = xtou(v, 64)
	case "ShdPnd":
		c.ShdPnd, err = xtou(v, 64)
	case "SigBlk":
		c.SigBlk, err = xtou(v, 64)
	case "SigIgn":
		c.SigIgn, err = xtou(v, 64)
	case "SigCgt":
		c.SigCgt, err = xtou(v, 64)
	case "CapInh":
		c.CapInh, err = xtou(v, 64)
	case "CapPrm":
		c.CapPrm, err = xtou(v, 64)
	case "CapEff":
		c.CapEff, err = xtou(v, 64)
	case "CapBnd":
		c.CapBnd, err = xtou(v, 64)
	case "Seccomp":
		var n uint64
		if n, err = atou(v); err == nil && n > 255 {
			err = cgroupfs.ErrRange
		}
		c.Seccomp = uint8(n)
	case "Cpus_allowed":
		c.CpusAllowed, err = maskWords(v)
	case "Mems_allowed":
		c.MemsAllowed, err = maskWords(v)
	case "voluntary_ctxt_switches":
		c.VoluntaryCtxtSwitches, err = atou(v)
	case "nonvoluntary_ctxt_switches":
		c.NonvoluntaryCtxtSwitches, err = atou(v)
	}
	return err
}

// four parses the four IDs of a Uid or Gid line; any other count leaves
// them 0, as goprocinfo did.
func four(v []byte, a, b, c, d *uint64) error {
	var f [4][]byte
	n := 0
	for rest := v; ; n++ {
		var x []byte
		if x, rest = nextField(rest); len(x) == 0 {
			break
		}
		if n < 4 {
			f[n] = x
		}
	}
	if n != 4 {
		return nil
	}
	for i, p := range [4]*uint64{a, b, c, d} {
		v, err := atou(f[i])
		if err != nil {
			return err
		}
		*p = v
	}
	return nil
}

// kB parses "1234 kB" (the number; goprocinfo kept the first field).
func kB(v []byte) (uint64, error) {
	f, _ := nextField(v)
	return atou(f)
}

// maskWords parses a cpumask or nodemask as printed by the kernel: 32-bit
// hex words separated by commas.
func maskWords(v []byte) ([]uint32, error) {
	out := make([]uint32, 0, bytes.Count(v, []byte{','})+1)
	for {
		w, rest, more := bytes.Cut(v, []byte{','})
		n, err := xtou(w, 32)
		if err != nil {
			return nil, err
		}
		out = append(out, uint32(n))
		if !more {
			return out, nil
		}
		v = rest
	}
}
