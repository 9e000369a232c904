package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The hub's GET /events with a real HTTP client, and events of writes
// applied by sync.

// sseMsg is one Server-Sent Events message (or a comment).
type sseMsg struct {
	id, event, data, comment string
	hasID                    bool
}

// sseStream reads messages from a response body.
type sseStream struct {
	t    testing.TB
	resp *http.Response
	msgs chan sseMsg
}

func openSSE(t testing.TB, url, bearer string, header map[string]string) (*sseStream, int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, resp.StatusCode, string(b)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	s := &sseStream{t: t, resp: resp, msgs: make(chan sseMsg, 1000)}
	go func() {
		defer close(s.msgs)
		sc := bufio.NewScanner(resp.Body)
		var m sseMsg
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m != (sseMsg{}) {
					s.msgs <- m
				}
				m = sseMsg{}
			case strings.HasPrefix(line, ":"):
				s.msgs <- sseMsg{comment: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "id: "):
				m.id, m.hasID = line[4:], true
			case strings.HasPrefix(line, "event: "):
				m.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.data = line[6:]
			}
		}
	}()
	return s, resp.StatusCode, ""
}

// nextEvent is the next event message (comments skipped, ticks skipped).
func (s *sseStream) nextEvent() (sseMsg, eventParams) {
	s.t.Helper()
	for {
		select {
		case m, ok := <-s.msgs:
			if !ok {
				s.t.Fatal("the event stream ended")
			}
			if m.comment != "" || m.retryOnly() {
				continue
			}
			var p eventParams
			if m.event != "event" {
				s.t.Fatalf("SSE message without event: event: %+v", m)
			}
			if err := json.Unmarshal([]byte(m.data), &p); err != nil {
				s.t.Fatalf("SSE data %q: %v", m.data, err)
			}
			if p.Tick {
				continue
			}
			if !m.hasID || m.id != fmt.Sprint(seqOf(s.t, p)) {
				s.t.Fatalf("SSE id %q does not match seq in %s", m.id, m.data)
			}
			return m, p
		case <-time.After(15 * time.Second):
			s.t.Fatal("no event on the stream within 15s")
		}
	}
}

func (m sseMsg) retryOnly() bool { return m.event == "" && m.data == "" && !m.hasID }

// hubRPC makes one JSON-RPC call on the hub's /rpc.
func hubRPC(t testing.TB, base, token, method string, params, result any) *rpcError {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest("POST", base+"/rpc", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		Result json.RawMessage
		Error  *rpcError
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("%s: status %d: %v", method, resp.StatusCode, err)
	}
	if r.Error == nil && result != nil {
		json.Unmarshal(r.Result, result)
	}
	return r.Error
}

func TestEventsThroughHub(t *testing.T) {
	p := startOIDCProvider(t)
	hub := startHub(t, "", p)
	aFile, alice := login(t, p, hub.URL, "alice")
	bFile, _ := login(t, p, hub.URL, "alice")
	a := startSpoke(t, hub.URL, aFile)
	b := startSpoke(t, hub.URL, bFile)
	subB := subscribeEvents(t, b.Socket, nil)

	// Auth: no token, a bad token, an access token in the URL.
	if _, code, _ := openSSE(t, hub.URL+"/events", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /events without a token: %d", code)
	}
	if _, code, _ := openSSE(t, hub.URL+"/events", "not-a-token", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /events with a bad token: %d", code)
	}
	if _, code, _ := openSSE(t, hub.URL+"/events?ticket=forged", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /events with a forged ticket: %d", code)
	}
	if _, code, _ := openSSE(t, hub.URL+"/events?access_token="+alice.AccessToken, "", nil); code != http.StatusBadRequest {
		t.Fatalf("GET /events?access_token=: %d", code)
	}
	// events.ticket needs the bearer too, and is single-use.
	req, _ := http.NewRequest("POST", hub.URL+"/rpc", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"events.ticket"}`))
	req.Header.Set("Authorization", "Bearer bad")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("events.ticket with a bad token: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	var tk ticketReply
	if e := hubRPC(t, hub.URL, alice.AccessToken, "events.ticket", map[string]any{}, &tk); e != nil || len(tk.Ticket) < 20 {
		t.Fatalf("events.ticket: %v %+v", e, tk)
	}
	if exp, err := time.Parse(time.RFC3339, tk.Expires); err != nil || time.Until(exp) > time.Minute || time.Until(exp) <= 0 {
		t.Fatalf("ticket expires %q: want within a minute", tk.Expires)
	}
	byTicket, code, body := openSSE(t, hub.URL+"/events?ticket="+tk.Ticket, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /events?ticket: %d %s", code, body)
	}
	if _, code, _ := openSSE(t, hub.URL+"/events?ticket="+tk.Ticket, "", nil); code != http.StatusUnauthorized {
		t.Fatalf("a ticket used twice: %d", code)
	}
	byBearer, code, body := openSSE(t, hub.URL+"/events", alice.AccessToken, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /events with the bearer: %d %s", code, body)
	}

	// A write on spoke a reaches the hub (push: origin sync on the hub's
	// streams) and spoke b (pull: origin sync on b's socket).
	n := mustCreate(t, a, map[string]any{"title": "from a"})
	syncNow(t, a)
	for _, s := range []*sseStream{byTicket, byBearer} {
		_, ev := s.nextEvent()
		if got, ok := nodeChange(ev, n.ID); !ok || got.Change != "create" || got.Kind != "task" || ev.Origin != originSync {
			t.Fatalf("hub stream: %+v", ev)
		}
	}
	syncNow(t, b)
	ev := subB.nextEvent()
	if got, ok := nodeChange(ev, n.ID); !ok || got.Change != "create" || ev.Origin != originSync || len(ev.Nodes) != 3 {
		t.Fatalf("spoke b: %+v", ev)
	}
	// A web client's write through /rpc is local on the hub.
	var doc Node
	if e := hubRPC(t, hub.URL, alice.AccessToken, "doc.create", map[string]any{"title": "from the web"}, &doc); e != nil {
		t.Fatal(e)
	}
	m, ev := byBearer.nextEvent()
	if got, ok := nodeChange(ev, doc.ID); !ok || ev.Origin != originLocal {
		t.Fatalf("hub /rpc write: %+v %+v", ev, got)
	}
	lastID := m.id
	// Edits on b: local events on b; what b pulls (the web's doc) is one
	// sync event; a gets the doc and b's edits in one sync event, once.
	subA := subscribeEvents(t, a.Socket, nil)
	b.MustHeph("edit", n.Handle, "--attention", "red")
	b.MustHeph("done", n.Handle)
	for i := 0; i < 2; i++ {
		if ev := subB.nextEvent(); ev.Origin != originLocal {
			t.Fatalf("b's own edit %d: %+v", i, ev)
		}
	}
	syncNow(t, b)
	if ev := subB.nextEvent(); ev.Origin != originSync || len(ev.Nodes) != 1 || ev.Nodes[0].ID != doc.ID {
		t.Fatalf("b pulls the web's doc: %+v", ev)
	}
	syncNow(t, a)
	ev = subA.nextEvent()
	if _, ok := nodeChange(ev, doc.ID); !ok || ev.Origin != originSync {
		t.Fatalf("a pulls: %+v", ev)
	}
	if got, ok := nodeChange(ev, n.ID); !ok || got.Change != "update" {
		t.Fatalf("a pulls b's edits: %+v", ev)
	}
	subA.quiet(300 * time.Millisecond)
	subB.quiet(100 * time.Millisecond)

	// Last-Event-ID resumes: everything after the web write, once.
	resumed, code, body := openSSE(t, hub.URL+"/events", alice.AccessToken, map[string]string{"Last-Event-ID": lastID})
	if code != http.StatusOK {
		t.Fatalf("resume: %d %s", code, body)
	}
	_, r1 := resumed.nextEvent()
	_, live := byBearer.nextEvent()
	if seqOf(t, r1) != seqOf(t, live) || r1.Origin != originSync {
		t.Fatalf("resumed %+v, live %+v", r1, live)
	}
	// The web app's reconnect: a new ticket and ?after=<last seq> resume
	// the same way (EventSource cannot resend Last-Event-ID on a new URL).
	var tk2 ticketReply
	if e := hubRPC(t, hub.URL, alice.AccessToken, "events.ticket", map[string]any{}, &tk2); e != nil {
		t.Fatal(e)
	}
	byAfter, code, body := openSSE(t, hub.URL+"/events?ticket="+tk2.Ticket+"&after="+lastID, "", nil)
	if code != http.StatusOK {
		t.Fatalf("resume with a ticket and after: %d %s", code, body)
	}
	if _, r2 := byAfter.nextEvent(); seqOf(t, r2) != seqOf(t, live) || r2.Origin != originSync {
		t.Fatalf("resumed by ticket and after: %+v, live %+v", r2, live)
	}
	if _, code, _ := openSSE(t, hub.URL+"/events", alice.AccessToken, map[string]string{"Last-Event-ID": "x"}); code != http.StatusBadRequest {
		t.Fatalf("a bad Last-Event-ID: %d", code)
	}
}

// TestHubEventsLimits: the hub's internal knobs (heartbeat, ticket
// lifetime, streams per owner) shortened in-process; a real HTTP client.
func TestHubEventsLimits(t *testing.T) {
	th := newTestHub(t, daemonOptions{})
	th.events.heartbeat = 50 * time.Millisecond
	th.events.ticketTTL = 300 * time.Millisecond
	th.events.maxStreams = 2
	tok := "tok:alice"

	s1, code, body := openSSE(t, th.URL+"/events", tok, nil)
	if code != http.StatusOK {
		t.Fatalf("stream: %d %s", code, body)
	}
	beats := 0
	deadline := time.After(5 * time.Second)
	for beats < 3 {
		select {
		case m := <-s1.msgs:
			if m.comment == "heartbeat" {
				beats++
			}
		case <-deadline:
			t.Fatalf("%d heartbeats in 5s at a 50ms interval", beats)
		}
	}
	var tk ticketReply
	if e := hubRPC(t, th.URL, tok, "events.ticket", map[string]any{}, &tk); e != nil {
		t.Fatal(e)
	}
	if e := hubRPC(t, th.URL, tok, "events.ticket", map[string]any{"x": 1}, nil); e == nil || e.Code != codeInvalidParams {
		t.Fatalf("events.ticket with a param: %v", e)
	}
	time.Sleep(400 * time.Millisecond)
	if _, code, _ := openSSE(t, th.URL+"/events?ticket="+tk.Ticket, "", nil); code != http.StatusUnauthorized {
		t.Fatalf("an expired ticket: %d", code)
	}
	if _, code, _ := openSSE(t, th.URL+"/events", tok, nil); code != http.StatusOK {
		t.Fatalf("second stream: %d", code)
	}
	if _, code, _ := openSSE(t, th.URL+"/events", tok, nil); code != http.StatusTooManyRequests {
		t.Fatalf("a third stream over the limit of 2: %d", code)
	}
	// Another owner has its own limit (multi-owner is off: bob is refused).
	if _, code, _ := openSSE(t, th.URL+"/events", "tok:bob", nil); code != http.StatusForbidden {
		t.Fatalf("another subject on a single-owner hub: %d", code)
	}
}
