package proc

// AppendCmdline appends /proc/PID/cmdline (proc(5)) to dst as one line: the
// NUL-terminated arguments joined by single spaces. The trailing NULs are
// dropped; an empty argument stays an empty word between two spaces. A
// kernel thread or a zombie has no command line: nothing is appended. A
// process that rewrote its arguments (setproctitle) may leave no NUL at all;
// its text is kept as it is. It does not allocate when dst has room.
func AppendCmdline(dst, b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	for _, c := range b {
		if c == 0 {
			c = ' '
		}
		dst = append(dst, c)
	}
	return dst
}

// ParseCmdline is AppendCmdline into a new string.
func ParseCmdline(b []byte) string {
	var buf [256]byte
	return string(AppendCmdline(buf[:0], b))
}
