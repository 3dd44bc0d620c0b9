package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/cgmon/cgmon/internal/agent"
	"github.com/cgmon/cgmon/internal/model"
)

func TestMergeDeliversEveryAgentsSnapshots(t *testing.T) {
	source := func(host string) agent.Source {
		return sourceFunc(func() (*model.Snapshot, error) {
			return &model.Snapshot{Hostname: host, Timestamp: time.Now()}, nil
		})
	}
	var agents []*agent.Agent
	for _, h := range []string{"local", "db1", "db2"} {
		a, err := agent.New(agent.Options{Source: source(h), Interval: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		agents = append(agents, a)
	}
	m := agent.Merge("test", agents...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	for _, a := range agents {
		go func() { a.Run(ctx); done <- struct{}{} }()
	}
	seen := map[string]int{}
	deadline := time.After(10 * time.Second)
	for seen["local"] < 3 || seen["db1"] < 3 || seen["db2"] < 3 {
		select {
		case s := <-m.C():
			seen[s.Hostname]++
		case <-deadline:
			t.Fatalf("after 10 s: %v, want every host at least 3 times", seen)
		}
	}
	// Agents publishing together do not crowd each other out: a consumer
	// that keeps up misses nothing.
	if n := m.Missed(); n > 0 {
		t.Errorf("missed %d snapshots with a consumer that keeps up", n)
	}
	cancel()
	for range agents {
		<-done
	}
	// Every agent stopped: the channel drains and closes.
	for range m.C() {
	}
	m.Close() // after the agents stopped: harmless, and twice
	m.Close()
}

func TestMergeSlowConsumerMissesTheOldest(t *testing.T) {
	a, err := agent.New(agent.Options{Source: sourceFunc(func() (*model.Snapshot, error) {
		return &model.Snapshot{Timestamp: time.Now()}, nil
	}), Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m := agent.Merge("slow", a)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	waitFor(t, "missed snapshots", func() bool { return m.Missed() >= 3 })
	first := <-m.C()
	second := <-m.C()
	if !second.Timestamp.After(first.Timestamp) {
		t.Errorf("snapshots out of order: %s then %s", first.Timestamp, second.Timestamp)
	}
	m.Close()
	for range m.C() { // closes after Close even while the agent runs
	}
}
