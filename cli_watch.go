// cli_watch.go owns `heph watch`: print hephd's live events, resuming across daemon restarts.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

func watchCommand() *command {
	return &command{name: "watch", lasting: true, example: "heph watch --json | jq .nodes", args: "[--json] [--after SEQ]", summary: "print every change as it is committed (and time ticks), until interrupted",
		flags: func(fs *flag.FlagSet) {
			fs.Int64("after", -1, "first replay the events after `seq` (a seq printed earlier)")
		}, run: cmdWatch}
}

// watchMsg is one line from a subscribed connection.
type watchMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
}

func cmdWatch(c *cli, fs *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 0, "no arguments"); err != nil {
		return err
	}
	var after *int64
	if v := fs.Lookup("after").Value.(flag.Getter).Get().(int64); v != -1 {
		if v < 0 {
			return usagef("--after takes a seq (0 or more), not %d", v)
		}
		after = &v
	}
	socket, err := resolveSocket(c.socket, osGetenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := &watcher{c: c, socket: socket, after: after}
	return w.run(ctx)
}

// watcher follows one daemon's events across its restarts.
type watcher struct {
	c      *cli
	socket string
	after  *int64 // resume point: the last seq seen
	lookup *rpcClient
}

// run subscribes until ctx ends. The first connection must succeed
// (connect-only: a daemon that is not running is exit status 3); after
// that a lost daemon is waited for and the stream resumes after the last
// seq seen.
func (w *watcher) run(ctx context.Context) error {
	defer func() {
		if w.lookup != nil {
			w.lookup.Close()
		}
	}()
	first := true
	for {
		err := w.follow(ctx, first)
		if ctx.Err() != nil {
			return nil
		}
		if first && err != nil && !errors.Is(err, errWatchLost) {
			return err
		}
		first = false
		resume := "from now"
		if w.after != nil {
			resume = fmt.Sprintf("after seq %d", *w.after)
		}
		fmt.Fprintf(w.c.stderr, "heph watch: lost hephd (%v); waiting for it to come back, then resuming %s\n", err, resume)
		if !w.waitDaemon(ctx) {
			return nil
		}
	}
}

var errWatchLost = errors.New("the connection to hephd closed")

// waitDaemon waits until the socket accepts a connection or ctx ends.
func (w *watcher) waitDaemon(ctx context.Context) bool {
	delay := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(delay):
		}
		if cl, err := dialDaemon(w.socket); err == nil {
			cl.Close()
			return true
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// follow makes one subscription and prints its events until the
// connection ends.
func (w *watcher) follow(ctx context.Context, first bool) error {
	cl, err := dialDaemon(w.socket)
	if err != nil {
		return err
	}
	defer cl.Close()
	defer context.AfterFunc(ctx, func() { cl.Close() })()
	params := map[string]any{}
	if w.after != nil {
		params["after"] = *w.after
	}
	line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "events.subscribe", "params": params})
	if err != nil {
		return fmt.Errorf("encode events.subscribe: %w", err)
	}
	if err := cl.send(ctx, append(line, '\n')); err != nil {
		return fmt.Errorf("%w: %v", errWatchLost, err)
	}
	for {
		raw, err := cl.r.ReadBytes('\n')
		if err != nil {
			return errWatchLost
		}
		var m watchMsg
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("bad line from hephd: %w", err)
		}
		if m.Error != nil {
			return m.Error
		}
		if m.Method != "event" {
			if first && w.after == nil {
				var r subscribeResult
				if json.Unmarshal(m.Result, &r) == nil {
					w.after = &r.Seq
				}
			}
			continue
		}
		if err := w.print(m.Params); err != nil {
			return err
		}
	}
}

// print writes one event and remembers its seq.
func (w *watcher) print(raw json.RawMessage) error {
	var p eventParams
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("bad event from hephd: %w", err)
	}
	if p.Seq != nil {
		seq := *p.Seq
		w.after = &seq
	}
	var err error
	if w.c.json {
		_, err = fmt.Fprintf(w.c.stdout, "%s\n", raw)
	} else {
		_, err = fmt.Fprintln(w.c.stdout, w.describe(p))
	}
	if err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	if f, ok := w.c.stdout.(*os.File); ok {
		f.Sync()
	}
	return nil
}

// describe is an event's one-line human form, naming up to five nodes by
// handle and title.
func (w *watcher) describe(p eventParams) string {
	switch {
	case p.Tick:
		return fmt.Sprintf("tick %s: a do or late date came", p.At)
	case p.Resync:
		return fmt.Sprintf("%d resync: events were missed; refetch what you show", *p.Seq)
	}
	// Tasks first: a new task's event also creates its two docs.
	nodes := append([]eventNode(nil), p.Nodes...)
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Kind == "task" && nodes[j].Kind != "task" })
	var parts []string
	for i, n := range nodes {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(p.Nodes)-5))
			break
		}
		parts = append(parts, fmt.Sprintf("%sd %s %s", n.Change, n.Kind, w.name(n.ID)))
	}
	return fmt.Sprintf("%d %s: %s", *p.Seq, p.Origin, strings.Join(parts, ", "))
}

// name is a node's handle and quoted title, or its id when hephd cannot
// say (it went away, or the node is unknown).
func (w *watcher) name(id string) string {
	if w.lookup == nil {
		cl, err := dialDaemon(w.socket)
		if err != nil {
			return id
		}
		w.lookup = cl
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var n Node
	if err := w.lookup.Call(ctx, "node.get", map[string]any{"id": id}, &n); err != nil {
		w.lookup.Close()
		w.lookup = nil
		return id
	}
	return fmt.Sprintf("%s %q", n.Handle, displayText(n.Title))
}
