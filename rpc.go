// The JSON-RPC 2.0 wire format: messages, error codes, params decoding and the dispatcher.

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"runtime/debug"
	"strings"
)

// The wire protocol is JSON-RPC 2.0, one message per line (see
// docs/protocol.md). This file holds the message types, the error codes and
// the dispatcher that turns one request line into one reply line.

// JSON-RPC error codes. The -3200x codes are heph's own.
const (
	codeParse          = -32700 // the line is not JSON
	codeInvalidRequest = -32600 // JSON, but not a request
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	codeInternal       = -32603
	codeServer         = -32000 // the request was valid but failed
	codeNotFound       = -32001 // no node with that id
	codeAmbiguous      = -32002 // an id prefix matches several nodes
	codeConflict       = -32003 // the node changed since the client read it
	codeUnavailable    = -32004 // a mode or peer that is not available
	codeUnauthorized   = -32005 // the hub refused the credentials
)

// maxLine is the longest request line accepted; a longer one is answered
// with an error and its connection closed.
const maxLine = 4 << 20

type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

type rpcResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

// rpcError is a JSON-RPC error object; handlers may return one to choose
// the code.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (e *rpcError) Error() string { return e.Message }

// invalidParams builds a -32602 error a person can act on.
func invalidParams(format string, args ...any) *rpcError {
	return &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf(format, args...)}
}

// handler serves one method. params is the raw "params" member (may be nil).
type handler func(ctx context.Context, params json.RawMessage) (any, error)

// dispatcher routes requests to handlers.
type dispatcher struct {
	methods map[string]handler
	log     *log.Logger
}

// decodeParams decodes params strictly into v: unknown members and wrong
// types are -32602 errors that name the problem.
func decodeParams(params json.RawMessage, v any) error {
	if len(bytes.TrimSpace(params)) == 0 || string(bytes.TrimSpace(params)) == "null" {
		params = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field == "":
			return invalidParams("params must be an object, not %s", te.Value)
		case errors.As(err, &te):
			return invalidParams("param %q must be %s, not %s", te.Field, jsonTypeName(te.Type.String()), te.Value)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return invalidParams("unknown param %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
		}
		return invalidParams("params must be an object: %v", err)
	}
	return nil
}

func jsonTypeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case goType == "string", goType == "*string":
		return "a string"
	case goType == "bool", goType == "*bool":
		return "a boolean"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	}
	return "a " + goType
}

// handleLine answers one request line. It returns nil for a notification
// (a request without an id), which gets no reply.
func (d *dispatcher) handleLine(ctx context.Context, line []byte) []byte {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return nil
	}
	var req rpcRequest
	if err := json.Unmarshal(line, &req); err != nil {
		switch {
		case !json.Valid(line):
			return encodeReply(nil, nil, &rpcError{Code: codeParse, Message: "parse error: " + err.Error()})
		case line[0] == '[':
			return encodeReply(nil, nil, &rpcError{Code: codeInvalidRequest, Message: "batch requests are not supported: send one request per line"})
		}
		return encodeReply(nil, nil, &rpcError{Code: codeInvalidRequest, Message: `invalid request: want {"jsonrpc":"2.0","id":...,"method":"...","params":{...}}: ` + err.Error()})
	}
	if req.JSONRPC != "2.0" || req.Method == "" {
		return encodeReply(req.ID, nil, &rpcError{Code: codeInvalidRequest, Message: `invalid request: want {"jsonrpc":"2.0","id":...,"method":...}`})
	}
	result, err := d.call(ctx, req)
	if req.ID == nil {
		return nil
	}
	return encodeReply(req.ID, result, err)
}

// call runs the handler, turning a panic into an internal error.
func (d *dispatcher) call(ctx context.Context, req rpcRequest) (result any, err error) {
	h, ok := d.methods[req.Method]
	if !ok {
		return nil, &rpcError{Code: codeMethodNotFound, Message: fmt.Sprintf("unknown method %q (see docs/protocol.md)", req.Method)}
	}
	defer func() {
		if p := recover(); p != nil {
			if d.log != nil {
				d.log.Printf("panic in %s: %v\n%s", req.Method, p, debug.Stack())
			}
			result, err = nil, &rpcError{Code: codeInternal, Message: fmt.Sprintf("internal error in %s (logged by hephd)", req.Method)}
		}
	}()
	return h(ctx, req.Params)
}

// marshalJSON is json.Marshal without HTML escaping: heph's wire and its
// ops carry text, and escaping each <, > and & as \u003c makes them up to
// six times larger (a body of 4 MiB of "<" would not fit a request).
// Everything heph encodes for the socket, the hub or an op goes through it.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// encodeReply builds a reply line (with its trailing newline).
func encodeReply(id json.RawMessage, result any, err error) []byte {
	if id == nil {
		id = json.RawMessage("null")
	}
	resp := rpcResponse{JSONRPC: "2.0", ID: id}
	if err != nil {
		resp.Error = toRPCError(err)
	} else if enc, ok := result.(encodedNodes); ok {
		return resultLine(id, enc)
	} else {
		b, merr := marshalJSON(result)
		if merr != nil {
			resp.Error = &rpcError{Code: codeInternal, Message: "encode result: " + merr.Error()}
		} else {
			resp.Result = b
		}
	}
	out, merr := marshalJSON(resp)
	if merr != nil {
		out = []byte(`{"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"encode reply failed"}}`)
	}
	return append(out, '\n')
}

// resultLine is a reply line carrying an already encoded result as it
// is (a listing of many tasks is not re-scanned); the id is compacted, as
// marshalJSON would, so the reply stays one line.
func resultLine(id json.RawMessage, result []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(result) + len(id) + 40)
	b.WriteString(`{"jsonrpc":"2.0","id":`)
	if err := json.Compact(&b, id); err != nil {
		return encodeReply(nil, nil, &rpcError{Code: codeInternal, Message: "encode reply: bad id"})
	}
	b.WriteString(`,"result":`)
	b.Write(result)
	b.WriteString("}\n")
	return b.Bytes()
}

// toRPCError maps an error to a JSON-RPC error object.
func toRPCError(err error) *rpcError {
	var re *rpcError
	if errors.As(err, &re) {
		return re
	}
	var amb *ambiguousError
	if errors.As(err, &amb) {
		cands := make([]map[string]string, 0, len(amb.candidates))
		for _, n := range amb.candidates {
			cands = append(cands, map[string]string{"id": n.ID, "handle": n.Handle, "title": n.Title})
		}
		return &rpcError{Code: codeAmbiguous, Message: amb.Error(), Data: map[string]any{"candidates": cands}}
	}
	if errors.Is(err, errNotFound) {
		return &rpcError{Code: codeNotFound, Message: err.Error()}
	}
	return &rpcError{Code: codeServer, Message: err.Error()}
}
