package identity

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzz targets for the parsers of the runtimes' files the resolver reads:
// Proxmox's VMID.conf, containers/storage's containers.json and Docker's
// config.v2.json. Each corpus starts from every such file under
// testdata/root (real layouts, bob's broken store included) plus a few
// hand-made broken inputs.

// seedFiles adds to f every file under testdata/root whose name satisfies
// match, whole and cut in half (a file caught mid-write), then extra.
func seedFiles(f *testing.F, match func(name string) bool, extra ...string) {
	f.Helper()
	n := 0
	err := filepath.WalkDir("testdata/root", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !match(d.Name()) {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		n++
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	if n == 0 {
		f.Fatal("no seed file in testdata/root")
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

func FuzzParsePVEHostname(f *testing.F) {
	seedFiles(f, func(n string) bool { return strings.HasSuffix(n, ".conf") },
		"", "\n", "hostname:", "hostname:\n[x]\nhostname: y", "[pending]\nhostname: p\n",
		"hostname: a\x00b\r\n", " hostname:\tc \n", "#hostname: d\n", "\xff\xfehostname: e")
	f.Fuzz(func(t *testing.T, b []byte) {
		got := parsePVEHostname(b)
		if again := parsePVEHostname(b); again != got {
			t.Fatalf("not deterministic: %q then %q", got, again)
		}
		if strings.TrimSpace(got) != got || strings.ContainsAny(got, "\n") {
			t.Fatalf("parsePVEHostname(%q) = %q: surrounding blanks or a newline", b, got)
		}
		// The name is the value of a "hostname:" line of the current
		// configuration, so it is in the input, after such a key.
		if got != "" && !bytes.Contains(b, []byte("hostname:")) {
			t.Fatalf("parsePVEHostname(%q) = %q without a hostname: key", b, got)
		}
		if got != "" && !bytes.Contains(b, []byte(got)) {
			t.Fatalf("parsePVEHostname(%q) = %q, not from the input", b, got)
		}
		// A snapshot section after the current configuration never
		// changes the answer.
		snap := append(bytes.Clone(b), "\n[snap1]\nhostname: from-the-snapshot\n"...)
		if withSnap := parsePVEHostname(snap); withSnap != got {
			t.Fatalf("parsePVEHostname(%q) = %q, but %q with a snapshot section after it", b, got, withSnap)
		}
	})
}

func FuzzParseStorageContainers(f *testing.F) {
	seedFiles(f, func(n string) bool { return n == "containers.json" },
		"", "null", "[]", "[null]", `[{"id":"","names":["x"]}]`, `[{"id":"a","names":[""]}]`,
		`[{"id":"a","names":["x"]},{"id":"a","names":["y"]}]`, `[{"id":1}]`, `{"id":"a"}`, `[{"ID":"a","Names":["n"]}]`)
	f.Fuzz(func(t *testing.T, b []byte) {
		const keep = "kept-from-another-store"
		names := map[string]string{keep: "other"}
		err := parseStorageContainers(b, names)
		if err != nil {
			// A broken file adds nothing: the names of the other stores
			// stay as they were.
			if len(names) != 1 || names[keep] != "other" {
				t.Fatalf("parseStorageContainers(%q) failed (%v) but changed names: %v", b, err, names)
			}
			return
		}
		var list []storageContainer
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatalf("parseStorageContainers(%q) accepted what encoding/json rejects: %v", b, err)
		}
		want := map[string]string{keep: "other"}
		for _, c := range list {
			if c.ID != "" && len(c.Names) > 0 {
				want[c.ID] = c.Names[0]
			}
		}
		for id, name := range names {
			if id == "" {
				t.Fatalf("parseStorageContainers(%q) added an empty ID", b)
			}
			if want[id] != name {
				t.Fatalf("parseStorageContainers(%q): %q = %q, want %q", b, id, name, want[id])
			}
		}
		if len(names) != len(want) {
			t.Fatalf("parseStorageContainers(%q) = %v, want %v", b, names, want)
		}
	})
}

func FuzzParseDockerName(f *testing.F) {
	seedFiles(f, func(n string) bool { return n == "config.v2.json" },
		"", "null", "{}", `{"Name":"/"}`, `{"Name":"//a"}`, `{"name":"/lower"}`, `{"Name":1}`, `{"Name":"/\u00e9\ud800"}`, `[]`)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := parseDockerName(b)
		if err != nil {
			if got != "" {
				t.Fatalf("parseDockerName(%q) = %q with error %v", b, got, err)
			}
			return
		}
		// Only the one leading slash Docker writes is taken off: the name
		// written back with it reads the same.
		again, err := json.Marshal(map[string]string{"Name": "/" + got})
		if err != nil {
			t.Fatal(err)
		}
		if name, err := parseDockerName(again); err != nil || name != got {
			t.Fatalf("parseDockerName(%q) = %q, but %q reads as %q, %v", b, got, again, name, err)
		}
	})
}
