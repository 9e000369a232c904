// The thin client (hephd --mode client): forwarding methods to the hub's /rpc.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// A thin client (hephd --mode client --hub-url URL) keeps no replica: it
// serves the local socket and forwards the methods marked thin in the
// method table (rpc_methods.go) to the hub's POST /rpc with the bearer
// token; it answers the others (daemon.info, sync.status, auth.*) itself. Online only: when the hub cannot be reached the caller
// gets codeUnavailable saying so.

// forwarder sends JSON-RPC requests to a hub.
type forwarder struct {
	c *hubClient
}

// forward makes one call at the hub and returns its result or error.
func (f *forwarder) forward(ctx context.Context, req rpcRequest) (any, error) {
	body := rpcRequest{JSONRPC: "2.0", ID: json.RawMessage("1"), Method: req.Method, Params: req.Params}
	var reply struct {
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	err := f.c.do(ctx, http.MethodPost, "/rpc", body, &reply)
	var ae *hubAuthError
	switch {
	case errors.As(err, &ae):
		return nil, &rpcError{Code: codeUnauthorized, Message: err.Error()}
	case err != nil:
		return nil, &rpcError{Code: codeUnavailable, Message: fmt.Sprintf("thin client: %v (this hephd keeps no local copy; try again when the hub is reachable)", err)}
	case reply.Error != nil:
		return nil, reply.Error
	}
	return reply.Result, nil
}

// thinStatus is sync.status for a thin client: it asks the hub's
// /healthz-free /config and reports reachability.
func (f *forwarder) status(ctx context.Context, params json.RawMessage) (any, error) {
	var p struct{}
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	st := map[string]any{"mode": "client", "hub": f.c.base}
	var cfg hubConfig
	if err := f.c.do(ctx, http.MethodGet, "/config", nil, &cfg); err != nil {
		st["reachable"] = false
		st["last_error"] = err.Error()
		if isAuthFailure(err.Error()) {
			st["auth"], st["needs_login"] = "needs_login", true
		}
		return st, nil
	}
	st["reachable"] = true
	st["hub_version"] = cfg.Version
	return st, nil
}
