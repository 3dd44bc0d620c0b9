package remote

import (
	"slices"
	"strconv"
	"strings"

	"github.com/cgmon/cgmon/internal/hostfs"
	"github.com/cgmon/cgmon/internal/rootfs"
)

// Request says what one fetch returns.
type Request struct {
	// Files are absolute names of regular files, or shell glob patterns
	// (* ? [..]) the remote shell expands: "/proc/stat",
	// "/sys/class/net/*/speed". A name that does not exist is left out.
	Files []string
	// Links are names or patterns of symbolic links whose targets are
	// returned ("/sys/class/net/*").
	Links []string
	// Trees are directory trees walked on the remote host (without
	// crossing into other filesystems): every directory is listed and, in
	// each, the files named in Names are returned.
	Trees []TreeSpec
	// Statfs adds statfs(2) of the real filesystems of the host's mount
	// table (Root.Statfs serves them), for the filesystem figures of the
	// USE report: one stat run over the mount point of each device in
	// /proc/self/mountinfo whose type hostfs.SkipFSType keeps, as
	// internal/host reads them locally.
	Statfs bool
}

// TreeSpec is one walked tree: a cgroup hierarchy and its plan's files.
type TreeSpec struct {
	Dir   string
	Names []string
}

// Script returns the POSIX sh script that prints req in the framing Parse
// reads, gzipped when the host has gzip (Decode undoes that). It runs a
// handful of processes whatever the number of files: head reads many files
// per run, and find batches them (-exec {} +).
func Script(req Request) string {
	var b strings.Builder
	n := strconv.Itoa(rootfs.MaxFileSize)
	b.WriteString("export LC_ALL=C\ncgmon_fetch() {\nprintf '\\000V1\\000'\n")
	if len(req.Files) > 0 {
		b.WriteString("set --\n")
		forEach(&b, "f", req.Files, `[ -f "$f" ] && set -- "$@" "$f"`)
		// /dev/null first: head prints headers only for more than one file.
		b.WriteString("printf '\\000B\\000'\n[ $# -eq 0 ] || head -c " + n + " -- /dev/null \"$@\"\n")
	}
	if len(req.Links) > 0 {
		forEach(&b, "l", req.Links, `[ -L "$l" ] && { printf '\000L%s\000' "$l"; readlink -- "$l"; printf '\000'; }`)
	}
	for _, t := range req.Trees {
		// One walk per tree: directories are printed as they are found,
		// files go to head in batches; each batch's output is framed
		// before the next starts, because find waits for each command.
		// No -exec inside parentheses: busybox find never runs a batched
		// -exec there.
		b.WriteString("find " + shellQuote(t.Dir) + " -xdev -type d -exec printf '\\000D%s\\000' {} +")
		if len(t.Names) > 0 {
			b.WriteString(" -o -type f \\(")
			for i, name := range t.Names {
				if i > 0 {
					b.WriteString(" -o")
				}
				b.WriteString(" -name " + shellQuote(escapeFindName(name)))
			}
			b.WriteString(" \\) -exec sh -c 'printf \"\\000B\\000\"; exec head -c " + n + " -- /dev/null \"$@\"' sh {} +")
		}
		b.WriteByte('\n')
	}
	if req.Statfs {
		b.WriteString(statfsScript("/proc/self/mountinfo"))
	}
	b.WriteString("printf '\\000E\\000'\n}\n")
	// Kernel text compresses about 7×; gzip is on nearly every host, and
	// the output says by its first bytes whether it is compressed.
	b.WriteString("if command -v gzip >/dev/null 2>&1; then cgmon_fetch | gzip -1; else cgmon_fetch; fi\n")
	return b.String()
}

// statfsFormat is what stat -f prints of each mount point, GNU coreutils
// and busybox alike: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail,
// f_files, f_ffree and the name as given, last because it may hold spaces.
const statfsFormat = "%s %S %b %f %a %c %d %n"

// statfsTimeout bounds the stat run, in seconds: the network filesystems
// whose statfs blocks on a dead server are left out, but a hung disk or a
// FUSE daemon can block it too, and the fetch must still end.
const statfsTimeout = "5"

// mountPointsAwk prints the mount point of the first mount of each device
// in a mountinfo file (proc(5)) whose type is not in SKIP, unescaped
// (\040 and the other \ooo escapes, as cgroupfs.ParseMountinfo decodes
// them), one a line: the mounts internal/host takes statfs of. A mount
// point with a newline (\012) cannot be one line and is left out, after
// its device is marked seen, as the local reader then finds no figures
// for it either. POSIX awk: mawk, gawk and busybox run it.
const mountPointsAwk = `function unescape(s,  out, i, c) {
	out = ""
	while ((i = index(s, "\\")) > 0) {
		c = substr(s, i + 1, 3)
		if (c ~ /^[0-3][0-7][0-7]$/) {
			out = out substr(s, 1, i - 1) sprintf("%c", substr(c, 1, 1) * 64 + substr(c, 2, 1) * 8 + substr(c, 3, 1))
			s = substr(s, i + 4)
		} else {
			out = out substr(s, 1, i)
			s = substr(s, i + 1)
		}
	}
	return out s
}
BEGIN { n = split(SKIP, t, " "); for (i = 1; i <= n; i++) skip[t[i]] = 1 }
{
	for (i = 7; i < NF && $i != "-"; i++) {}
	if (i >= NF || (unescape($(i + 1)) in skip) || ($3 in seen)) next
	seen[$3] = 1
	if ($5 ~ /\\(012|000)/) next
	print unescape($5)
}`

// statfsScript returns the script lines that print the statfs record of
// the mount points read from mountinfo. The names go to stat as arguments
// (IFS= read -r keeps every byte of a line); stat's errors (a mount point
// gone or not ours to enter) are dropped, and its line for that name with
// them. timeout, where the host has one that takes -s, kills a stat that
// hangs; a line it cut short has no newline and is not read.
func statfsScript(mountinfo string) string {
	prog := strings.Replace(mountPointsAwk, "SKIP", `"`+strings.Join(hostfs.SkippedFSTypes(), " ")+`"`, 1)
	return "printf '\\000S\\000'\n" +
		"cgmon_to=\ntimeout -s KILL " + statfsTimeout + " true >/dev/null 2>&1 && cgmon_to='timeout -s KILL " + statfsTimeout + "'\n" +
		"awk " + shellQuote(prog) + " " + shellQuote(mountinfo) + " 2>/dev/null | " +
		"{ set --; while IFS= read -r m; do set -- \"$@\" \"$m\"; done; " +
		"[ $# -eq 0 ] || $cgmon_to stat -f -c " + shellQuote(statfsFormat) + " -- \"$@\" 2>/dev/null; }\n"
}

// forEach writes a loop of body over the names the patterns expand to.
func forEach(b *strings.Builder, v string, patterns []string, body string) {
	b.WriteString("for " + v + " in")
	for _, p := range patterns {
		b.WriteString(" " + shellPattern(p))
	}
	b.WriteString("; do " + body + "; done\n")
}

// shellQuote quotes s as one literal word of sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shellPattern quotes s as one word of sh in which only *, ? and [...]
// keep their glob meaning.
func shellPattern(s string) string {
	var b strings.Builder
	lit := strings.Builder{}
	flush := func() {
		if lit.Len() > 0 {
			b.WriteString(shellQuote(lit.String()))
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '*', '?':
			flush()
			b.WriteByte(c)
		case '[':
			end := strings.IndexByte(s[i+1:], ']')
			class := ""
			if end > 0 {
				class = s[i+1 : i+1+end]
			}
			if class == "" || strings.ContainsAny(class, "'\\$`\"") {
				lit.WriteByte(c)
				continue
			}
			flush()
			b.WriteString("[" + class + "]")
			i += end + 1
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if b.Len() == 0 {
		return "''"
	}
	return b.String()
}

// escapeFindName makes a file name match itself in find -name.
func escapeFindName(name string) string {
	var b strings.Builder
	for _, c := range name {
		if c == '*' || c == '?' || c == '[' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// treesFromPlan groups plan files by hierarchy mount point.
func treesFromPlan(mounts []string, names [][]string) []TreeSpec {
	var out []TreeSpec
	for i, m := range mounts {
		n := slices.Clone(names[i])
		slices.Sort(n)
		out = append(out, TreeSpec{Dir: m, Names: slices.Compact(n)})
	}
	return out
}
