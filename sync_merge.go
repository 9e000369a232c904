// The merge rules that are not plain last-writer-wins: final tombstones and add-wins links.

package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
)

// Two fields are not plain last-writer-wins, because LWW alone would let
// one replica's edit silently undo another's: a node's tombstone and the
// link set. Both are recomputed from the node's ops on every change, so
// the result is a function of the set of ops a replica holds, whatever
// order they arrived in — which is what makes replicas converge.

// recomputeDeleted sets node id's tombstone from its ops. Tombstones are
// final: a delete (deleted = time) made on any replica stands, except
// that an undelete (deleted = null, which only undo writes) cancels the
// deletes made before it by the same replica — undoing your own delete.
// It never cancels another replica's delete, so a delete cannot come back
// through sync. Of the deletes that stand, the newest (by HLC) gives the
// time. It returns whether the column changed.
func (t *Tx) recomputeDeleted(id string) (changed bool, err error) {
	dels, last, err := t.standingDeletes(id)
	if err != nil {
		return false, err
	}
	var want any // nil: live
	clock := last
	if len(dels) > 0 {
		d := dels[len(dels)-1]
		want, clock = d.at, d.hlc
	}
	var cur sql.NullInt64
	if err := t.queryRow(`SELECT deleted FROM nodes WHERE id=?`, id).Scan(&cur); err != nil {
		if err == sql.ErrNoRows {
			return false, nil // the node's create has not arrived
		}
		return false, fmt.Errorf("node %s: tombstone: %w", id, err)
	}
	if clock != "" {
		if _, err := t.exec(`INSERT INTO clocks(node,field,hlc) VALUES(?,'deleted',?) ON CONFLICT(node,field) DO UPDATE SET hlc=excluded.hlc`, id, clock); err != nil {
			return false, fmt.Errorf("node %s: tombstone clock: %w", id, err)
		}
	}
	if (want == nil && !cur.Valid) || (want != nil && cur.Valid && cur.Int64 == want.(int64)) {
		return false, nil
	}
	if _, err := t.exec(`UPDATE nodes SET deleted=? WHERE id=?`, want, id); err != nil {
		return false, fmt.Errorf("node %s: tombstone: %w", id, err)
	}
	return true, nil
}

// tombDelete is a delete of a node: the op's HLC and the time it gives.
type tombDelete struct {
	hlc string
	at  int64
}

// standingDeletes reads node id's ops that set deleted, in HLC order,
// and returns the deletes no later undelete of the same replica cancels,
// oldest first, and the HLC of the last such op ("" for none).
func (t *Tx) standingDeletes(id string) (dels []tombDelete, last string, err error) {
	st, err := t.stmt(`SELECT hlc, json_type(data,'$.fields.deleted'), json_extract(data,'$.fields.deleted') FROM ops
		WHERE node=? AND type IN ('node.create','node.set') AND json_type(data,'$.fields.deleted') IS NOT NULL ORDER BY hlc`)
	if err != nil {
		return nil, "", fmt.Errorf("node %s: tombstone: %w", id, err)
	}
	rows, err := st.QueryContext(t.ctx, id)
	if err != nil {
		return nil, "", fmt.Errorf("node %s: tombstone: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h, typ string
		var v sql.NullFloat64
		if err := rows.Scan(&h, &typ, &v); err != nil {
			return nil, "", fmt.Errorf("node %s: tombstone: %w", id, err)
		}
		last = h
		if typ != "null" {
			dels = append(dels, tombDelete{h, int64(v.Float64)})
			continue
		}
		r := hlcReplica(h)
		kept := dels[:0]
		for _, d := range dels {
			if hlcReplica(d.hlc) != r { // rows come in HLC order: d is older
				kept = append(kept, d)
			}
		}
		dels = kept
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("node %s: tombstone: %w", id, err)
	}
	return dels, last, nil
}

// observedAdds returns the ids of the link.add ops for src→dst (kind)
// this replica holds: what a link.rm made here removes.
func (t *Tx) observedAdds(src, dst, kind string) ([]string, error) {
	st, err := t.stmt(`SELECT id FROM ops WHERE node=? AND type='link.add' AND json_extract(data,'$.dst')=? AND json_extract(data,'$.kind')=? ORDER BY hlc`)
	if err != nil {
		return nil, fmt.Errorf("link %s -> %s: %w", src, dst, err)
	}
	rows, err := st.QueryContext(t.ctx, src, dst, kind)
	if err != nil {
		return nil, fmt.Errorf("link %s -> %s: %w", src, dst, err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// recomputeLink sets the link src→dst (kind) from its ops, as an
// add-wins (observed-remove) set: the link exists when some link.add op
// was not observed by any link.rm. A link.rm names the adds it saw
// (Observed); one without that list (older ops) is taken to have seen
// every add older than itself. A concurrent add and remove leave the link
// in place. The newest live add gives the label.
func (t *Tx) recomputeLink(src, dst, kind string) error {
	ops, err := t.linkOps(src, dst, kind)
	if err != nil {
		return err
	}
	live := ops.liveAdd()
	if live == nil {
		_, err = t.exec(`DELETE FROM links WHERE src=? AND dst=? AND kind=?`, src, dst, kind)
	} else {
		_, err = t.exec(`INSERT INTO links(src,dst,kind,label) VALUES(?,?,?,?) ON CONFLICT(src,dst,kind) DO UPDATE SET label=excluded.label`,
			src, dst, kind, live.label)
	}
	if err != nil {
		return fmt.Errorf("link %s -> %s: %w", src, dst, err)
	}
	return nil
}

// linkAdd is a link.add op: its id, HLC and the label it gives.
type linkAdd struct{ id, hlc, label string }

// linkHistory is what the ops of one link say, in HLC order.
type linkHistory struct {
	adds    []linkAdd
	removed map[string]bool // ids of the adds a link.rm observed
	legacy  []string        // HLCs of removals without an observed list
}

// linkOps reads the link.add and link.rm ops of src→dst (kind).
func (t *Tx) linkOps(src, dst, kind string) (linkHistory, error) {
	h := linkHistory{removed: map[string]bool{}}
	st, err := t.stmt(`SELECT id, hlc, type, data FROM ops WHERE node=? AND type IN ('link.add','link.rm')
		AND json_extract(data,'$.dst')=? AND json_extract(data,'$.kind')=? ORDER BY hlc`)
	if err != nil {
		return h, fmt.Errorf("link %s -> %s: %w", src, dst, err)
	}
	rows, err := st.QueryContext(t.ctx, src, dst, kind)
	if err != nil {
		return h, fmt.Errorf("link %s -> %s: %w", src, dst, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, hlc, typ, data string
		if err := rows.Scan(&id, &hlc, &typ, &data); err != nil {
			return h, fmt.Errorf("link %s -> %s: %w", src, dst, err)
		}
		var d opLinkData
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			return h, fmt.Errorf("link %s -> %s: op %s: %w", src, dst, id, err)
		}
		if opType(typ) == opLinkAdd {
			h.adds = append(h.adds, linkAdd{id, hlc, d.Label})
			continue
		}
		if d.Observed == nil {
			h.legacy = append(h.legacy, hlc)
		}
		if d.Observed != nil {
			for _, a := range *d.Observed {
				h.removed[a] = true
			}
		}
	}
	if err := rows.Err(); err != nil {
		return h, fmt.Errorf("link %s -> %s: %w", src, dst, err)
	}
	return h, nil
}

// liveAdd is the newest add that no removal observed, nil when there is
// none (the link is gone).
func (h linkHistory) liveAdd() *linkAdd {
	var live *linkAdd
	for i := range h.adds {
		a := &h.adds[i]
		if h.removed[a.id] {
			continue
		}
		seen := false
		for _, r := range h.legacy {
			if r > a.hlc {
				seen = true
				break
			}
		}
		if !seen {
			live = a // adds come in HLC order: the last live one is newest
		}
	}
	return live
}
