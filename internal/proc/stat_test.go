package proc

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/cgroupfs"
)

func TestParseStatFiles(t *testing.T) {
	tests := []struct {
		pid   int
		check func(s Stat) bool
	}{
		{pidOdd, func(s Stat) bool {
			return s.Pid == 1580 && s.Comm == "(a b)c)" && s.Name() == "a b)c" && s.State == "S" && s.Ppid == 1 &&
				s.Tpgid == -1 && s.NumThreads == 1 && s.Starttime == 431972 && s.Vsize == 2990080 && s.Rss == 413 &&
				s.Rsslim == 18446744073709551615 && s.Wchan == 1 && s.ExitSignal == 17 && s.EnvEnd == 140733922017261
		}},
		{pidKthread, func(s Stat) bool {
			return s.Pid == 2 && s.Comm == "(kthreadd)" && s.Ppid == 0 && s.Vsize == 0 && s.Rss == 0 &&
				s.Sigignore == 18446744073709551615>>33 && s.Starttime == 25 && s.Flags == 2129984
		}},
		{pidZombie, func(s Stat) bool {
			return s.Pid == 1583 && s.Comm == "(sleep)" && s.State == "Z" && s.Ppid == 1581 && s.Vsize == 0 && s.Processor == 1
		}},
		{pidThreads, func(s Stat) bool {
			return s.Pid == 1642 && s.Comm == "(gothreads)" && s.NumThreads == 4 && s.Rss == 2581 && s.Vsize == 1256419328
		}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.pid), func(t *testing.T) {
			in := procFile(t, tt.pid, "stat")
			var got Stat
			if err := ParseStat(in, &got); err != nil {
				t.Fatal(err)
			}
			if !tt.check(got) {
				t.Errorf("ParseStat: %+v", got)
			}
			want, err := refStat(string(in))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("ParseStat against the reference parser (-want +got)\n%s", d)
			}
		})
	}
}

// refStat is a slow, obviously correct parser of a full 52-field stat
// line: it fills the fields of Stat in declaration order with strconv.
func refStat(line string) (Stat, error) {
	var s Stat
	line = strings.TrimSuffix(line, "\n")
	open, shut := strings.Index(line, " ("), strings.LastIndex(line, ")")
	if open < 0 || shut < open {
		return s, errors.New("no comm")
	}
	f := append([]string{line[:open], line[open+1 : shut+1]}, strings.Split(strings.TrimPrefix(line[shut+1:], " "), " ")...)
	v := reflect.ValueOf(&s).Elem()
	if len(f) != v.NumField() {
		return s, fmt.Errorf("%d fields, want %d", len(f), v.NumField())
	}
	for i := range f {
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String:
			fv.SetString(f[i])
		case reflect.Uint64:
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				return s, err
			}
			fv.SetUint(n)
		case reflect.Int64:
			n, err := strconv.ParseInt(f[i], 10, 64)
			if err != nil {
				return s, err
			}
			fv.SetInt(n)
		}
	}
	return s, nil
}

// statWith is "7 (x) R" and fields 4 to n numbered by position, with some
// fields (by proc(5) number) replaced.
func statWith(n int, repl map[int]string) string {
	var b strings.Builder
	b.WriteString("7 (x) R")
	for i := 4; i <= n; i++ {
		b.WriteString(" ")
		if r, ok := repl[i]; ok {
			b.WriteString(r)
		} else {
			b.WriteString(strconv.Itoa(i))
		}
	}
	return b.String()
}

// statLine is head (fields 1 to 3: pid, comm, state) and fields 4 to n
// numbered by position.
func statLine(head string, n int) string {
	var b strings.Builder
	b.WriteString(head)
	for i := 4; i <= n; i++ {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

func TestParseStatCases(t *testing.T) {
	check := func(name, in string, want error, fn func(t *testing.T, s Stat), msg ...string) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			t.Helper()
			s := Stat{Comm: "(stale)", Utime: 99, ExitCode: 7}
			err := ParseStat([]byte(in), &s)
			checkErr(t, err, want, msg...)
			if err == nil && fn != nil {
				fn(t, s)
			}
		})
	}
	check("comm with parentheses and spaces", statLine("7 ((a) (b) c) R", 52)+"\n", nil, func(t *testing.T, s Stat) {
		if s.Comm != "((a) (b) c)" || s.Name() != "(a) (b) c" || s.State != "R" || s.Ppid != 4 || s.ExitCode != 52 || s.Utime != 14 {
			t.Errorf("got %+v", s)
		}
	})
	check("empty comm", statLine("7 () R", 52), nil, func(t *testing.T, s Stat) {
		if s.Comm != "()" || s.Name() != "" {
			t.Errorf("comm %q name %q", s.Comm, s.Name())
		}
	})
	check("old kernel: 44 fields, the rest reset", statLine("7 (x) R", 44), nil, func(t *testing.T, s Stat) {
		if s.CguestTime != 44 || s.StartData != 0 || s.ExitCode != 0 || s.Utime != 14 {
			t.Errorf("got %+v", s)
		}
	})
	check("newer kernel: fields after 52 ignored", statLine("7 (x) R", 60), nil, func(t *testing.T, s Stat) {
		if s.ExitCode != 52 {
			t.Errorf("exit_code = %d", s.ExitCode)
		}
	})
	check("negative values", statWith(52, map[int]string{4: "-1", 8: "-5", 18: "-100", 19: "-20", 24: "-24", 38: "-1", 44: "-43", 52: "-9"}),
		nil, func(t *testing.T, s Stat) {
			if s.Ppid != -1 || s.Tpgid != -5 || s.Priority != -100 || s.Nice != -20 || s.Rss != -24 ||
				s.ExitSignal != -1 || s.CguestTime != -43 || s.ExitCode != -9 || s.Pgrp != 5 {
				t.Errorf("got %+v", s)
			}
		})
	check("43 fields", statLine("7 (x) R", 43), cgroupfs.ErrMissing, nil, "cguest_time")
	check("no fields after comm", "7 (x)", cgroupfs.ErrMissing, nil, "state")
	check("no parentheses", "7 x R 1", cgroupfs.ErrSyntax, nil, "comm")
	check("no space before comm", "7(x) R 1", cgroupfs.ErrSyntax, nil, "comm")
	check("no pid", "(x) R 1", cgroupfs.ErrSyntax, nil, "comm")
	check("bad pid", "-7 (x) R 1", cgroupfs.ErrSyntax, nil, "pid")
	check("long state", statLine("7 (x) RR", 52), cgroupfs.ErrSyntax, nil, "state")
	check("two spaces", strings.Replace(statLine("7 (x) R", 52), " 9 ", "  9 ", 1), cgroupfs.ErrSyntax, nil, "flags")
	check("trailing space", statLine("7 (x) R", 52)+" ", nil, nil)
	check("no space after comm", strings.Replace(statLine("7 (x) R", 52), ") R", ")R", 1), cgroupfs.ErrSyntax, nil, "comm")
	check("unsigned field negative", statWith(52, map[int]string{14: "-14"}), cgroupfs.ErrSyntax, nil, "utime")
	check("overflow", statWith(52, map[int]string{23: "18446744073709551616"}), cgroupfs.ErrRange, nil, "vsize")
	check("signed overflow", statWith(52, map[int]string{24: "9223372036854775808"}), cgroupfs.ErrRange, nil, "rss")
	check("signed minimum", statWith(52, map[int]string{24: "-9223372036854775808"}), nil, nil)
	check("CRLF", statLine("7 (x) R", 52)+"\r\n", cgroupfs.ErrSyntax, nil, "exit_code")
	check("empty", "", cgroupfs.ErrSyntax, nil)
}

// TestStatJSON checks the companion's "stat" shape: goprocinfo's keys in
// its order, comm in parentheses, numbers as numbers.
func TestStatJSON(t *testing.T) {
	var s Stat
	if err := ParseStat(procFile(t, pidOdd, "stat"), &s); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		isString := v[0] == '"'
		if isString != (k == "comm" || k == "state") {
			t.Errorf("%s = %s: wrong JSON type", k, v)
		}
	}
	if d := cmp.Diff(statNames[1:], keys); d != "" {
		t.Errorf("keys (-want +got)\n%s", d)
	}
	if !strings.Contains(string(b), `"comm":"(a b)c)"`) || !strings.Contains(string(b), `"rsslim":18446744073709551615`) {
		t.Errorf("JSON %s", b)
	}
}
