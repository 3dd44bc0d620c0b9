package identity

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePVEHostname(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "arch: amd64\nhostname: web-ct\nmemory: 512\n", "web-ct"},
		{"description first", "#Web frontend\n#second line\nhostname: web\n", "web"},
		{"snapshot section ignored", "arch: amd64\n\n[snap1]\nhostname: old\n", ""},
		{"current before snapshot", "hostname: new\n[snap1]\nhostname: old\n", "new"},
		{"spaces", "hostname:   db01  \r\n", "db01"},
		{"no newline at end", "hostname: last", "last"},
		{"no hostname", "arch: amd64\nmemory: 512\n", ""},
		{"empty", "", ""},
		{"prefix only", "hostnames: x\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := parsePVEHostname([]byte(tc.in)); got != tc.want {
				t.Errorf("parsePVEHostname(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseStorageContainers(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"two", `[{"id":"a","names":["web","alias"]},{"id":"b","names":["db"],"metadata":"{}"}]`,
			map[string]string{"a": "web", "b": "db"}, false},
		{"no names", `[{"id":"a","names":[]},{"id":"b"}]`, map[string]string{}, false},
		{"empty list", `[]`, map[string]string{}, false},
		{"null", `null`, map[string]string{}, false},
		{"truncated", `[{"id":"a","names":["w`, map[string]string{}, true},
		{"not a list", `{"id":"a"}`, map[string]string{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			err := parseStorageContainers([]byte(tc.in), got)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDockerName(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{`{"ID":"x","Name":"/proxy-nginx-1"}`, "proxy-nginx-1", false},
		{`{"Name":"no-slash"}`, "no-slash", false},
		{`{"ID":"x"}`, "", false},
		{`{"Name":`, "", true},
		{``, "", true},
	}
	for _, tc := range tests {
		got, err := parseDockerName([]byte(tc.in))
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("parseDockerName(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
