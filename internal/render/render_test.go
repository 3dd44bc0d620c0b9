package render

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/cgmon/cgmon/internal/model"
)

// cg is one cgroup of a test snapshot; negative values are absent.
func cg(path string, tasks int, cpu float64, mem int, io float64) model.Cgroup {
	c := model.Cgroup{Path: path}
	if tasks >= 0 {
		c.Tasks = model.Count{V: uint64(tasks), OK: true}
	}
	if cpu >= 0 {
		c.CPU.Percent = model.Float{V: cpu, OK: true}
	}
	if mem >= 0 {
		c.Memory.UsageBytes = model.Count{V: uint64(mem), OK: true}
	}
	if io >= 0 {
		c.IO.ReadBytesPerSecond = model.Float{V: io, OK: true}
		c.IO.WriteBytesPerSecond = model.Float{V: io / 2, OK: true}
	}
	return c
}

const longName = "docker-a5d7b9f06b349c74cc6ba5dab5855532c550cbc1d7bdfd73ff581be809c553c7.scope"

func testSnapshot() *model.Snapshot {
	docker := cg("/system.slice/"+longName, 3, 40, 300<<20, 10)
	docker.Container = &model.Container{Runtime: "docker", ID: "a5d7b9f06b349c74cc6ba5dab5855532c550cbc1d7bdfd73ff581be809c553c7", Name: "web"}
	lxc := cg("/lxc.payload.ünïcode", 7, -1, 50<<20, -1)
	lxc.Container = &model.Container{Runtime: "lxc", ID: "ünïcode"}
	return &model.Snapshot{
		Timestamp:  time.Date(2026, 12, 2, 16, 47, 21, 0, time.UTC),
		Hostname:   "host1",
		CgroupMode: "v2",
		Cgroups: []model.Cgroup{
			cg("/", 120, 150, 2<<30, 100),
			cg("/system.slice", 40, 60, 1<<30, 30),
			docker,
			cg("/system.slice/sshd.service", 1, 0.5, 5<<20, -1),
			cg("/user.slice", 80, 90, 700<<20, 70),
			lxc,
		},
	}
}

// paths returns the first column of a table's rows.
func paths(table string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(table, "\n"), "\n")[1:] {
		out = append(out, strings.Fields(line)[0])
	}
	return out
}

func TestRenderTableOrderLevelsLimit(t *testing.T) {
	d := "/system.slice/" + longName
	for _, tc := range []struct {
		name string
		opts TableOptions
		want []string
	}{
		{"cpu, absent last", TableOptions{Sort: SortCPU}, []string{"/", "/user.slice", "/system.slice", d, "/system.slice/sshd.service", "/lxc.payload.ünïcode"}},
		{"memory", TableOptions{Sort: SortMemory}, []string{"/", "/system.slice", "/user.slice", d, "/lxc.payload.ünïcode", "/system.slice/sshd.service"}},
		{"tasks", TableOptions{Sort: SortTasks}, []string{"/", "/user.slice", "/system.slice", "/lxc.payload.ünïcode", d, "/system.slice/sshd.service"}},
		{"io is read+write, absent last", TableOptions{Sort: SortIO}, []string{"/", "/user.slice", "/system.slice", d, "/lxc.payload.ünïcode", "/system.slice/sshd.service"}},
		{"path", TableOptions{Sort: SortPath}, []string{"/", "/lxc.payload.ünïcode", "/system.slice", d, "/system.slice/sshd.service", "/user.slice"}},
		{"levels 1: the root", TableOptions{Sort: SortCPU, Levels: 1}, []string{"/"}},
		{"levels 2", TableOptions{Sort: SortCPU, Levels: 2}, []string{"/", "/user.slice", "/system.slice", "/lxc.payload.ünïcode"}},
		{"limit after sort", TableOptions{Sort: SortMemory, Limit: 2}, []string{"/", "/system.slice"}},
		{"limit and levels", TableOptions{Sort: SortTasks, Levels: 2, Limit: 3}, []string{"/", "/user.slice", "/system.slice"}},
		{"limit above the rows", TableOptions{Sort: SortPath, Levels: 1, Limit: 10}, []string{"/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := Table(&b, testSnapshot(), tc.opts); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, paths(b.String())); d != "" {
				t.Errorf("rows (-want +got):\n%s\n%s", d, b.String())
			}
		})
	}
}

func TestRenderTableWidth(t *testing.T) {
	for _, width := range []int{20, 55, 60, 80, 200} {
		var b strings.Builder
		if err := Table(&b, testSnapshot(), TableOptions{Sort: SortPath, Width: width, Containers: true}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != 7 {
			t.Errorf("width %d: %d lines, want 7 (header and 6 rows)", width, len(lines))
		}
		for _, l := range lines {
			if n := utf8.RuneCountInString(l); n > width {
				t.Errorf("width %d: line of %d characters: %q", width, n, l)
			}
		}
		// Columns stay aligned whenever the numbers fit: every line ends at
		// the same place.
		if width >= minPathColumn+numericColumns {
			for _, l := range lines {
				if n := utf8.RuneCountInString(l); n != utf8.RuneCountInString(lines[0]) {
					t.Errorf("width %d: line of %d characters, header %d: %q", width, n, utf8.RuneCountInString(lines[0]), l)
				}
			}
		}
	}
	var b strings.Builder
	if err := Table(&b, testSnapshot(), TableOptions{Sort: SortPath, Width: 80, Containers: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n/system.slic…c553c7.scope [docker web]       3 ", "\n/lxc.payload.ünïcode [lxc ünïcode]           7 "} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("width 80: no %q in\n%s", want, b.String())
		}
	}
}

func TestRenderScreenLines(t *testing.T) {
	for _, tc := range []struct {
		width, height int
		wantLines     int
	}{
		{80, 24, 8},  // everything fits: status, header, 6 rows
		{80, 5, 5},   // status, header, 3 busiest rows
		{80, 2, 2},   // status and header
		{80, 1, 1},   // status only
		{10, 4, 4},   // narrower than any column
		{200, 3, 3},  // wide
		{45, 30, 8},  // the numbers do not fit: lines are cut
		{0, 0, 8},    // unknown size: no cut
		{120, 8, 8},  // exactly fits
		{61, 100, 8}, // the path column at its narrowest
	} {
		lines := ScreenLines(testSnapshot(), ScreenOptions{Table: TableOptions{Sort: SortCPU}, Width: tc.width, Height: tc.height, Status: "order cpu"})
		if len(lines) != tc.wantLines {
			t.Errorf("%dx%d: %d lines, want %d:\n%s", tc.width, tc.height, len(lines), tc.wantLines, strings.Join(lines, "\n"))
		}
		for _, l := range lines {
			if strings.ContainsAny(l, "\r\n") {
				t.Errorf("%dx%d: line with a line break: %q", tc.width, tc.height, l)
			}
			if n := utf8.RuneCountInString(l); tc.width > 0 && n > tc.width {
				t.Errorf("%dx%d: line of %d characters would wrap: %q", tc.width, tc.height, n, l)
			}
		}
		if tc.width >= 80 && tc.height >= 3 {
			if !strings.HasPrefix(lines[2], "/ ") {
				t.Errorf("%dx%d: first row %q, want the busiest, /", tc.width, tc.height, lines[2])
			}
		}
	}
	lines := ScreenLines(testSnapshot(), ScreenOptions{Table: TableOptions{Sort: SortCPU}, Width: 200, Height: 24, Status: "order cpu"})
	if want := "16:47:21  host1  cgroup v2  6 cgroups  order cpu"; lines[0] != want {
		t.Errorf("status line %q, want %q", lines[0], want)
	}
	if !strings.Contains(strings.Join(lines, "\n"), longName+" [docker web]") {
		t.Errorf("the docker cgroup has no container label:\n%s", strings.Join(lines, "\n"))
	}
}

func TestRenderDepth(t *testing.T) {
	for path, want := range map[string]int{"/": 0, "": 0, "/a": 1, "/a/b": 2, "/a/b/c/": 3} {
		if got := Depth(path); got != want {
			t.Errorf("Depth(%q) = %d, want %d", path, got, want)
		}
	}
}

func TestRenderEllipsize(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  string
	}{
		{"/short", 10, "/short"},
		{"/abcdefghij", 10, "/ab…efghij"},
		{"/äöüäöüäöü", 4, "/…öü"},
		{"/abc", 1, "/"},
	} {
		got := ellipsize(tc.in, tc.width)
		if got != tc.want || utf8.RuneCountInString(got) > tc.width {
			t.Errorf("ellipsize(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}
