package agent

import (
	"sync"
	"sync/atomic"

	"github.com/cgmon/cgmon/internal/model"
)

// Merged delivers the snapshots of several agents (the local host and the
// remote ones) to one consumer, such as a push sink that writes every host.
// Its channel holds one snapshot per agent, so agents publishing at the
// same moment do not crowd each other out; a consumer slower than that
// misses the oldest, counted by Missed. It implements delivery.Snapshots.
type Merged struct {
	subs   []*Subscription
	c      chan *model.Snapshot
	missed atomic.Uint64
	wg     sync.WaitGroup
	once   sync.Once
}

// Merge subscribes to every agent under name. The channel is closed when
// every agent has stopped or Close is called.
func Merge(name string, agents ...*Agent) *Merged {
	m := &Merged{c: make(chan *model.Snapshot, max(1, len(agents)))}
	for _, a := range agents {
		s := a.Subscribe(name)
		m.subs = append(m.subs, s)
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			for snap := range s.C() {
				m.forward(snap)
			}
		}()
	}
	go func() {
		m.wg.Wait()
		close(m.c)
	}()
	return m
}

// forward hands snap on without blocking: when the channel is full, the
// oldest snapshot in it makes room.
func (m *Merged) forward(snap *model.Snapshot) {
	for {
		select {
		case m.c <- snap:
			return
		default:
		}
		select {
		case <-m.c:
			m.missed.Add(1)
		default: // the consumer took one in between
		}
	}
}

// C returns the channel of snapshots from every agent.
func (m *Merged) C() <-chan *model.Snapshot { return m.c }

// Missed counts snapshots the consumer never received, over every agent:
// those dropped here and those its subscriptions missed.
func (m *Merged) Missed() uint64 {
	n := m.missed.Load()
	for _, s := range m.subs {
		n += s.Missed()
	}
	return n
}

// Close unsubscribes from every agent; the channel closes once the
// forwarders have returned. It may be called more than once.
func (m *Merged) Close() {
	m.once.Do(func() {
		for _, s := range m.subs {
			s.Close()
		}
	})
}
