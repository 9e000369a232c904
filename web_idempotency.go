// web_idempotency.go owns the hub's Idempotency-Key on /rpc: a replayed write applies once and gets the first reply.

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// A client that may lose a reply (a phone going offline mid-request, the
// web app replaying its offline queue) sends "Idempotency-Key: K" with a
// request to POST /rpc. The hub records, in the owner's store, K with a
// fingerprint of the request and the reply it gave. A later request with
// the same K from the same owner is not run again: it gets the recorded
// reply (with its own JSON-RPC id) and "Idempotency-Replayed: true". Only
// methods the table marks mutates are recorded; a key on a read is ignored. The
// same K with a different method or params is 422. Keys are per owner
// store, so two owners never see each other's keys. Replies that say the
// hub could not run the request (internal, unavailable) are not recorded,
// so a retry runs it. Keys are kept idemRetention.
//
// Limit: the key is recorded just after the method's own transaction
// commits; a hub crash in between would let a replay apply again.

const (
	idemHeader    = "Idempotency-Key"
	idemMaxKey    = 128
	idemRetention = 30 * 24 * time.Hour
)

// idemKeys serializes keyed requests per owner store, so two copies of one
// request racing each other still apply once.
type idemKeys struct {
	mu    sync.Mutex
	locks map[*Store]*sync.Mutex
	ready map[*Store]bool
}

func newIdemKeys() *idemKeys {
	return &idemKeys{locks: map[*Store]*sync.Mutex{}, ready: map[*Store]bool{}}
}

// lock returns the held lock of s's keyed requests, creating its table on
// first use.
func (k *idemKeys) lock(ctx context.Context, s *Store) (*sync.Mutex, error) {
	k.mu.Lock()
	l := k.locks[s]
	if l == nil {
		l = &sync.Mutex{}
		k.locks[s] = l
	}
	ready := k.ready[s]
	k.mu.Unlock()
	l.Lock()
	if !ready {
		if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS hub_idempotency (
			key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, reply BLOB NOT NULL, created INTEGER NOT NULL)`); err != nil {
			l.Unlock()
			return nil, fmt.Errorf("create idempotency table: %w", err)
		}
		k.mu.Lock()
		k.ready[s] = true
		k.mu.Unlock()
	}
	return l, nil
}

// validIdemKey accepts 1–128 printable ASCII characters without spaces.
func validIdemKey(key string) bool {
	if key == "" || len(key) > idemMaxKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return false
		}
	}
	return true
}

// dispatchRPC runs one /rpc request body, honouring an Idempotency-Key. It
// writes an HTTP error itself and returns ok=false when the key is bad.
func (h *hub) dispatchRPC(w http.ResponseWriter, r *http.Request, o *ownerStore, body []byte) (reply []byte, ok bool) {
	key := r.Header.Get(idemHeader)
	if key == "" {
		return o.disp.handleLine(r.Context(), body), true
	}
	if !validIdemKey(key) {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("%s must be 1-%d printable characters without spaces", idemHeader, idemMaxKey))
		return nil, false
	}
	var req rpcRequest
	if err := json.Unmarshal(bytes.TrimSpace(body), &req); err != nil || req.ID == nil {
		httpError(w, http.StatusBadRequest, "a request with an "+idemHeader+" must be one JSON-RPC request with an id")
		return nil, false
	}
	if m, known := lookupMethod(req.Method); !known || !m.mutates {
		// Reads are safe to repeat: nothing to record.
		return o.disp.handleLine(r.Context(), body), true
	}
	l, err := h.idem.lock(r.Context(), o.d.store)
	if err != nil {
		h.log.Printf("hub: %v", err)
		httpError(w, http.StatusInternalServerError, "idempotency store unavailable (logged by the hub)")
		return nil, false
	}
	defer l.Unlock()
	fp := idemFingerprint(req)
	prev, prevFP, err := idemLookup(r.Context(), o.d.store, key)
	switch {
	case err != nil:
		h.log.Printf("hub: idempotency lookup: %v", err)
		httpError(w, http.StatusInternalServerError, "idempotency store unavailable (logged by the hub)")
		return nil, false
	case prev != nil && prevFP != fp:
		httpError(w, http.StatusUnprocessableEntity, idemHeader+" was already used for a different request: use a new key for each change")
		return nil, false
	case prev != nil:
		w.Header().Set("Idempotency-Replayed", "true")
		return withReplyID(prev, req.ID), true
	}
	reply = o.disp.handleLine(r.Context(), body)
	if idemWorthKeeping(reply) {
		if err := idemRecord(r.Context(), o.d.store, key, fp, reply); err != nil {
			h.log.Printf("hub: record idempotency key: %v", err)
		}
	}
	return reply, true
}

// idemFingerprint identifies a request by method and params (not its id).
func idemFingerprint(req rpcRequest) string {
	var params bytes.Buffer
	if len(req.Params) > 0 && json.Compact(&params, req.Params) != nil {
		params.Reset()
		params.Write(req.Params)
	}
	sum := sha256.Sum256([]byte(req.Method + "\x00" + params.String()))
	return hex.EncodeToString(sum[:])
}

// idemWorthKeeping: replies that ran (results and the method's own
// errors); not those that say the hub could not run the request.
func idemWorthKeeping(reply []byte) bool {
	var r struct {
		Error *rpcError `json:"error"`
	}
	if json.Unmarshal(reply, &r) != nil {
		return false
	}
	return r.Error == nil || (r.Error.Code != codeInternal && r.Error.Code != codeUnavailable)
}

func idemLookup(ctx context.Context, s *Store, key string) (reply []byte, fp string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT reply, fingerprint FROM hub_idempotency WHERE key = ?`, key).Scan(&reply, &fp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read idempotency key: %w", err)
	}
	return reply, fp, nil
}

func idemRecord(ctx context.Context, s *Store, key, fp string, reply []byte) error {
	now := time.Now()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM hub_idempotency WHERE created < ?`, now.Add(-idemRetention).UnixMilli()); err != nil {
		return fmt.Errorf("prune idempotency keys: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO hub_idempotency(key, fingerprint, reply, created) VALUES (?, ?, ?, ?)`,
		key, fp, reply, now.UnixMilli()); err != nil {
		return fmt.Errorf("record idempotency key: %w", err)
	}
	return nil
}

// withReplyID re-addresses a recorded reply to the replaying request's id.
func withReplyID(reply []byte, id json.RawMessage) []byte {
	var m struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  json.RawMessage `json:"result,omitempty"`
		Error   json.RawMessage `json:"error,omitempty"`
	}
	if json.Unmarshal(reply, &m) != nil {
		return reply
	}
	m.ID = id
	b, err := json.Marshal(m)
	if err != nil {
		return reply
	}
	return append(b, '\n')
}
