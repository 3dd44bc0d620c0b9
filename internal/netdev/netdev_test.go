package netdev_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/kerntext"
	"github.com/cgmon/cgmon/internal/kerntext/kerntexttest"
	"github.com/cgmon/cgmon/internal/netdev"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []netdev.Interface
	}{
		{"host", []netdev.Interface{
			{Name: "lo", RxBytes: 4033058818, RxPackets: 138936, TxBytes: 4033058818, TxPackets: 138936},
			{Name: "ifb0"}, {Name: "ifb1"},
			{Name: "eth0", RxBytes: 478370867, RxPackets: 12039, TxBytes: 714058, TxPackets: 8175},
			{Name: "lxcbr0", RxBytes: 1164, RxPackets: 6, TxBytes: 2100, TxPackets: 18, TxDropped: 1},
			{Name: "vethLEb8Dy", RxBytes: 1248, RxPackets: 6, TxBytes: 2896, TxPackets: 28},
			{Name: "podman0", RxBytes: 656, RxPackets: 10, TxBytes: 984, TxPackets: 12},
			{Name: "veth0", RxBytes: 796, RxPackets: 10, TxBytes: 1780, TxPackets: 22},
			{Name: "br-93c8522bbdfd", TxBytes: 580, TxPackets: 6, TxDropped: 1},
			{Name: "vethc8d2421", TxBytes: 1376, TxPackets: 16},
		}},
		{"lxc", []netdev.Interface{{Name: "lo"}, {Name: "eth0", RxBytes: 2896, RxPackets: 28, TxBytes: 1248, TxPackets: 6}}},
		{"podman", []netdev.Interface{{Name: "lo"}, {Name: "eth0", RxBytes: 1780, RxPackets: 22, TxBytes: 796, TxPackets: 10}}},
		{"docker-none", []netdev.Interface{{Name: "lo"}}},
		{"errors", []netdev.Interface{{Name: "lo"}, {Name: "wlan0", RxBytes: 18446744073709551615, RxPackets: 2, RxErrors: 3, RxDropped: 4, TxBytes: 9, TxPackets: 10, TxErrors: 11, TxDropped: 12}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := netdev.Parse(nil, kerntexttest.Testdata(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     error
		msg      []string
	}{
		{"cut short", string(kerntexttest.Testdata(t, "broken-short")), kerntext.ErrMissing, []string{"line 4", "eth0"}},
		{"no colon", "eth0 1 2 3\n", kerntext.ErrSyntax, []string{"line 1"}},
		{"no name", " : 1 2\n", kerntext.ErrSyntax, []string{"interface"}},
		{"not a number", "eth0: 1 2 3 x 5 6 7 8 9 10 11 12 13 14 15 16\n", kerntext.ErrSyntax, []string{"eth0", `"x"`}},
		{"too large", "eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", kerntext.ErrRange, nil},
		{"too many", "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", kerntext.ErrSyntax, []string{`"17"`}},
		{"negative", "eth0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", kerntext.ErrSyntax, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := netdev.Parse(nil, []byte(tc.in))
			kerntexttest.CheckErr(t, err, tc.want, tc.msg...)
		})
	}
	t.Run("empty", func(t *testing.T) {
		got, err := netdev.Parse(nil, nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("Parse(empty) = %v, %v", got, err)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"host", "lxc", "podman", "docker-none", "errors", "broken-short"} {
		f.Add(kerntexttest.Testdata(f, name))
	}
	for _, s := range []string{"", ":", "|", "a:", "a: 1", "\n\n", "a:1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\t"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := netdev.Parse(nil, b)
		kerntexttest.CheckParseError(t, err)
		for _, i := range got {
			if i.Name == "" {
				t.Fatalf("interface with no name from %q", b)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	var dst []netdev.Interface
	kerntexttest.Bench(b, "host", func(in []byte) error {
		var err error
		dst, err = netdev.Parse(dst[:0], in)
		return err
	})
}
