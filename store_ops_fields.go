// Node fields: where each lives (nodeField, kindTable) and how its JSON value is stored (columnValue).

package main

import (
	"encoding/json"
	"fmt"
	"sort"
)

// fieldColumn says where each node field lives.
type fieldColumn struct{ table, column string }

// nodeField says where node field name lives; ok is false for a name
// that is no node field.
func nodeField(name string) (col fieldColumn, ok bool) {
	switch name {
	case "title":
		return fieldColumn{"nodes", "title"}, true
	case "body":
		return fieldColumn{"nodes", "body"}, true
	case "deleted":
		return fieldColumn{"nodes", "deleted"}, true
	case "state":
		return fieldColumn{"tasks", "state"}, true
	case "attention":
		return fieldColumn{"tasks", "attention"}, true
	case "do":
		return fieldColumn{"tasks", "do_at"}, true
	case "late":
		return fieldColumn{"tasks", "late_at"}, true
	case "recur":
		return fieldColumn{"tasks", "recur"}, true
	case "recur_after_done":
		return fieldColumn{"tasks", "recur_after_done"}, true
	case "occurrences":
		return fieldColumn{"tasks", "occurrences"}, true
	case "project":
		return fieldColumn{"tasks", "project"}, true
	case "tags":
		return fieldColumn{"tasks", "tags"}, true
	case "context":
		return fieldColumn{"tasks", "context_id"}, true
	case "log":
		return fieldColumn{"tasks", "log_id"}, true
	case "project_id":
		return fieldColumn{"tasks", "project_id"}, true
	case "parent":
		return fieldColumn{"projects", "parent"}, true
	case "archived":
		return fieldColumn{"projects", "archived"}, true
	case "filter":
		return fieldColumn{"views", "filter"}, true
	case "sort":
		return fieldColumn{"views", "sort"}, true
	}
	return fieldColumn{}, false
}

// kindTable names the table that holds a kind's own fields (nodes holds
// the fields every kind has); ok is false for an unknown kind.
func kindTable(kind string) (table string, ok bool) {
	switch kind {
	case "doc":
		return "", true
	case "task":
		return "tasks", true
	case "project":
		return "projects", true
	case "view":
		return "views", true
	}
	return "", false
}

// jsonShaped reports whether every field value is of a type that
// columnValue stores exactly as it stores the value's JSON round trip
// (numbers are unix ms or counts, exact in a float64).
func jsonShaped(fields map[string]any) bool {
	for _, v := range fields {
		switch v.(type) {
		case nil, string, bool, int64, int, float64, []string:
		default:
			return false
		}
	}
	return true
}

// jsonInt is v as an integer, when it is a number as decoded JSON (float64)
// or as a local op holds it (int64, int).
func jsonInt(v any) (int64, bool) {
	switch x := v.(type) {
	case float64:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	}
	return 0, false
}

// columnValue converts a field's JSON value to what its column stores.
func columnValue(name string, v any) (any, error) {
	switch name {
	case "do", "late", "deleted":
		switch x := v.(type) {
		case nil:
			return nil, nil
		case json.Number:
			return x.Int64()
		}
		if n, ok := jsonInt(v); ok {
			return n, nil
		}
		return nil, fmt.Errorf("field %s: want unix milliseconds or null, got %T", name, v)
	case "recur_after_done", "archived":
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("field %s: want a boolean, got %T", name, v)
		}
		if b {
			return 1, nil
		}
		return 0, nil
	case "occurrences":
		if n, ok := jsonInt(v); ok {
			return n, nil
		}
		return nil, fmt.Errorf("field %s: want a number, got %T", name, v)
	case "tags":
		tags, err := toStrings(v)
		if err != nil {
			return nil, fmt.Errorf("field tags: %w", err)
		}
		sort.Strings(tags)
		b, _ := json.Marshal(tags)
		return string(b), nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("field %s: want a string, got %T", name, v)
	}
	return s, nil
}

func toStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return []string{}, nil
	case []string:
		return append([]string{}, x...), nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, got %T", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list of strings, got %T", v)
}

// readFields returns the current values of the named fields of a node, in
// the same JSON shapes that ops carry.
func (t *Tx) readFields(id string, names []string) (map[string]any, error) {
	n, err := scanNode(t.queryRow(nodeSelect+` WHERE n.id=?`, id))
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", id, err)
	}
	all := n.fieldValues()
	out := make(map[string]any, len(names))
	for _, name := range names {
		if _, ok := nodeField(name); !ok {
			return nil, fmt.Errorf("node %s: unknown field %q", id, name)
		}
		out[name] = all[name]
	}
	return out, nil
}
