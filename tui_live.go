// tui_live.go owns the TUI's live connection: events.subscribe on its own socket connection, its notifications as a channel, and noticing when hephd goes away.

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// tuiEvent is the params of an events notification (see the events
// contract in docs/protocol.md).
type tuiEvent struct {
	Seq    int64  `json:"seq"`
	Origin string `json:"origin"`
	Resync bool   `json:"resync"`
	Tick   bool   `json:"tick"`
	Nodes  []struct {
		ID     string `json:"id"`
		Kind   string `json:"kind"`
		Change string `json:"change"`
	} `json:"nodes"`
}

// tuiErrNoEvents says hephd has no events.subscribe (an older daemon).
var tuiErrNoEvents = errors.New("hephd has no events.subscribe")

// tuiLive is a subscribed events connection; Events is closed when the
// connection ends (hephd stopped).
type tuiLive struct {
	rpc    *rpcClient
	Events chan tuiEvent
}

// tuiSubscribe opens a connection and subscribes to live changes.
func tuiSubscribe(socket string) (*tuiLive, error) {
	c, err := dialDaemon(socket)
	if err != nil {
		return nil, err
	}
	req := `{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{}}` + "\n"
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write([]byte(req)); err != nil {
		c.Close()
		return nil, fmt.Errorf("subscribe to events: %w", err)
	}
	for {
		line, err := c.r.ReadBytes('\n')
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("subscribe to events: %w", err)
		}
		var msg struct {
			ID    json.RawMessage `json:"id"`
			Error *rpcError       `json:"error"`
		}
		if json.Unmarshal(line, &msg) != nil || len(msg.ID) == 0 {
			continue // a notification before the reply: the reload after subscribing covers it
		}
		if msg.Error != nil {
			c.Close()
			if msg.Error.Code == codeMethodNotFound {
				return nil, tuiErrNoEvents
			}
			return nil, fmt.Errorf("subscribe to events: %w", msg.Error)
		}
		break
	}
	c.conn.SetDeadline(time.Time{})
	l := &tuiLive{rpc: c, Events: make(chan tuiEvent, 64)}
	go l.read()
	return l, nil
}

// read forwards notifications until the connection ends.
func (l *tuiLive) read() {
	defer close(l.Events)
	for {
		line, err := l.rpc.r.ReadBytes('\n')
		if err != nil {
			return
		}
		var msg struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if json.Unmarshal(line, &msg) != nil || msg.Method != "event" {
			continue
		}
		ev, err := tuiDecodeEvent(msg.Params)
		if err != nil {
			continue
		}
		select {
		case l.Events <- ev:
		default: // the loop is behind: it reloads everything anyway
		}
	}
}

func (l *tuiLive) close() {
	if l != nil {
		l.rpc.Close()
	}
}

// patch applies an event's changes to tasks in the list at once, so an
// edit or a removal made elsewhere shows within a round trip even when the
// list is long; the full reload that follows re-ranks and adds new tasks.
func (a *tuiApp) patch(ev tuiEvent) {
	s := a.st
	if ev.Resync || ev.Tick || len(ev.Nodes) == 0 || len(ev.Nodes) > 20 {
		return
	}
	index := make(map[string]int, len(s.Tasks))
	for i := range s.Tasks {
		index[s.Tasks[i].ID] = i
	}
	previewDirty := false
	gone := map[string]bool{}
	for _, n := range ev.Nodes {
		if p := s.Preview; (p.Context != nil && p.Context.ID == n.ID) || (p.Log != nil && p.Log.ID == n.ID) {
			previewDirty = true
		}
		i, ok := index[n.ID]
		if !ok {
			continue
		}
		var node Node
		if n.Change == "delete" || a.data.call("node.get", idParams{ID: n.ID}, &node) != nil ||
			node.Deleted != nil || node.Task == nil || node.Task.State != "outstanding" {
			gone[n.ID] = true
			continue
		}
		s.Tasks[i].Node = node
		previewDirty = previewDirty || (s.current() != nil && s.current().ID == n.ID)
	}
	if len(gone) > 0 {
		keep := ""
		if t := s.current(); t != nil {
			keep = t.ID
		}
		tasks := make([]tuiTask, 0, len(s.Tasks))
		for _, t := range s.Tasks {
			if !gone[t.ID] {
				tasks = append(tasks, t)
			}
		}
		s.setTasks(tasks, keep)
		previewDirty = true
	}
	if previewDirty && tuiLayoutOf(s).preview.w > 0 {
		a.check(a.loadPreview(true))
	}
}
