// events_hub.go owns the hub's live events: GET /events (Server-Sent Events) and the single-use tickets of events.ticket.

package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A web client of the hub follows its owner's store with GET /events. It
// authenticates like /rpc (Authorization: Bearer), or — since a browser's
// EventSource cannot set headers — with ?ticket=T from POST /rpc
// events.ticket: a random ticket, good once, for hubTicketTTL. The access
// token itself never goes in a URL. Each event is one SSE message (id: the
// seq, event: event, data: the params JSON); a comment line every
// heartbeat keeps proxies from closing an idle stream; Last-Event-ID (sent
// by EventSource when it reconnects) resumes like the socket's `after`.

// Hub event limits (the defaults of hubEvents).
const (
	hubHeartbeat       = 25 * time.Second
	hubTicketTTL       = 30 * time.Second
	hubStreamsPerOwner = 32
	hubTicketsPerOwner = 64 // unredeemed tickets an owner may hold
)

// hubEvents issues tickets and counts the hub's event streams. Its
// durations are fields so in-process tests can shorten them.
type hubEvents struct {
	heartbeat   time.Duration
	ticketTTL   time.Duration
	maxStreams  int
	now         func() time.Time
	mu          sync.Mutex
	tickets     map[string]eventTicket
	streams     map[string]int // owner key -> open streams
	done        chan struct{}  // closed when the hub shuts down
	closeOnce   sync.Once
	lookupOwner func(key string) (*ownerStore, error)
}

// eventTicket is what an issued ticket stands for.
type eventTicket struct {
	owner   string // owner key
	subject string
	expires time.Time
}

func newHubEvents(lookup func(key string) (*ownerStore, error)) *hubEvents {
	return &hubEvents{heartbeat: hubHeartbeat, ticketTTL: hubTicketTTL, maxStreams: hubStreamsPerOwner, now: time.Now,
		tickets: map[string]eventTicket{}, streams: map[string]int{}, done: make(chan struct{}), lookupOwner: lookup}
}

// shutdown ends every stream (the HTTP server waits for open requests).
func (e *hubEvents) shutdown() { e.closeOnce.Do(func() { close(e.done) }) }

// ticketReply is the result of events.ticket.
type ticketReply struct {
	Ticket  string `json:"ticket"`
	Expires string `json:"expires"`
}

// hubSubjectKey carries the authenticated subject of a /rpc request.
type hubSubjectKey struct{}

// rpcEventsTicket issues a ticket for GET /events?ticket=T. Only a hub
// serves it (POST /rpc), for the owner the request authenticated as.
func (d *daemon) rpcEventsTicket(ctx context.Context, params json.RawMessage) (any, error) {
	var p noParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	sub, _ := ctx.Value(hubSubjectKey{}).(string)
	if d.hubEvents == nil || sub == "" {
		return nil, &rpcError{Code: codeUnavailable, Message: "events.ticket is served by a hub (hephd --mode server) on POST /rpc; on the socket use events.subscribe"}
	}
	return d.hubEvents.issue(d.ownerKey, sub)
}

// issue makes a ticket for owner, dropping expired ones first.
func (e *hubEvents) issue(owner, subject string) (ticketReply, error) {
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return ticketReply{}, fmt.Errorf("make a ticket: %w", err)
	}
	t := base64.RawURLEncoding.EncodeToString(raw[:])
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	held := 0
	for k, v := range e.tickets {
		switch {
		case !now.Before(v.expires):
			delete(e.tickets, k)
		case v.owner == owner:
			held++
		}
	}
	if held >= hubTicketsPerOwner {
		return ticketReply{}, &rpcError{Code: codeServer, Message: fmt.Sprintf("%d unused event tickets are outstanding: use one (GET /events?ticket=T) or wait %s", held, e.ticketTTL)}
	}
	exp := now.Add(e.ticketTTL)
	e.tickets[t] = eventTicket{owner: owner, subject: subject, expires: exp}
	return ticketReply{Ticket: t, Expires: exp.UTC().Format(time.RFC3339)}, nil
}

// redeem takes a ticket: it is good once and only until it expires.
func (e *hubEvents) redeem(t string) (eventTicket, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.tickets[t]
	delete(e.tickets, t)
	return v, ok && e.now().Before(v.expires)
}

// acquire counts a stream for owner unless it has the most allowed.
func (e *hubEvents) acquire(owner string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.streams[owner] >= e.maxStreams {
		return false
	}
	e.streams[owner]++
	return true
}

func (e *hubEvents) release(owner string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.streams[owner]--; e.streams[owner] <= 0 {
		delete(e.streams, owner)
	}
}

// serveEvents is GET /events: a ticket in the query, or the bearer token.
func (h *hub) serveEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Has("access_token") {
		httpError(w, http.StatusBadRequest, "never put an access token in a URL: get a ticket with events.ticket and pass ?ticket=T")
		return
	}
	if !q.Has("ticket") {
		h.authed(func(w http.ResponseWriter, r *http.Request, o *ownerStore, sub string) {
			h.streamEvents(w, r, o)
		})(w, r)
		return
	}
	t, ok := h.events.redeem(q.Get("ticket"))
	if !ok {
		unauthorized(w, "invalid_token", "event ticket unknown, already used or expired: get a new one with events.ticket")
		return
	}
	if !h.limiter.allow(t.subject, time.Now()) {
		w.Header().Set("Retry-After", "1")
		httpError(w, http.StatusTooManyRequests, "rate limit exceeded: slow down")
		return
	}
	o, err := h.events.lookupOwner(t.owner)
	if err != nil {
		h.log.Printf("hub: owner store for an event ticket: %v", err)
		httpError(w, http.StatusInternalServerError, "owner store unavailable (logged by the hub)")
		return
	}
	defer h.release(o) // the LRU never closes a store a stream still reads
	h.streamEvents(w, r, o)
}

// resumePoint reads Last-Event-ID (or ?after=, for a first connection that
// knows a seq): nil when absent.
func resumePoint(r *http.Request) (*int64, error) {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("after")
	}
	if v == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("Last-Event-ID (or after) must be an event seq, not %q", v)
	}
	return &n, nil
}

// streamEvents serves one owner's events as Server-Sent Events until the
// client goes, the store closes or the hub shuts down.
func (h *hub) streamEvents(w http.ResponseWriter, r *http.Request, o *ownerStore) {
	after, err := resumePoint(r)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	key := o.d.ownerKey
	if !h.events.acquire(key) {
		w.Header().Set("Retry-After", "5")
		httpError(w, http.StatusTooManyRequests, fmt.Sprintf("too many live event streams for this owner (at most %d): close some", h.events.maxStreams))
		return
	}
	defer h.events.release(key)
	sub, seq, err := o.d.store.events.subscribe(r.Context(), after, eventQueueMax)
	if err != nil {
		httpError(w, http.StatusServiceUnavailable, "cannot subscribe: "+err.Error())
		return
	}
	defer sub.close()
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	rc.SetReadDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n: subscribed at seq %d\n\n", seq)
	if rc.Flush() != nil {
		return
	}
	h.pumpSSE(r.Context(), w, rc, sub)
}

// pumpSSE writes events and heartbeats until the stream ends.
func (h *hub) pumpSSE(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, sub *eventSub) {
	beat := time.NewTicker(h.events.heartbeat)
	defer beat.Stop()
	for {
		wrote := false
		for {
			ev, closed := sub.take()
			if closed {
				return
			}
			if ev == nil {
				break
			}
			writeSSE(w, ev)
			wrote = true
		}
		if wrote && rc.Flush() != nil {
			return
		}
		select {
		case <-sub.ready:
		case <-beat.C:
			if _, err := w.Write([]byte(": heartbeat\n\n")); err != nil || rc.Flush() != nil {
				return
			}
		case <-ctx.Done():
			return
		case <-h.events.done:
			return
		}
	}
}

// writeSSE writes one event message: id (not for ticks, which have no
// seq), the event name and the params JSON (one line).
func writeSSE(w http.ResponseWriter, ev *event) {
	var b strings.Builder
	if ev.params.Seq != nil {
		fmt.Fprintf(&b, "id: %d\n", *ev.params.Seq)
	}
	b.WriteString("event: event\ndata: ")
	b.Write(ev.Data())
	b.WriteString("\n\n")
	w.Write([]byte(b.String()))
}
