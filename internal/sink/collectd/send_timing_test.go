package collectd

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/cgmon/cgmon/internal/model"
)

// BenchmarkSend1000 sends one snapshot of 1000 containers (2000 value
// lists) at each security level to a UDP socket nobody reads.
func BenchmarkSend1000(b *testing.B) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	snap := &model.Snapshot{Timestamp: t0, Hostname: "bench"}
	for i := range 1000 {
		id := strconv.Itoa(i)
		snap.Cgroups = append(snap.Cgroups, container("/lxc.payload.c"+id, "lxc", "c"+id, "container-"+id, "container"))
	}
	for _, level := range []string{"none", "sign", "encrypt"} {
		b.Run(level, func(b *testing.B) {
			s, err := New(Options{Server: pc.LocalAddr().String(), SecurityLevel: level, Username: "u", Password: "p"})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Send(context.Background(), snap); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
