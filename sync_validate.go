// The one rule for what an op may be, wherever it comes from: pushed to the hub, pulled by a spoke, or made here.

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Op limits. An op's encoded data is bounded so that any op this daemon
// accepted fits one push or pull request on its own (syncMaxBody): a
// 4 MiB socket line re-encoded with every byte escaped as \u00XX, set
// alongside its previous value, stays below it.
const (
	syncMaxOpBytes = 56 << 20               // the longest op data
	syncMaxBody    = syncMaxOpBytes + 1<<20 // a push body or pull page, envelope included
	syncMaxReplica = 64                     // the longest replica id in an HLC

	// A push or a pull page holds at most syncPageOps ops and stops adding
	// ops once their encoded size passes syncPageBytes; an op bigger than
	// that travels alone. Hub and spoke use the same values.
	syncPageOps   = 2000
	syncPageBytes = 8 << 20
)

// opWireSize estimates the bytes op takes in a push or a pull page whose
// data is dataLen bytes: the data plus the envelope.
func opWireSize(op Op, dataLen int) int {
	return dataLen + len(op.ID) + len(op.HLC) + len(op.Node) + len(op.Type) + 64
}

// opLinkKinds are the link kinds an op may carry.
var opLinkKinds = map[string]bool{"explicit": true, "context": true, "log": true}

// validateOps checks each op with validateOp and names the first bad one.
func validateOps(ops []Op, now time.Time) error {
	for i := range ops {
		if err := validateOp(ops[i], now); err != nil {
			return fmt.Errorf("op %d of %d: %w", i+1, len(ops), err)
		}
	}
	return nil
}

// validateOp checks an op from another replica as strictly as local input:
// ids are ULIDs, the HLC is canonical and not far ahead of now, the type
// and every field name are known, values have their fields' types, titles
// and labels are one line without control characters, and the data is
// bounded. The hub calls it on push, a spoke on pull; a bad op never
// reaches a store.
func validateOp(op Op, now time.Time) error {
	name := printableID(op.ID)
	if !isULID(op.ID) {
		return fmt.Errorf("op %s: id is not a ULID", name)
	}
	if !isULID(op.Node) {
		return fmt.Errorf("op %s: node %s is not a ULID", name, printableID(op.Node))
	}
	if err := validateHLC(op.HLC, now); err != nil {
		return fmt.Errorf("op %s: %w", name, err)
	}
	if len(op.Data) > syncMaxOpBytes {
		return fmt.Errorf("op %s: data is %d bytes, over the %d-byte limit", name, len(op.Data), syncMaxOpBytes)
	}
	if err := validateOpData(op.Type, op.Data); err != nil {
		return fmt.Errorf("op %s (%s on %s): %w", name, printableID(string(op.Type)), op.Node, err)
	}
	return nil
}

// validateHLC checks that s is an HLC in its canonical form, names a
// replica, and is at most hubMaxClockAhead past now.
func validateHLC(s string, now time.Time) error {
	h, err := parseHLC(s)
	if err != nil {
		return err
	}
	if h.Wall < 0 || h.String() != s {
		return fmt.Errorf("hlc %s is not in canonical form", printableID(s))
	}
	if h.Replica == "" || len(h.Replica) > syncMaxReplica {
		return fmt.Errorf("hlc %s: the replica must be 1 to %d characters", printableID(s), syncMaxReplica)
	}
	for _, r := range h.Replica {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("hlc %s: the replica may hold only letters, digits, - and _", printableID(s))
		}
	}
	if time.UnixMilli(h.Wall).After(now.Add(hubMaxClockAhead)) {
		return fmt.Errorf("hlc %s is more than %s ahead of this clock: check the other machine's clock", s, hubMaxClockAhead)
	}
	return nil
}

// validateOpData decodes data strictly (no unknown keys) as the payload of
// an op of type typ and checks what it names.
func validateOpData(typ opType, data json.RawMessage) error {
	switch typ {
	case opNodeCreate:
		var d opCreateData
		if err := decodeStrict(data, &d); err != nil {
			return err
		}
		if _, ok := kindTable(d.Kind); !ok { // one list of kinds: store_ops_fields.go
			return fmt.Errorf("unknown kind %q", printableID(d.Kind))
		}
		return checkOpFields(d.Fields)
	case opNodeSet:
		var d opSetData
		if err := decodeStrict(data, &d); err != nil {
			return err
		}
		if err := checkOpFields(d.Fields); err != nil {
			return err
		}
		return checkFieldNames(d.Prev)
	case opLinkAdd, opLinkRm:
		var d opLinkData
		if err := decodeStrict(data, &d); err != nil {
			return err
		}
		return checkOpLink(d)
	case opLogAppend, opLogRemove:
		var d opLogData
		if err := decodeStrict(data, &d); err != nil {
			return err
		}
		if d.Entry != "" && !isULID(d.Entry) {
			return fmt.Errorf("entry %s is not an op id", printableID(d.Entry))
		}
		return nil
	case opTaskComplete, opTaskUncomplete:
		var d opCompleteData
		if err := decodeStrict(data, &d); err != nil {
			return err
		}
		if d.Complete != "" && !isULID(d.Complete) {
			return fmt.Errorf("complete %s is not an op id", printableID(d.Complete))
		}
		if err := checkOpFields(d.Fields); err != nil {
			return err
		}
		return checkFieldNames(d.Prev)
	}
	return fmt.Errorf("unknown op type")
}

// checkOpLink checks a link op's payload.
func checkOpLink(d opLinkData) error {
	if !isULID(d.Dst) {
		return fmt.Errorf("link target %s is not a ULID", printableID(d.Dst))
	}
	if !opLinkKinds[d.Kind] {
		return fmt.Errorf("unknown link kind %q", printableID(d.Kind))
	}
	if badTitle(d.Label) {
		return fmt.Errorf("link label holds a control character")
	}
	if d.Observed != nil {
		for _, id := range *d.Observed {
			if !isULID(id) {
				return fmt.Errorf("observed op %s is not an op id", printableID(id))
			}
		}
	}
	return nil
}

// checkOpFields checks the field values an op sets: known names, values of
// each field's type, one-line titles, and ids where a field names a node.
// Local writes go through it too (recordDecoded), so an import cannot
// store what a pull would refuse.
func checkOpFields(fields map[string]any) error {
	if err := checkFieldNames(fields); err != nil {
		return err
	}
	for name, v := range fields {
		if _, err := columnValue(name, v); err != nil {
			return err
		}
		switch name {
		case "title", "project", "state", "attention", "filter", "sort":
			if s, _ := v.(string); badTitle(s) {
				return fmt.Errorf("field %s holds a line break or another control character", name)
			}
		case "context", "log", "project_id", "parent":
			if s, _ := v.(string); s != "" && !isULID(s) {
				return fmt.Errorf("field %s: %s is not a ULID", name, printableID(s))
			}
		}
	}
	return nil
}

// checkFieldNames refuses a field name that is not a node field.
func checkFieldNames(fields map[string]any) error {
	for name := range fields {
		if _, ok := nodeField(name); !ok {
			return fmt.Errorf("unknown field %q", printableID(name))
		}
	}
	return nil
}

// decodeStrict decodes one JSON value into v, refusing unknown keys and
// trailing data.
func decodeStrict(data json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad data: %w", err)
	}
	if dec.More() {
		return fmt.Errorf("bad data: trailing data after the value")
	}
	return nil
}

// isULID reports whether s is a ULID as heph writes them: 26 upper-case
// characters of Crockford's base32, the first at most 7 (128 bits).
func isULID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') || c == 'I' || c == 'L' || c == 'O' || c == 'U' {
			return false
		}
	}
	return true
}

// printableID quotes an untrusted id or name for an error message,
// shortened to 40 bytes, with control characters escaped.
func printableID(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	q := fmt.Sprintf("%q", s)
	return q[1 : len(q)-1]
}

// checkLocalOp applies validateOp's rule to an op made here, where it can
// be broken at all: the size bound and the fields of a create or a set
// (what an import carries), so no local write stores an op that the hub or
// another spoke would refuse. Its ids and HLC come from this store.
func checkLocalOp(op Op, decoded any) error {
	if len(op.Data) > syncMaxOpBytes {
		return invalidParams("the change is %d bytes encoded, over the %d-byte limit of one op: make the text shorter", len(op.Data), syncMaxOpBytes)
	}
	var err error
	switch d := decoded.(type) {
	case *opCreateData:
		err = checkOpFields(d.Fields)
	case *opSetData:
		err = checkOpFields(d.Fields)
	}
	if err != nil {
		return invalidParams("node %s: %v", op.Node, err)
	}
	return nil
}
