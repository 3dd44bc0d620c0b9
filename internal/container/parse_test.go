package container_test

import (
	"testing"

	"github.com/cgmon/cgmon/internal/container"
	"github.com/cgmon/cgmon/internal/kerntext"
	"github.com/cgmon/cgmon/internal/kerntext/kerntexttest"
)

func TestParseNamespace(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		err  error
	}{
		{"net:[4026531833]", 4026531833, nil}, // readlink /proc/self/ns/net on this host
		{"net:[4026532182]", 4026532182, nil}, // an LXC container's
		{"mnt:[4026531833]", 0, kerntext.ErrSyntax},
		{"net:4026531833", 0, kerntext.ErrSyntax},
		{"net:[]", 0, kerntext.ErrSyntax},
		{"net:[12x]", 0, kerntext.ErrSyntax},
		{"net:[99999999999999999999]", 0, kerntext.ErrRange},
		{"", 0, kerntext.ErrSyntax},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := container.ParseNamespace([]byte(tc.in), "net")
			kerntexttest.CheckErr(t, err, tc.err)
			if got != tc.want {
				t.Errorf("ParseNamespace(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseFrozen(t *testing.T) {
	for in, want := range map[string]bool{"THAWED\n": false, "FROZEN\n": true, "FREEZING\n": true, "0\n": false, "1\n": true} {
		got, err := container.ParseFrozen([]byte(in))
		if err != nil || got != want {
			t.Errorf("ParseFrozen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	_, err := container.ParseFrozen([]byte("thawed"))
	kerntexttest.CheckErr(t, err, kerntext.ErrSyntax)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("net:[4026531833]"))
	f.Add([]byte("FROZEN\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := container.ParseNamespace(b, "net")
		kerntexttest.CheckParseError(t, err)
		_, err = container.ParseFrozen(b)
		kerntexttest.CheckParseError(t, err)
	})
}
