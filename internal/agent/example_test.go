package agent_test

import (
	"context"
	"fmt"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/model"
)

// A consumer that wants every snapshot (a history, a push sink) subscribes
// before Run and ranges over its channel; the channel closes when Run
// returns. A consumer slower than the interval misses snapshots, never
// delays the collector, and can report how many it missed.
func ExampleAgent_Subscribe() {
	src := sourceFunc(func() (*model.Snapshot, error) {
		return &model.Snapshot{Timestamp: time.Now(), Cgroups: make([]model.Cgroup, 3)}, nil
	})
	a, err := agent.New(agent.Options{Source: src, Interval: 10 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	history := a.Subscribe("history")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()

	var kept []*model.Snapshot
	for snap := range history.C() {
		kept = append(kept, snap)
		if len(kept) == 3 {
			cancel() // Run returns and closes the channel
		}
	}
	<-done
	fmt.Println(len(kept) >= 3, len(kept[0].Cgroups), uint64(len(kept))+history.Missed() == a.Stats().Cycles)
	// Output: true 3 true
}
