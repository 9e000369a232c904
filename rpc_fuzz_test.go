package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"testing"
	"time"
)

// FuzzHandleLine feeds arbitrary bytes to a live socket server (the real
// request reader, dispatcher and method table over a real temp store) and
// checks that every reply is a well-formed JSON-RPC 2.0 response and that
// the server survives. Run with `make fuzz`.
func FuzzHandleLine(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"daemon.info"}`,
		`{"jsonrpc":"2.0","id":"x","method":"task.create","params":{"title":"fuzz"}}`,
		`{"jsonrpc":"2.0","id":2,"method":"task.list","params":{"state":"all"}}`,
		`{"jsonrpc":"2.0","id":3,"method":"node.get","params":{"id":"abcd"}}`,
		`{"jsonrpc":"2.0","method":"daemon.info"}`,
		`{"jsonrpc":"2.0","id":null,"method":"task.list","params":null}`,
		`{"jsonrpc":"2.0","id":4,"method":"task.create","params":{"title":5}}`,
		`{"jsonrpc":"2.0","id":5,"method":"task.create","params":[1,2]}`,
		`{"jsonrpc":"2.0","id":6,"method":"no.such"}`,
		`{"jsonrpc":"1.0","id":7,"method":"daemon.info"}`,
		`[{"jsonrpc":"2.0","id":8,"method":"daemon.info"}]`,
		`{"jsonrpc":"2.0","id":{"a":1},"method":"daemon.info"}`,
		`{"jsonrpc":"2.0","id":9,"method":"`,
		"42", "null", "\"str\"", "", "\n\n", "\xff\xfe{",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"daemon.info\"}\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"task.list\"}\nnot json\n",
	} {
		f.Add([]byte(seed))
	}
	// Methods that read or write directories named in their params stay out:
	// a mutated request must not export into, or import from, the machine.
	ip := serveInProcessEdit(f, func(m map[string]handler) {
		for name := range m {
			if name == "export" || name == "export.markdown" || name == "import.markdown" {
				delete(m, name)
			}
		}
	})
	f.Fuzz(func(t *testing.T, input []byte) {
		c, err := net.Dial("unix", ip.Socket)
		if err != nil {
			t.Fatalf("server gone: %v", err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		go func() {
			c.Write(input)
			c.(*net.UnixConn).CloseWrite()
		}()
		lines := 0
		for _, l := range bytes.Split(input, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				lines++
			}
		}
		sc := bufio.NewScanner(c)
		sc.Buffer(make([]byte, 64<<10), 2*maxLine)
		replies := 0
		for sc.Scan() {
			replies++
			var members map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &members); err != nil {
				t.Fatalf("reply %q is not a JSON object: %v", sc.Bytes(), err)
			}
			_, hasID := members["id"]
			_, hasResult := members["result"]
			rawErr, hasError := members["error"]
			if string(members["jsonrpc"]) != `"2.0"` || !hasID || hasResult == hasError {
				t.Fatalf("reply %q is not a JSON-RPC 2.0 response", sc.Bytes())
			}
			if hasError {
				var e rpcError
				if err := json.Unmarshal(rawErr, &e); err != nil || e.Code == 0 || e.Message == "" {
					t.Fatalf("error reply %q lacks a code or message: %v", sc.Bytes(), err)
				}
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("reading replies: %v", err)
		}
		if replies > lines {
			t.Fatalf("%d replies to %d lines", replies, lines)
		}
	})
}
