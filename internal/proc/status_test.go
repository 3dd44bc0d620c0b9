package proc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

func TestParseStatusFiles(t *testing.T) {
	for _, pid := range fixturePIDs {
		t.Run(strconv.Itoa(pid), func(t *testing.T) {
			in := procFile(t, pid, "status")
			var s Status
			if err := ParseStatus(in, &s); err != nil {
				t.Fatal(err)
			}
			// Every line, in the kernel's order, key up to ":" and the
			// value without its blanks.
			var want []StatusField
			for _, line := range strings.Split(strings.TrimSuffix(string(in), "\n"), "\n") {
				k, v, _ := strings.Cut(line, ":")
				want = append(want, StatusField{k, strings.Trim(v, " \t")})
			}
			if d := cmp.Diff(want, s.Fields()); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			if s.Len() != len(want) {
				t.Errorf("Len() = %d, want %d", s.Len(), len(want))
			}
			i := 0
			for k, v := range s.All() {
				if string(k) != want[i].Key || string(v) != want[i].Value {
					t.Errorf("All()[%d] = %q, %q; want %+v", i, k, v, want[i])
				}
				i++
			}
			if v, ok := s.Lookup("Pid"); !ok || string(v) != strconv.Itoa(pid) {
				t.Errorf("Lookup(Pid) = %q, %v", v, ok)
			}
			if ids, ok := s.UIDs(); !ok || ids != [4]uint64{} {
				t.Errorf("UIDs() = %v, %v", ids, ok)
			}
		})
	}
	var s Status
	if err := ParseStatus(procFile(t, pidOdd, "status"), &s); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Lookup("Name"); string(v) != "a b)c" {
		t.Errorf("Name = %q", v)
	}
	if v, _ := s.Lookup("Groups"); string(v) != "" {
		t.Errorf("Groups = %q, want empty", v)
	}
	if _, ok := s.Lookup("VmRSS"); !ok {
		t.Error("no VmRSS")
	}
	if _, ok := s.Lookup("Nope"); ok {
		t.Error("Lookup found a key that is not there")
	}
}

func TestParseStatusCases(t *testing.T) {
	check := func(name, in string, want error, fields []StatusField, msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			var s Status
			_ = ParseStatus([]byte("Stale:\t1\n"), &s)
			err := ParseStatus([]byte(in), &s)
			checkErr(t, err, want, msg...)
			if err == nil {
				if d := cmp.Diff(fields, s.Fields(), cmp.Comparer(func(a, b []StatusField) bool {
					return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b)
				})); d != "" {
					t.Errorf("(-want +got)\n%s", d)
				}
			} else if s.Len() != 0 {
				t.Errorf("%d fields after an error", s.Len())
			}
		})
	}
	check("colon in the value", "Name:\ta:b\nState:\tR (running)", nil, []StatusField{{"Name", "a:b"}, {"State", "R (running)"}})
	check("blank lines and blanks", "\nA:  x y \t\n\nB:\n", nil, []StatusField{{"A", "x y"}, {"B", ""}})
	check("empty", "", nil, nil)
	check("unknown keys kept", "Futurekey:\t42\n", nil, []StatusField{{"Futurekey", "42"}})
	check("no colon", "Name:\tx\nbroken line\n", cgroupfs.ErrSyntax, nil, "line 2")
	check("empty key", ":\tx\n", cgroupfs.ErrSyntax, nil, "line 1")
}

func TestStatusIDs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want [4]uint64
		ok   bool
	}{
		{"Uid:\t1000\t1001\t1002\t1003\nGid:\t5\t6\t7\t8\n", [4]uint64{1000, 1001, 1002, 1003}, true},
		{"Uid:\t1\t2\t3\n", [4]uint64{}, false},
		{"Uid:\t1\t2\t3\t4\t5\n", [4]uint64{}, false},
		{"Uid:\t1\t2\t-3\t4\n", [4]uint64{}, false},
		{"Uid:\t4294967296\t2\t3\t4\n", [4]uint64{}, false},
		{"Gid:\t1\t2\t3\t4\n", [4]uint64{}, false},
	} {
		var s Status
		if err := ParseStatus([]byte(tt.in), &s); err != nil {
			t.Fatal(err)
		}
		if got, ok := s.UIDs(); got != tt.want || ok != tt.ok {
			t.Errorf("UIDs of %q = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	var s Status
	_ = ParseStatus([]byte("Uid:\t1\t2\t3\t4\nGid:\t5\t6\t7\t8\n"), &s)
	if g, ok := s.GIDs(); !ok || g != [4]uint64{5, 6, 7, 8} {
		t.Errorf("GIDs() = %v, %v", g, ok)
	}
}

func TestStatusBytes(t *testing.T) {
	var s Status
	if err := ParseStatus(procFile(t, pidThreads, "status"), &s); err != nil {
		t.Fatal(err)
	}
	if n, ok := s.Bytes("VmRSS"); !ok || n != 10452*1024 {
		t.Errorf("Bytes(VmRSS) = %d, %v", n, ok)
	}
	for _, in := range []string{"VmRSS:\t1 MB\n", "VmRSS:\t1\n", "VmRSS:\tx kB\n", "VmRSS:\t1 kB x\n", "VmRSS:\t18014398509481984 kB\n", "Other:\t1 kB\n"} {
		if err := ParseStatus([]byte(in), &s); err != nil {
			t.Fatal(err)
		}
		if n, ok := s.Bytes("VmRSS"); ok {
			t.Errorf("Bytes(VmRSS) of %q = %d", in, n)
		}
	}
}

func TestStatusCompanionFiles(t *testing.T) {
	var s Status
	if err := ParseStatus(procFile(t, pidThreads, "status"), &s); err != nil {
		t.Fatal(err)
	}
	got, err := s.Companion()
	if err != nil {
		t.Fatal(err)
	}
	mems := make([]uint32, 32)
	mems[31] = 1
	want := CompanionStatus{
		Name: "gothreads", State: "S (sleeping)", Tgid: 1642, Pid: 1642, PPid: 1, FDSize: 256,
		Groups: []int64{}, VmPeak: 1226972, VmSize: 1226972, VmHWM: 10452, VmRSS: 10452, VmData: 48920,
		VmStk: 132, VmExe: 552, VmLib: 8, VmPTE: 104, Threads: 4, SigQLimit: 96365, SigIgn: 2,
		SigCgt: 0xfffffffd7fc1fefd, CapPrm: 0x1fffeffffff, CapEff: 0x1fffeffffff, CapBnd: 0x1fffeffffff,
		CpusAllowed: []uint32{3}, MemsAllowed: mems, VoluntaryCtxtSwitches: 16, NonvoluntaryCtxtSwitches: 8,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}

	// Every fixture converts; a kernel thread and a zombie have no Vm*.
	for _, pid := range fixturePIDs {
		if err := ParseStatus(procFile(t, pid, "status"), &s); err != nil {
			t.Fatal(err)
		}
		c, err := s.Companion()
		if err != nil {
			t.Fatalf("%d: %v", pid, err)
		}
		if c.Pid != uint64(pid) || c.Groups == nil || len(c.CpusAllowed) != 1 {
			t.Errorf("%d: %+v", pid, c)
		}
		if (pid == pidKthread || pid == pidZombie) != (c.VmSize == 0) {
			t.Errorf("%d: VmSize %d", pid, c.VmSize)
		}
	}
}

func TestStatusCompanionCases(t *testing.T) {
	check := func(name, in string, want error, fn func(t *testing.T, c CompanionStatus), msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			var s Status
			if err := ParseStatus([]byte(in), &s); err != nil {
				t.Fatal(err)
			}
			c, err := s.Companion()
			checkErr(t, err, want, msg...)
			if err == nil && fn != nil {
				fn(t, c)
			}
		})
	}
	check("absent keys are 0 and null", "Name:\tx\n", nil, func(t *testing.T, c CompanionStatus) {
		if c.Groups != nil || c.CpusAllowed != nil || c.VmRSS != 0 {
			t.Errorf("%+v", c)
		}
		b, _ := json.Marshal(c)
		if !bytes.Contains(b, []byte(`"Groups":null`)) || !bytes.Contains(b, []byte(`"VmRSS":0`)) {
			t.Errorf("%s", b)
		}
	})
	check("groups", "Groups:\t4 24 27 -1 \n", nil, func(t *testing.T, c CompanionStatus) {
		if !cmp.Equal(c.Groups, []int64{4, 24, 27, -1}) {
			t.Errorf("Groups %v", c.Groups)
		}
	})
	check("name with a colon", "Name:\ta:b\n", nil, func(t *testing.T, c CompanionStatus) {
		if c.Name != "a:b" {
			t.Errorf("Name %q", c.Name)
		}
	})
	check("uid not four fields is left 0", "Uid:\t1\t2\t3\n", nil, func(t *testing.T, c CompanionStatus) {
		if c.RealUid != 0 {
			t.Errorf("%+v", c)
		}
	})
	check("sigq without slash is left 0", "SigQ:\t5\n", nil, func(t *testing.T, c CompanionStatus) {
		if c.SigQLength != 0 || c.SigQLimit != 0 {
			t.Errorf("%+v", c)
		}
	})
	check("masks of many words", "Cpus_allowed:\tffffffff,FFFFFFFF,00000001\n", nil, func(t *testing.T, c CompanionStatus) {
		if !cmp.Equal(c.CpusAllowed, []uint32{0xffffffff, 0xffffffff, 1}) {
			t.Errorf("%v", c.CpusAllowed)
		}
	})
	check("mask word too wide", "Cpus_allowed:\t1ffffffff\n", cgroupfs.ErrRange, nil, "Cpus_allowed")
	check("empty mask word", "Mems_allowed:\t1,,2\n", cgroupfs.ErrSyntax, nil, "Mems_allowed")
	check("bad hex", "CapBnd:\t00000000a80425fg\n", cgroupfs.ErrSyntax, nil, "CapBnd")
	check("hex too wide", "SigCgt:\t10000000000000000\n", cgroupfs.ErrRange, nil, "SigCgt")
	check("vm without number", "VmRSS:\tkB\n", cgroupfs.ErrSyntax, nil, "VmRSS")
	check("empty vm", "VmRSS:\n", cgroupfs.ErrSyntax, nil, "VmRSS")
	check("seccomp out of range", "Seccomp:\t256\n", cgroupfs.ErrRange, nil, "Seccomp")
	check("bad pid", "Pid:\tx\n", cgroupfs.ErrSyntax, nil, "line 1", "Pid")
	check("negative ppid", "PPid:\t-1\n", nil, func(t *testing.T, c CompanionStatus) {
		if c.PPid != -1 {
			t.Errorf("PPid %d", c.PPid)
		}
	})
}

// companionKeys is goprocinfo's ProcessStatus field list, in order.
var companionKeys = []string{
	"Name", "State", "Tgid", "Pid", "PPid", "TracerPid", "RealUid", "EffectiveUid", "SavedSetUid",
	"FilesystemUid", "RealGid", "EffectiveGid", "SavedSetGid", "FilesystemGid", "FDSize", "Groups",
	"VmPeak", "VmSize", "VmLck", "VmHWM", "VmRSS", "VmData", "VmStk", "VmExe", "VmLib", "VmPTE",
	"VmSwap", "Threads", "SigQLength", "SigQLimit", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt",
	"CapInh", "CapPrm", "CapEff", "CapBnd", "Seccomp", "CpusAllowed", "MemsAllowed",
	"VoluntaryCtxtSwitches", "NonvoluntaryCtxtSwitches",
}

func TestCompanionStatusJSONKeys(t *testing.T) {
	var s Status
	if err := ParseStatus(procFile(t, pidOdd, "status"), &s); err != nil {
		t.Fatal(err)
	}
	c, err := s.Companion()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for dec.More() {
		k, _ := dec.Token()
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		switch k {
		case "Name", "State":
			if v[0] != '"' {
				t.Errorf("%s = %s, want a string", k, v)
			}
		case "Groups", "CpusAllowed", "MemsAllowed":
			if v[0] != '[' {
				t.Errorf("%s = %s, want an array", k, v)
			}
		default:
			if _, err := strconv.ParseUint(string(v), 10, 64); err != nil && k != "PPid" {
				t.Errorf("%s = %s, want a number", k, v)
			}
		}
	}
	if d := cmp.Diff(companionKeys, keys); d != "" {
		t.Errorf("keys (-want +got)\n%s", d)
	}
}
