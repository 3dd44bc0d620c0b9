package delivery

// queue is the in-memory backlog: a ring of encoded points, oldest first.
// It is not safe for concurrent use; the Runner guards it.
type queue struct {
	buf  [][]byte
	head int
	n    int
}

func newQueue(capacity int) *queue { return &queue{buf: make([][]byte, capacity)} }

func (q *queue) len() int { return q.n }

// push appends p; the caller has made room.
func (q *queue) push(p []byte) {
	q.buf[(q.head+q.n)%len(q.buf)] = p
	q.n++
}

// dropOldest removes the oldest point.
func (q *queue) dropOldest() {
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
}

// take removes up to max of the oldest points and appends them to dst.
func (q *queue) take(dst [][]byte, max int) [][]byte {
	for ; max > 0 && q.n > 0; max-- {
		dst = append(dst, q.buf[q.head])
		q.dropOldest()
	}
	return dst
}
