package hostfs

import (
	"bytes"

	"github.com/cgmon/cgmon/internal/sample"
)

// ParseMachineChecks returns the machine check exceptions counted in
// /proc/interrupts, summed over the CPUs: the "MCE:" line, which x86
// kernels built with CONFIG_X86_MCE print as
//
//	MCE:          0          0   Machine check exceptions
//
// The result is absent when the line is not there (other architectures, a
// kernel without MCE support, many virtual machines). Corrected errors that
// the kernel finds by polling ("MCP:", Machine check polls) are not counted:
// the poll count grows on a healthy machine too.
func ParseMachineChecks(b []byte) (sample.Value, error) {
	l := lines{Rest: b}
	cpus := -1
	for line, ok := l.Next(); ok; line, ok = l.Next() {
		if cpus < 0 {
			// The header names the online CPUs: "CPU0 CPU1 ...".
			cpus = bytes.Count(line, []byte("CPU"))
			continue
		}
		trimmed := bytes.TrimLeft(line, " ")
		if !bytes.HasPrefix(trimmed, []byte("MCE:")) {
			continue
		}
		rest := trimmed[len("MCE:"):]
		var sum uint64
		for i := 0; i < cpus; i++ {
			var v []byte
			v, rest = nextField(rest)
			n, err := atou(v)
			if err != nil {
				return sample.Value{}, newError(l.N, "MCE", v, err)
			}
			if sum+n < sum {
				return sample.Value{}, newError(l.N, "MCE", v, ErrRange)
			}
			sum += n
		}
		if cpus == 0 {
			return sample.Value{}, newError(l.N, "MCE", line, ErrSyntax)
		}
		return some(sum), nil
	}
	return sample.Value{}, nil
}
