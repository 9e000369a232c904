// events.go owns the live event bus: one per Store, fed after each committed write transaction.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"sync"
	"time"
)

// Every write transaction that records or applies ops becomes one event,
// published after it commits, in commit order, to every subscriber of the
// store (socket connections, the hub's /events streams, the --on-change
// hook). An event's seq is the op-log seq of the transaction's last op, so
// events missed by a client can be rebuilt from the op log (replayEvents).
// Each subscriber has a bounded queue; a subscriber that falls behind has
// its queue dropped and gets one resync event instead: a writer never
// waits for a subscriber.

// Origins of an event.
const (
	originLocal = "local" // a client of this store wrote it
	originSync  = "sync"  // applied from another replica (a pull, or a push to the hub)
	originUndo  = "undo"  // an undo
)

// Bus limits.
const (
	eventQueueMax     = 256      // events a subscriber may have waiting
	eventSocketBuffer = 32 << 10 // a subscribed connection's socket send buffer
	eventReplayMax    = 10000    // ops a resume may replay; further back is a resync
	tickMaxWait       = time.Hour
)

// eventNode is one node an event touched.
type eventNode struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Change string `json:"change"` // create, update, delete
}

// eventParams is the params of an "event" notification (docs/protocol.md).
// A change event has seq, origin and nodes; a resync has seq and resync;
// a tick has tick and at, and no seq.
type eventParams struct {
	Seq    *int64      `json:"seq,omitempty"`
	Origin string      `json:"origin,omitempty"`
	Nodes  []eventNode `json:"nodes,omitempty"`
	Resync bool        `json:"resync,omitempty"`
	Tick   bool        `json:"tick,omitempty"`
	At     string      `json:"at,omitempty"`
}

// event is one published event, encoded once for every subscriber.
type event struct {
	params eventParams
	// committed is when the transaction committed (zero for replays and
	// ticks); benchmarks measure latency from it.
	committed time.Time
	once      sync.Once
	data      []byte // params JSON
	line      []byte // the JSON-RPC notification line, newline included
}

func changeEvent(seq int64, origin string, nodes []eventNode) *event {
	return &event{params: eventParams{Seq: &seq, Origin: origin, Nodes: nodes}}
}

func resyncEvent(seq int64) *event {
	return &event{params: eventParams{Seq: &seq, Resync: true}}
}

func tickEvent(at time.Time) *event {
	return &event{params: eventParams{Tick: true, At: at.UTC().Format(time.RFC3339Nano)}}
}

func (e *event) encode() {
	e.once.Do(func() {
		b, err := json.Marshal(e.params)
		if err != nil { // cannot happen: plain strings and numbers
			b = []byte(`{"resync":true}`)
		}
		e.data = b
		e.line = make([]byte, 0, len(b)+48)
		e.line = append(e.line, `{"jsonrpc":"2.0","method":"event","params":`...)
		e.line = append(e.line, b...)
		e.line = append(e.line, "}\n"...)
	})
}

// Data is the event's params as JSON.
func (e *event) Data() []byte { e.encode(); return e.data }

// Line is the event as a JSON-RPC notification line.
func (e *event) Line() []byte { e.encode(); return e.line }

// eventBus fans a store's events out to its subscribers.
type eventBus struct {
	s *Store

	mu     sync.Mutex
	seq    int64 // seq of the last published event
	subs   map[*eventSub]struct{}
	closed bool
	// The tick timer fires at the next do or late boundary while anyone
	// listens; rearm recomputes it after each write.
	tick      *time.Timer
	rearming  bool
	rearmMore bool
	// Delivery (events_fanout.go): the subscribers with something queued
	// and the events published since the last flush round; wake (cap 1)
	// starts a round, stop ends the flusher.
	dirty    []*eventSub
	recent   []*event
	flushing bool // the flusher runs
	wake     chan struct{}
	stop     chan struct{}
	// log receives the stack of a panic in the flusher or the tick rearm
	// (runGuarded); hephd sets its own, a bare store logs to stderr.
	log *log.Logger
}

func newEventBus(s *Store, seq int64) *eventBus {
	return &eventBus{s: s, seq: seq, subs: map[*eventSub]struct{}{}, wake: make(chan struct{}, 1), stop: make(chan struct{}), log: log.Default()}
}

// eventSub is one subscriber's bounded queue.
type eventSub struct {
	bus   *eventBus
	max   int
	mu    sync.Mutex
	pre   []*event // replayed events, delivered before the queue
	queue []*event
	// resync, when set, is delivered before the queue: the queue
	// overflowed and was dropped at that seq.
	resync *event
	closed bool
	ready  chan struct{} // signalled (cap 1) when there is work for the subscriber's goroutine
	// dropped counts the queues dropped for falling behind.
	dropped int
	sink    eventSink // set: the flusher writes the events directly
	marked  bool      // in bus.dirty (guarded by bus.mu)
}

// listeners reports whether anything is subscribed.
func (b *eventBus) listeners() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs) > 0
}

// lastSeq is the seq of the last event published.
func (b *eventBus) lastSeq() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// subscribe registers a subscriber whose queue holds up to max events and
// returns it with the current seq: it receives every event after that
// seq. With after set, the events after it up to the current seq are
// replayed first (from the op log), or one resync when they are no longer
// available.
func (b *eventBus) subscribe(ctx context.Context, after *int64, max int) (*eventSub, int64, error) {
	sub := &eventSub{bus: b, max: max, ready: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, 0, fmt.Errorf("the store is closing")
	}
	b.subs[sub] = struct{}{}
	seq := b.seq
	first := len(b.subs) == 1
	if !b.flushing {
		b.flushing = true
		go runGuarded(context.Background(), b.log, "events: delivery", func(context.Context) { b.flushLoop() })
	}
	b.mu.Unlock()
	if first {
		b.kickTicks()
	}
	if after != nil && *after != seq {
		pre, err := b.s.replayEvents(ctx, *after, seq)
		if err != nil {
			sub.close()
			return nil, 0, err
		}
		sub.mu.Lock()
		sub.pre = pre
		sub.mu.Unlock()
		sub.signal()
	}
	return sub, seq, nil
}

// publish queues ev on every subscriber and wakes the flusher
// (events_fanout.go), without waiting for any delivery. The store calls it
// after the transaction committed, still holding its write lock, so events
// are published in commit order.
func (b *eventBus) publish(ev *event) {
	b.mu.Lock()
	if ev.params.Seq != nil {
		b.seq = *ev.params.Seq
	}
	if len(b.subs) == 0 {
		b.mu.Unlock()
		return
	}
	for sub := range b.subs {
		sub.push(ev)
		if !sub.marked {
			sub.marked = true
			b.dirty = append(b.dirty, sub)
		}
	}
	if len(b.recent) < eventQueueMax { // past it, rounds concatenate per subscriber
		b.recent = append(b.recent, ev)
	}
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// advanceIfIdle records a committed seq without building its event when
// nobody listens, atomically with that check: a subscriber that arrives
// later starts after seq, one already there gets the event.
func (b *eventBus) advanceIfIdle(seq int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) > 0 {
		return false
	}
	b.seq = seq
	return true
}

// close ends every subscription and stops the tick timer.
func (b *eventBus) close() {
	b.mu.Lock()
	if !b.closed {
		close(b.stop)
	}
	b.closed = true
	subs := b.subs
	b.subs = map[*eventSub]struct{}{}
	if b.tick != nil {
		b.tick.Stop()
	}
	b.mu.Unlock()
	for sub := range subs {
		sub.markClosed()
	}
}

// push queues ev, or drops the queue for a resync when it is full. The
// flusher delivers it.
func (sub *eventSub) push(ev *event) {
	sub.mu.Lock()
	if len(sub.queue) >= sub.max {
		seq := int64(0)
		if last := sub.queue[len(sub.queue)-1].params.Seq; last != nil {
			seq = *last
		}
		if ev.params.Seq != nil {
			seq = *ev.params.Seq
		}
		if sub.resync != nil && seq < *sub.resync.params.Seq {
			seq = *sub.resync.params.Seq
		}
		sub.resync = resyncEvent(seq)
		sub.queue = sub.queue[:0:0]
		sub.dropped++
		sub.mu.Unlock()
		return
	}
	sub.queue = append(sub.queue, ev)
	sub.mu.Unlock()
}

func (sub *eventSub) signal() {
	select {
	case sub.ready <- struct{}{}:
	default:
	}
}

// next waits for the next event: replayed ones first, then a pending
// resync, then the queue. It returns nil when the subscription or ctx ends.
func (sub *eventSub) next(ctx context.Context) *event {
	for {
		ev, closed := sub.take()
		if ev != nil || closed {
			return ev
		}
		select {
		case <-sub.ready:
		case <-ctx.Done():
			return nil
		}
	}
}

// await waits until the subscriber's goroutine has work (a signal); it
// returns false once the subscription ended.
func (sub *eventSub) await() bool {
	<-sub.ready
	sub.mu.Lock()
	defer sub.mu.Unlock()
	return !sub.closed
}

func (sub *eventSub) take() (ev *event, closed bool) {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	switch {
	case sub.closed:
		return nil, true
	case len(sub.pre) > 0:
		ev, sub.pre = sub.pre[0], sub.pre[1:]
	case sub.resync != nil:
		ev, sub.resync = sub.resync, nil
	case len(sub.queue) > 0:
		ev = sub.queue[0]
		sub.queue[0] = nil
		if len(sub.queue) == 1 {
			sub.queue = sub.queue[:0] // drained: keep the array
		} else {
			sub.queue = sub.queue[1:]
		}
	}
	return ev, false
}

// close unsubscribes.
func (sub *eventSub) close() {
	b := sub.bus
	b.mu.Lock()
	delete(b.subs, sub)
	b.mu.Unlock()
	sub.markClosed()
}

func (sub *eventSub) markClosed() {
	sub.mu.Lock()
	sub.closed = true
	sub.queue, sub.pre = nil, nil
	sub.mu.Unlock()
	sub.signal()
}

// evOp is what an event needs to know of one op a transaction applied.
type evOp struct {
	node, kind string
	typ        opType
	data       json.RawMessage
	local      bool
	batch      string
}

// eventNodes derives the nodes an event reports from a transaction's ops,
// in order of first appearance: a node created (or restored by an undo)
// in the transaction is "create", one given a tombstone is "delete", any
// other is "update". Link ops report their source node.
func eventNodes(ops []evOp) []eventNode {
	index := map[string]int{}
	var out []eventNode
	for _, op := range ops {
		change := "update"
		switch op.typ {
		case opNodeCreate:
			change = "create"
		case opNodeSet:
			if d, ok := tombstoneOf(op.data); ok {
				change = "create"
				if d {
					change = "delete"
				}
			}
		}
		i, seen := index[op.node]
		if !seen {
			index[op.node] = len(out)
			out = append(out, eventNode{ID: op.node, Kind: op.kind, Change: change})
			continue
		}
		if change != "update" {
			out[i].Change = change
		}
		if out[i].Kind == "" {
			out[i].Kind = op.kind
		}
	}
	return out
}

// tombstoneOf reports whether a node.set op sets "deleted", and whether
// to a tombstone (true) or back to live (false).
func tombstoneOf(data json.RawMessage) (deleted, sets bool) {
	var d struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if json.Unmarshal(data, &d) != nil {
		return false, false
	}
	v, ok := d.Fields["deleted"]
	if !ok {
		return false, false
	}
	return string(v) != "null", true
}

// originOf names where a transaction's ops came from.
func originOf(op evOp) string {
	switch {
	case !op.local:
		return originSync
	case len(op.batch) >= len(undoBatchPrefix) && op.batch[:len(undoBatchPrefix)] == undoBatchPrefix:
		return originUndo
	}
	return originLocal
}

// createKind is the kind a node.create op's data names.
func createKind(data json.RawMessage) string {
	var d struct {
		Kind string `json:"kind"`
	}
	json.Unmarshal(data, &d)
	return d.Kind
}

// fillKinds sets the kind of every op's node: from its create op when the
// transaction has one, else from the nodes table.
func fillKinds(ctx context.Context, q querier, ops []evOp) error {
	kinds := map[string]string{}
	var missing []string
	for _, op := range ops {
		if op.typ == opNodeCreate {
			if k := createKind(op.data); k != "" {
				kinds[op.node] = k
			}
		}
	}
	for _, op := range ops {
		if _, ok := kinds[op.node]; !ok {
			kinds[op.node] = ""
			missing = append(missing, op.node)
		}
	}
	if len(missing) > 0 {
		ids, err := json.Marshal(missing)
		if err != nil {
			return fmt.Errorf("event kinds: %w", err)
		}
		rows, err := q.QueryContext(ctx, `SELECT id, kind FROM nodes WHERE id IN (SELECT value FROM json_each(?))`, string(ids))
		if err != nil {
			return fmt.Errorf("event kinds: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, kind string
			if err := rows.Scan(&id, &kind); err != nil {
				return fmt.Errorf("event kinds: %w", err)
			}
			kinds[id] = kind
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("event kinds: %w", err)
		}
	}
	for i := range ops {
		ops[i].kind = kinds[ops[i].node]
	}
	return nil
}

// txEvent builds the event of a committed transaction.
func (s *Store) txEvent(ctx context.Context, seq int64, ops []evOp) *event {
	if err := fillKinds(context.WithoutCancel(ctx), s.db, ops); err != nil {
		return resyncEvent(seq) // the nodes cannot be named: make clients refetch
	}
	return changeEvent(seq, originOf(ops[0]), eventNodes(ops))
}

// replayEvents rebuilds the events with seq in (after, upto] from the op
// log: the ops of one transaction are consecutive and share a batch. When
// after is unknown to this store (ahead of it) or more than eventReplayMax
// ops back, the answer is one resync.
func (s *Store) replayEvents(ctx context.Context, after, upto int64) ([]*event, error) {
	if after > upto || after < 0 {
		return []*event{resyncEvent(upto)}, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT o.seq, o.node, o.type, o.data, o.local, o.batch, coalesce(n.kind,'')
		FROM ops o LEFT JOIN nodes n ON n.id = o.node WHERE o.seq > ? AND o.seq <= ? ORDER BY o.seq LIMIT ?`, after, upto, eventReplayMax+1)
	if err != nil {
		return nil, fmt.Errorf("replay events after %d: %w", after, err)
	}
	defer rows.Close()
	var out []*event
	var group []evOp
	var last int64
	flush := func() {
		if len(group) > 0 {
			out = append(out, changeEvent(last, originOf(group[0]), eventNodes(group)))
			group = nil
		}
	}
	n := 0
	for rows.Next() {
		var op evOp
		var seq int64
		var data string
		if err := rows.Scan(&seq, &op.node, &op.typ, &data, &op.local, &op.batch, &op.kind); err != nil {
			return nil, fmt.Errorf("replay events after %d: %w", after, err)
		}
		if n++; n > eventReplayMax {
			return []*event{resyncEvent(upto)}, nil
		}
		op.data = json.RawMessage(data)
		if len(group) > 0 && (group[0].batch != op.batch || group[0].local != op.local) {
			flush()
		}
		group = append(group, op)
		last = seq
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("replay events after %d: %w", after, err)
	}
	flush()
	return out, nil
}

// publishTx publishes a committed transaction's event. Nobody listening,
// it only records the seq. It runs under the store's write lock.
func (s *Store) publishTx(ctx context.Context, seq int64, ops []evOp, committed time.Time) {
	b := s.events
	if b == nil {
		return
	}
	if b.advanceIfIdle(seq) {
		return
	}
	ev := s.txEvent(ctx, seq, ops)
	ev.committed = committed
	b.publish(ev)
	if ev.mayMoveTicks() {
		b.kickTicks()
	}
}

// mayMoveTicks reports whether the transaction may have moved the next do
// or late boundary (events_tick.go): only a task's own ops change the
// tasks table, so a write that touched no task (or whose nodes are
// unknown: a resync) needs no recomputation.
func (e *event) mayMoveTicks() bool {
	if e.params.Resync {
		return true
	}
	for _, n := range e.params.Nodes {
		if n.Kind == "task" || n.Kind == "" {
			return true
		}
	}
	return false
}
