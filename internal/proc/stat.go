package proc

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

// Stat is /proc/PID/stat: every field proc(5) lists, by its proc(5) name.
//
// Go types and JSON keys are those of github.com/c9s/goprocinfo's
// linux.ProcessStat (linux/process_stat.go at commit addaedaf1a9f), which
// cAdvisor-companion served as the "stat" object of its processes API; the
// JSON form of Stat is therefore the companion's, field for field and in the
// same order. As there, Comm keeps the parentheses the kernel writes around
// it ("(python)"); Name returns it without them. Signed fields are the ones
// the kernel prints with %d/%ld.
//
// Fields 45 to 52 (start_data … exit_code, Linux 3.3 and 3.5) are 0 on older
// kernels; proc(5) also shows some of them as 0 to a reader without ptrace
// rights over the process.
type Stat struct {
	Pid                 uint64 `json:"pid"`
	Comm                string `json:"comm"`
	State               string `json:"state"`
	Ppid                int64  `json:"ppid"`
	Pgrp                int64  `json:"pgrp"`
	Session             int64  `json:"session"`
	TtyNr               int64  `json:"tty_nr"`
	Tpgid               int64  `json:"tpgid"`
	Flags               uint64 `json:"flags"`
	Minflt              uint64 `json:"minflt"`
	Cminflt             uint64 `json:"cminflt"`
	Majflt              uint64 `json:"majflt"`
	Cmajflt             uint64 `json:"cmajflt"`
	Utime               uint64 `json:"utime"` // clock ticks (USER_HZ)
	Stime               uint64 `json:"stime"` // clock ticks
	Cutime              int64  `json:"cutime"`
	Cstime              int64  `json:"cstime"`
	Priority            int64  `json:"priority"`
	Nice                int64  `json:"nice"`
	NumThreads          int64  `json:"num_threads"`
	Itrealvalue         int64  `json:"itrealvalue"`
	Starttime           uint64 `json:"starttime"` // clock ticks after boot
	Vsize               uint64 `json:"vsize"`     // bytes
	Rss                 int64  `json:"rss"`       // pages
	Rsslim              uint64 `json:"rsslim"`    // bytes
	Startcode           uint64 `json:"startcode"`
	Endcode             uint64 `json:"endcode"`
	Startstack          uint64 `json:"startstack"`
	Kstkesp             uint64 `json:"kstkesp"`
	Kstkeip             uint64 `json:"kstkeip"`
	Signal              uint64 `json:"signal"`
	Blocked             uint64 `json:"blocked"`
	Sigignore           uint64 `json:"sigignore"`
	Sigcatch            uint64 `json:"sigcatch"`
	Wchan               uint64 `json:"wchan"`
	Nswap               uint64 `json:"nswap"`
	Cnswap              uint64 `json:"cnswap"`
	ExitSignal          int64  `json:"exit_signal"`
	Processor           int64  `json:"processor"`
	RtPriority          uint64 `json:"rt_priority"`
	Policy              uint64 `json:"policy"`
	DelayacctBlkioTicks uint64 `json:"delayacct_blkio_ticks"`
	GuestTime           uint64 `json:"guest_time"`
	CguestTime          int64  `json:"cguest_time"`
	StartData           uint64 `json:"start_data"`
	EndData             uint64 `json:"end_data"`
	StartBrk            uint64 `json:"start_brk"`
	ArgStart            uint64 `json:"arg_start"`
	ArgEnd              uint64 `json:"arg_end"`
	EnvStart            uint64 `json:"env_start"`
	EnvEnd              uint64 `json:"env_end"`
	ExitCode            int64  `json:"exit_code"`
}

// Name is the command name without the parentheses of Comm ("python").
func (s *Stat) Name() string {
	if len(s.Comm) >= 2 && s.Comm[0] == '(' && s.Comm[len(s.Comm)-1] == ')' {
		return s.Comm[1 : len(s.Comm)-1]
	}
	return s.Comm
}

// statNames are the proc(5) names of the fields, 1-based.
var statNames = [...]string{"",
	"pid", "comm", "state", "ppid", "pgrp", "session", "tty_nr", "tpgid", "flags",
	"minflt", "cminflt", "majflt", "cmajflt", "utime", "stime", "cutime", "cstime",
	"priority", "nice", "num_threads", "itrealvalue", "starttime", "vsize", "rss",
	"rsslim", "startcode", "endcode", "startstack", "kstkesp", "kstkeip", "signal",
	"blocked", "sigignore", "sigcatch", "wchan", "nswap", "cnswap", "exit_signal",
	"processor", "rt_priority", "policy", "delayacct_blkio_ticks", "guest_time",
	"cguest_time", "start_data", "end_data", "start_brk", "arg_start", "arg_end",
	"env_start", "env_end", "exit_code",
}

const (
	statFields    = len(statNames) - 1 // 52 since Linux 3.5
	statMinFields = 44                 // up to cguest_time: Linux 2.6.24
)

// field returns where numeric field i (4…52) goes: one of u and n is set.
func (s *Stat) field(i int) (u *uint64, n *int64) {
	switch i {
	case 4:
		return nil, &s.Ppid
	case 5:
		return nil, &s.Pgrp
	case 6:
		return nil, &s.Session
	case 7:
		return nil, &s.TtyNr
	case 8:
		return nil, &s.Tpgid
	case 9:
		return &s.Flags, nil
	case 10:
		return &s.Minflt, nil
	case 11:
		return &s.Cminflt, nil
	case 12:
		return &s.Majflt, nil
	case 13:
		return &s.Cmajflt, nil
	case 14:
		return &s.Utime, nil
	case 15:
		return &s.Stime, nil
	case 16:
		return nil, &s.Cutime
	case 17:
		return nil, &s.Cstime
	case 18:
		return nil, &s.Priority
	case 19:
		return nil, &s.Nice
	case 20:
		return nil, &s.NumThreads
	case 21:
		return nil, &s.Itrealvalue
	case 22:
		return &s.Starttime, nil
	case 23:
		return &s.Vsize, nil
	case 24:
		return nil, &s.Rss
	case 25:
		return &s.Rsslim, nil
	case 26:
		return &s.Startcode, nil
	case 27:
		return &s.Endcode, nil
	case 28:
		return &s.Startstack, nil
	case 29:
		return &s.Kstkesp, nil
	case 30:
		return &s.Kstkeip, nil
	case 31:
		return &s.Signal, nil
	case 32:
		return &s.Blocked, nil
	case 33:
		return &s.Sigignore, nil
	case 34:
		return &s.Sigcatch, nil
	case 35:
		return &s.Wchan, nil
	case 36:
		return &s.Nswap, nil
	case 37:
		return &s.Cnswap, nil
	case 38:
		return nil, &s.ExitSignal
	case 39:
		return nil, &s.Processor
	case 40:
		return &s.RtPriority, nil
	case 41:
		return &s.Policy, nil
	case 42:
		return &s.DelayacctBlkioTicks, nil
	case 43:
		return &s.GuestTime, nil
	case 44:
		return nil, &s.CguestTime
	case 45:
		return &s.StartData, nil
	case 46:
		return &s.EndData, nil
	case 47:
		return &s.StartBrk, nil
	case 48:
		return &s.ArgStart, nil
	case 49:
		return &s.ArgEnd, nil
	case 50:
		return &s.EnvStart, nil
	case 51:
		return &s.EnvEnd, nil
	case 52:
		return nil, &s.ExitCode
	}
	return nil, nil
}

// ParseStat parses /proc/PID/stat (proc(5); Documentation/filesystems/proc.rst,
// table 1-4) into s, replacing everything in it:
//
//	1580 (a b)c) S 1 1576 331 0 -1 4194304 126 0 …
//
// The command name may hold spaces and parentheses, so it runs from the
// first "(" to the last ")" of the line; the fields after it are separated
// by single spaces. Fields 1 to 44 are required; 45 to 52 are read when the
// kernel has them, and fields added after 52 are ignored. It does not
// allocate when s already holds the same command name. On error s is left
// zero.
func ParseStat(b []byte, s *Stat) error {
	if err := parseStat(b, s); err != nil {
		*s = Stat{}
		return err
	}
	return nil
}

func parseStat(b []byte, s *Stat) error {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	open := bytes.IndexByte(b, '(')
	shut := bytes.LastIndexByte(b, ')')
	if open < 1 || shut < open || b[open-1] != ' ' {
		return newError(0, "comm", b, cgroupfs.ErrSyntax)
	}
	pid, err := atou(b[:open-1])
	if err != nil {
		return newError(0, "pid", b[:open-1], err)
	}
	comm := b[open : shut+1]
	if string(comm) != s.Comm { // compared without allocating
		*s = Stat{Comm: string(comm)}
	} else {
		*s = Stat{Comm: s.Comm}
	}
	s.Pid = pid

	rest := b[shut+1:]
	i := 2
	for len(rest) > 0 && i < statFields {
		if rest[0] != ' ' {
			return newError(0, statNames[i], rest, cgroupfs.ErrSyntax)
		}
		rest = rest[1:]
		i++
		j := bytes.IndexByte(rest, ' ')
		if j < 0 {
			j = len(rest)
		}
		f := rest[:j]
		rest = rest[j:]
		if i == 3 {
			if len(f) != 1 {
				return newError(0, "state", f, cgroupfs.ErrSyntax)
			}
			s.State = string(f) // one byte: no allocation
			continue
		}
		u, n := s.field(i)
		if u != nil {
			v, err := atou(f)
			if err != nil {
				return newError(0, statNames[i], f, err)
			}
			*u = v
		} else {
			v, err := atoi(f)
			if err != nil {
				return newError(0, statNames[i], f, err)
			}
			*n = v
		}
	}
	if len(rest) > 0 && rest[0] != ' ' {
		return newError(0, statNames[i], rest, cgroupfs.ErrSyntax)
	}
	if i < statMinFields {
		return newError(0, statNames[i+1], nil, cgroupfs.ErrMissing)
	}
	return nil
}
