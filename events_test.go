package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Live events against a real hephd: subscribers on the socket see every
// committed write once, in commit order.

// wireMsg is any line hephd sends: a reply (id) or a notification (method).
type wireMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params eventParams     `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
	raw    string
}

// testSub is a raw socket connection that subscribed to events.
type testSub struct {
	t    testing.TB
	conn net.Conn
	msgs chan wireMsg
	seq  int64 // the subscribe reply's seq
	id   int
}

// dialSub connects without subscribing; its reader starts at once.
func dialSub(t testing.TB, socket string) *testSub {
	t.Helper()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	s := &testSub{t: t, conn: c, msgs: make(chan wireMsg, 100000)}
	t.Cleanup(func() { c.Close() })
	go func() {
		r := bufio.NewReaderSize(c, 1<<20)
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				close(s.msgs)
				return
			}
			var m wireMsg
			if err := json.Unmarshal(line, &m); err != nil {
				m.Method = "BAD LINE"
			}
			m.raw = string(line)
			s.msgs <- m
		}
	}()
	return s
}

// subscribeEvents connects and subscribes (after, when not nil).
func subscribeEvents(t testing.TB, socket string, after *int64) *testSub {
	t.Helper()
	s := dialSub(t, socket)
	params := map[string]any{}
	if after != nil {
		params["after"] = *after
	}
	s.send("events.subscribe", params)
	m := s.next(20 * time.Second)
	if m.Error != nil || m.Method != "" {
		t.Fatalf("subscribe: %s", m.raw)
	}
	var res subscribeResult
	if err := json.Unmarshal(m.Result, &res); err != nil {
		t.Fatalf("subscribe reply %s: %v", m.raw, err)
	}
	s.seq = res.Seq
	return s
}

// send writes one request with the next id and returns the id.
func (s *testSub) send(method string, params any) int {
	s.id++
	line, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": s.id, "method": method, "params": params})
	if _, err := s.conn.Write(append(line, '\n')); err != nil {
		s.t.Fatalf("send %s: %v", method, err)
	}
	return s.id
}

// next is the next line, or a test failure after timeout.
func (s *testSub) next(timeout time.Duration) wireMsg {
	s.t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			s.t.Fatalf("connection closed while waiting for a message")
		}
		return m
	case <-time.After(timeout):
		s.t.Fatalf("no message within %v", timeout)
	}
	return wireMsg{}
}

// nextEvent is the next event notification (change or resync; ticks skipped).
func (s *testSub) nextEvent() eventParams {
	s.t.Helper()
	for {
		m := s.next(10 * time.Second)
		if m.Method != "event" {
			s.t.Fatalf("want an event notification, got %s", m.raw)
		}
		if m.ID != nil {
			s.t.Fatalf("a notification has no id: %s", m.raw)
		}
		if !m.Params.Tick {
			return m.Params
		}
	}
}

// quiet checks that nothing more arrives for d.
func (s *testSub) quiet(d time.Duration) {
	s.t.Helper()
	select {
	case m, ok := <-s.msgs:
		if ok {
			s.t.Fatalf("unexpected extra message: %s", m.raw)
		}
	case <-time.After(d):
	}
}

func seqOf(t testing.TB, p eventParams) int64 {
	t.Helper()
	if p.Seq == nil {
		t.Fatalf("event without seq: %+v", p)
	}
	return *p.Seq
}

// nodeChange finds id's entry in an event.
func nodeChange(p eventParams, id string) (eventNode, bool) {
	for _, n := range p.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return eventNode{}, false
}

func TestEventsLocalAndUndo(t *testing.T) {
	d := startDaemon(t)
	sub := subscribeEvents(t, d.Socket, nil)
	task := mustCreate(t, d, map[string]any{"title": "watch me"})
	ev := sub.nextEvent()
	if ev.Origin != originLocal || seqOf(t, ev) <= sub.seq || len(ev.Nodes) != 3 {
		t.Fatalf("create event: %+v (subscribed at %d)", ev, sub.seq)
	}
	if n, ok := nodeChange(ev, task.ID); !ok || n.Kind != "task" || n.Change != "create" {
		t.Fatalf("create event lacks the task as created: %+v", ev)
	}
	if n, ok := nodeChange(ev, task.Task.Context); !ok || n.Kind != "doc" || n.Change != "create" {
		t.Fatalf("create event lacks the context doc: %+v", ev)
	}
	last := seqOf(t, ev)

	d.MustHeph("edit", task.Handle, "--attention", "red")
	ev = sub.nextEvent()
	if n, ok := nodeChange(ev, task.ID); !ok || n.Change != "update" || ev.Origin != originLocal || len(ev.Nodes) != 1 {
		t.Fatalf("edit event: %+v", ev)
	}
	if seqOf(t, ev) <= last {
		t.Fatalf("seq did not grow: %d after %d", seqOf(t, ev), last)
	}
	last = seqOf(t, ev)

	d.MustHeph("rm", task.Handle)
	ev = sub.nextEvent()
	if n, ok := nodeChange(ev, task.ID); !ok || n.Change != "delete" {
		t.Fatalf("rm event: %+v", ev)
	}
	last = seqOf(t, ev)

	d.MustHeph("undo")
	ev = sub.nextEvent()
	if n, ok := nodeChange(ev, task.ID); !ok || n.Change != "create" || ev.Origin != originUndo || seqOf(t, ev) <= last {
		t.Fatalf("undo of rm: %+v", ev)
	}
	// A failed write and a read publish nothing.
	if _, _, code := d.Heph("edit", "nope", "--attention", "red"); code == 0 {
		t.Fatal("editing an unknown task succeeded")
	}
	d.MustHeph("next")
	sub.quiet(300 * time.Millisecond)

	// A second subscriber starts at the current seq.
	var info struct{ Seq int64 }
	sub2 := subscribeEvents(t, d.Socket, nil)
	info.Seq = sub2.seq
	if info.Seq != seqOf(t, ev) {
		t.Fatalf("a new subscriber starts at %d, want the last event's %d", info.Seq, seqOf(t, ev))
	}
}

func TestEventsResume(t *testing.T) {
	d := startDaemon(t)
	live := subscribeEvents(t, d.Socket, nil)
	start := live.seq
	for i := 0; i < 5; i++ {
		mustCreate(t, d, map[string]any{"title": fmt.Sprintf("t%d", i)})
	}
	d.MustHeph("undo")
	var want []eventParams
	for i := 0; i < 6; i++ {
		want = append(want, live.nextEvent())
	}
	// Resume from the start: the op log gives the same events, same seqs.
	again := subscribeEvents(t, d.Socket, &start)
	if again.seq != seqOf(t, want[5]) {
		t.Fatalf("resume reply seq %d, want %d", again.seq, seqOf(t, want[5]))
	}
	for i, w := range want {
		got := again.nextEvent()
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(got)
		if string(wj) != string(gj) {
			t.Fatalf("replayed event %d:\n got %s\nwant %s", i, gj, wj)
		}
	}
	// From the middle: only what came later; then live events follow.
	mid := seqOf(t, want[2])
	part := subscribeEvents(t, d.Socket, &mid)
	for _, w := range want[3:] {
		if got := part.nextEvent(); seqOf(t, got) != seqOf(t, w) {
			t.Fatalf("resume from %d: got seq %d, want %d", mid, seqOf(t, got), seqOf(t, w))
		}
	}
	n := mustCreate(t, d, map[string]any{"title": "after resume"})
	if _, ok := nodeChange(part.nextEvent(), n.ID); !ok {
		t.Fatal("live events do not follow the replay")
	}
	part.quiet(200 * time.Millisecond)
	// A seq this store never reached (another store, a reset): one resync.
	future := int64(1 << 40)
	odd := subscribeEvents(t, d.Socket, &future)
	if ev := odd.nextEvent(); !ev.Resync || seqOf(t, ev) != odd.seq {
		t.Fatalf("resume from an unknown seq: %+v, want a resync at %d", ev, odd.seq)
	}
	// Resume survives a restart of hephd (the op log is durable).
	d.Stop()
	d2 := startDaemonIn(t, d.Dir)
	after := seqOf(t, want[4])
	re := subscribeEvents(t, d2.Socket, &after)
	if got := re.nextEvent(); seqOf(t, got) != seqOf(t, want[5]) || got.Origin != originUndo {
		t.Fatalf("after a restart: %+v, want the undo at %d", got, seqOf(t, want[5]))
	}
}

func TestEventsBadParams(t *testing.T) {
	d := startDaemon(t)
	s := dialSub(t, d.Socket)
	s.send("events.subscribe", map[string]any{"after": -1})
	if m := s.next(5 * time.Second); m.Error == nil || m.Error.Code != codeInvalidParams {
		t.Fatalf("after -1: %s", m.raw)
	}
	s.send("events.subscribe", map[string]any{"since": 1})
	if m := s.next(5 * time.Second); m.Error == nil || m.Error.Code != codeInvalidParams {
		t.Fatalf("unknown param: %s", m.raw)
	}
	s.send("events.subscribe", nil)
	if m := s.next(5 * time.Second); m.Error != nil {
		t.Fatalf("subscribe: %s", m.raw)
	}
	s.send("events.subscribe", nil)
	if m := s.next(5 * time.Second); m.Error == nil || m.Error.Code != codeInvalidParams {
		t.Fatalf("a second subscribe on one connection: %s", m.raw)
	}
}

// TestEventsInterleaved: a subscribed connection keeps sending requests;
// every reply comes back with its id and every write's event arrives, and
// each line is whole.
func TestEventsInterleaved(t *testing.T) {
	d := startDaemon(t)
	s := subscribeEvents(t, d.Socket, nil)
	other := mustCreate(t, d, map[string]any{"title": "from another client"})
	const n = 30
	ids := map[int]bool{}
	for i := 0; i < n; i++ {
		ids[s.send("task.create", map[string]any{"title": fmt.Sprintf("mine %d", i)})] = true
	}
	created := map[string]bool{}
	events := map[string]bool{}
	last := s.seq
	for len(ids) > 0 || len(events) < n+1 {
		m := s.next(10 * time.Second)
		switch {
		case m.Method == "event":
			if seqOf(t, m.Params) <= last {
				t.Fatalf("events out of order: %d after %d", seqOf(t, m.Params), last)
			}
			last = seqOf(t, m.Params)
			for _, nd := range m.Params.Nodes {
				if nd.Kind == "task" {
					events[nd.ID] = true
				}
			}
		case m.ID != nil:
			var id int
			json.Unmarshal(m.ID, &id)
			if !ids[id] || m.Error != nil {
				t.Fatalf("unexpected reply: %s", m.raw)
			}
			delete(ids, id)
			var nd Node
			json.Unmarshal(m.Result, &nd)
			created[nd.ID] = true
		default:
			t.Fatalf("bad line: %q", m.raw)
		}
	}
	if !events[other.ID] {
		t.Fatal("the other client's write was not notified")
	}
	for id := range created {
		if !events[id] {
			t.Fatalf("no event for %s", id)
		}
	}
	s.quiet(200 * time.Millisecond)
}

// TestEventsStalledSubscriber: a subscriber that stops reading never slows
// writers; when it reads again it gets a resync, then live events.
func TestEventsStalledSubscriber(t *testing.T) {
	d := startDaemon(t)
	stalled, err := net.Dial("unix", d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.Write([]byte(`{"jsonrpc":"2.0","id":1,"method":"events.subscribe"}` + "\n"))
	healthy := subscribeEvents(t, d.Socket, nil)
	c, err := dialDaemon(d.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for i := 0; i < 1000; i++ {
		if err := c.Call(t.Context(), "doc.create", map[string]any{"title": fmt.Sprintf("doc %d", i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("1000 writes with a stalled subscriber: %v", time.Since(start))
	for i := 0; i < 1000; i++ {
		if ev := healthy.nextEvent(); ev.Resync || len(ev.Nodes) != 1 {
			t.Fatalf("the healthy subscriber's event %d: %+v", i, ev)
		}
	}
	var final Node
	if err := c.Call(t.Context(), "doc.create", map[string]any{"title": "final"}, &final); err != nil {
		t.Fatal(err)
	}
	// Now read the stalled connection: the reply, some events, one resync
	// (the dropped queue), then events again up to the final write.
	r := bufio.NewReaderSize(stalled, 1<<20)
	resyncs, events := 0, 0
	var lastSeq int64
	for {
		stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := r.ReadBytes('\n')
		if err != nil {
			t.Fatalf("read the stalled subscriber after %d events, %d resyncs: %v", events, resyncs, err)
		}
		var m wireMsg
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("bad line %q", line)
		}
		if m.Method != "event" {
			continue
		}
		if m.Params.Seq != nil && *m.Params.Seq < lastSeq {
			t.Fatalf("seq went back: %d after %d", *m.Params.Seq, lastSeq)
		}
		if m.Params.Seq != nil {
			lastSeq = *m.Params.Seq
		}
		if m.Params.Resync {
			resyncs++
			continue
		}
		events++
		if _, ok := nodeChange(m.Params, final.ID); ok {
			break
		}
	}
	if resyncs == 0 || events >= 1001 {
		t.Fatalf("the stalled subscriber got %d events and %d resyncs; want a resync in place of the dropped queue", events, resyncs)
	}
	t.Logf("stalled subscriber: %d events, %d resync(s)", events, resyncs)
}

// TestEventsManySubscribers: 200 subscribers each get every event once, in
// order.
func TestEventsManySubscribers(t *testing.T) {
	d := startDaemon(t)
	subs := make([]*testSub, 200)
	for i := range subs {
		subs[i] = subscribeEvents(t, d.Socket, nil)
	}
	var created []string
	for i := 0; i < 10; i++ {
		created = append(created, mustCreate(t, d, map[string]any{"title": fmt.Sprintf("t%d", i)}).ID)
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(subs))
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, id := range created {
				select {
				case m := <-s.msgs:
					if _, ok := nodeChange(m.Params, id); !ok {
						errs <- fmt.Sprintf("subscriber %d event %d: %s", i, j, m.raw)
						return
					}
				case <-time.After(10 * time.Second):
					errs <- fmt.Sprintf("subscriber %d: no event %d", i, j)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	for _, s := range subs[:5] {
		s.quiet(50 * time.Millisecond)
	}
}

// TestEventsTick: a tick arrives when a do date comes and when a late date
// passes, computed from the tasks (no write happens then), and a write
// that moves the next boundary re-arms the timer.
func TestEventsTick(t *testing.T) {
	d := startDaemon(t)
	s := subscribeEvents(t, d.Socket, nil)
	far := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	task := mustCreate(t, d, map[string]any{"title": "later", "do": far})
	s.nextEvent()
	soon := time.Now().Add(1200 * time.Millisecond).UTC().Truncate(time.Millisecond)
	d.MustCall("task.edit", map[string]any{"id": task.ID, "do": soon.Format(time.RFC3339Nano)}, nil)
	s.nextEvent()
	lateAt := soon.Add(600 * time.Millisecond)
	mustCreate(t, d, map[string]any{"title": "late soon", "late": lateAt.Format(time.RFC3339Nano)})
	s.nextEvent()
	for _, want := range []time.Time{soon, lateAt} {
		m := s.next(10 * time.Second)
		if m.Method != "event" || !m.Params.Tick || m.Params.Seq != nil {
			t.Fatalf("want a tick at %v, got %s", want, m.raw)
		}
		at, err := time.Parse(time.RFC3339Nano, m.Params.At)
		if err != nil || !at.Equal(want) {
			t.Fatalf("tick at %q, want %v", m.Params.At, want)
		}
		if time.Now().Before(want) {
			t.Fatalf("the tick for %v came early (%v)", want, time.Now())
		}
	}
	// The task is next now, without any write since.
	var next struct{ Tasks []Node }
	d.MustCall("task.next", nil, &next)
	if len(next.Tasks) != 2 {
		t.Fatalf("after the ticks next has %d tasks, want both", len(next.Tasks))
	}
	s.quiet(500 * time.Millisecond)
}

// recordingSink is an eventSink that keeps what each delivery wrote. The
// gate's stallAt-th delivery (over all sinks) waits for release after
// writing, stalling the flusher's round.
type recordingSink struct {
	gate   *sinkGate
	mu     sync.Mutex
	writes [][]byte
	firsts []*byte // the first byte of each write, to see shared bytes
}

type sinkGate struct {
	mu      sync.Mutex
	n       int
	stallAt int
	stalled chan struct{} // closed when the stall begins
	release chan struct{}
}

func (k *recordingSink) deliver(sub *eventSub, r *eventRound) bool {
	r.taken = sub.takeUpTo(r.taken[:0], eventWriteMax)
	if len(r.taken) == 0 {
		return true
	}
	b := r.linesOf(r.taken)
	k.mu.Lock()
	k.writes = append(k.writes, append([]byte(nil), b...))
	k.firsts = append(k.firsts, &b[0])
	k.mu.Unlock()
	g := k.gate
	g.mu.Lock()
	g.n++
	stall := g.n == g.stallAt
	g.mu.Unlock()
	if stall {
		close(g.stalled)
		<-g.release
	}
	return true
}

// lines is everything delivered, split in lines.
func (k *recordingSink) lines() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, w := range k.writes {
		for _, l := range strings.SplitAfter(string(w), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	return out
}

// TestEventsFanoutCoalesces: the commits that arrive while a flush round is
// busy go out together in the next one — one write per subscriber, the
// same encoded bytes shared by all — complete and in commit order.
func TestEventsFanoutCoalesces(t *testing.T) {
	ts := openTestStore(t, time.Now())
	bus := ts.s.events
	gate := &sinkGate{stallAt: 3, stalled: make(chan struct{}), release: make(chan struct{})}
	sinks := []*recordingSink{{gate: gate}, {gate: gate}, {gate: gate}}
	for _, k := range sinks {
		sub, _, err := bus.subscribe(t.Context(), nil, eventQueueMax)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.close()
		sub.setSink(k)
	}
	seq := bus.lastSeq()
	nodes := []eventNode{{ID: "n", Kind: "doc", Change: "update"}}
	var want []string
	publish := func() {
		seq++
		ev := changeEvent(seq, originLocal, nodes)
		want = append(want, string(ev.Line()))
		bus.publish(ev)
	}
	publish()
	<-gate.stalled // every subscriber has the first event; the round is still busy
	for i := 0; i < 50; i++ {
		publish()
	}
	close(gate.release)
	deadline := time.Now().Add(10 * time.Second)
	for i, k := range sinks {
		for len(k.lines()) < len(want) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := k.lines(); strings.Join(got, "") != strings.Join(want, "") {
			t.Fatalf("subscriber %d got %d lines, want the %d events in order:\n%s", i, len(got), len(want), strings.Join(got, ""))
		}
		k.mu.Lock()
		if len(k.writes) != 2 || len(k.writes[1]) != len(strings.Join(want[1:], "")) {
			t.Errorf("subscriber %d: %d writes; want 2 (the 50 events published during the first round together in one)", i, len(k.writes))
		} else if k.firsts[1] != sinks[0].firsts[1] {
			t.Errorf("subscriber %d's second write is not the round's shared encoding", i)
		}
		k.mu.Unlock()
	}
}
