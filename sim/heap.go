package sim

// Event kinds of the scheduled-event queue.
const (
	evPhase       uint8 = iota // a host's calendar phase changes
	evWake                     // a host wakes from dormancy
	evReboot                   // the worm reboots its host
	evSeed                     // a variant's seeds are infected
	evOwnerReboot              // the owner reboots the machine
	evPowerOff                 // the machine is switched off for the night
	evPatch                    // the owner patches (and reboots)
	evRemove                   // the machine leaves the Internet (filtered, disconnected)
	evPowerOn                  // a susceptible machine taken out of the target sets while off is back, or one arrives (population.arrivals)
	evWakeGroup                // another group of a waking host's threads wakes
)

type event struct {
	t    float64
	seq  uint64 // insertion order: ties break the same way on every run
	host int32
	gen  uint32 // the host's generation when scheduled; stale if it changed
	kind uint8
	v    uint8
}

func (a *event) before(b *event) bool {
	if a.t != b.t {
		return a.t < b.t
	}
	return a.seq < b.seq
}

// eventHeap is a 4-ary min-heap of events by (time, insertion order): half
// the depth of a binary heap, so fewer cache misses per operation. Written
// out rather than through container/heap to avoid interface calls on the
// engine's hottest path.
type eventHeap struct {
	ev  []event
	seq uint64
}

func (h *eventHeap) len() int { return len(h.ev) }

func (h *eventHeap) top() *event { return &h.ev[0] }

func (h *eventHeap) push(e event) {
	h.seq++
	e.seq = h.seq
	h.insert(e)
}

// insert adds an event that already has its insertion number.
func (h *eventHeap) insert(e event) {
	h.ev = append(h.ev, e)
	i := len(h.ev) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !h.ev[i].before(&h.ev[p]) {
			break
		}
		h.ev[i], h.ev[p] = h.ev[p], h.ev[i]
		i = p
	}
}

func (h *eventHeap) pop() event {
	top := h.ev[0]
	last := len(h.ev) - 1
	h.ev[0] = h.ev[last]
	h.ev = h.ev[:last]
	i := 0
	for {
		c := 4*i + 1
		if c >= last {
			break
		}
		m := c
		for k := c + 1; k < c+4 && k < last; k++ {
			if h.ev[k].before(&h.ev[m]) {
				m = k
			}
		}
		if !h.ev[m].before(&h.ev[i]) {
			break
		}
		h.ev[i], h.ev[m] = h.ev[m], h.ev[i]
		i = m
	}
	return top
}

// binQueue is the world's event queue: a heap for the current bin and
// plain lists for later bins. Events far ahead (reboots days away) cost an
// append, not a heap insertion among hundreds of thousands; a bin's list is
// heaped only when the run reaches the bin. The order is still (time,
// insertion order).
type binQueue struct {
	h       eventHeap
	buckets [][]event // events of bins after cur, by bin
	binW    float64
	cur     int
}

func newBinQueue(nbins int, binW float64) *binQueue {
	return &binQueue{buckets: make([][]event, nbins), binW: binW}
}

// bin returns the bin that holds time t: b*binW <= t < (b+1)*binW, whatever
// the rounding of t/binW.
func (q *binQueue) bin(t float64) int {
	b := int(t / q.binW)
	if float64(b)*q.binW > t {
		b--
	}
	if float64(b+1)*q.binW <= t {
		b++
	}
	return b
}

func (q *binQueue) push(e event) {
	q.h.seq++
	e.seq = q.h.seq
	if b := q.bin(e.t); b > q.cur && b < len(q.buckets) {
		q.buckets[b] = append(q.buckets[b], e)
		return
	}
	q.h.insert(e)
}

// advance makes bin b current: the events of the bins up to b join the heap.
func (q *binQueue) advance(b int) {
	for q.cur < b && q.cur+1 < len(q.buckets) {
		q.cur++
		for _, e := range q.buckets[q.cur] {
			q.h.insert(e)
		}
		q.buckets[q.cur] = nil
	}
}

func (q *binQueue) len() int    { return q.h.len() }
func (q *binQueue) top() *event { return q.h.top() }
func (q *binQueue) pop() event  { return q.h.pop() }
