package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fuzz targets for what crosses a trust boundary into the store: a push
// body at the hub, a pull page at a spoke, and a markdown tree on import.
// `make test` runs their seeds; `make fuzz` mutates them.

// syncFuzzSeeds are push and pull payload seeds: valid ops of every type
// and known attacks (path ids, short ids, escapes, unknown fields).
func syncFuzzSeeds() []string {
	now := time.UnixMilli(1_780_000_000_000)
	id, node, dst := newULID(now), newULID(now), newULID(now)
	h := HLC{Wall: now.UnixMilli(), Replica: "r1"}.String()
	op := func(node, typ, data string) string {
		return `{"id":"` + id + `","hlc":"` + h + `","node":"` + node + `","type":"` + typ + `","data":` + data + `}`
	}
	ops := []string{
		op(node, "node.create", `{"kind":"task","fields":{"title":"t","state":"outstanding","attention":"white","tags":["a"],"do":1780000000000}}`),
		op(node, "node.create", `{"kind":"doc","fields":{"title":"d","body":"<\"é\u0000>"}}`),
		op(node, "node.set", `{"fields":{"title":"x"},"prev":{"title":"y"}}`),
		op(node, "link.add", `{"dst":"`+dst+`","kind":"explicit","label":"l"}`),
		op(node, "link.rm", `{"dst":"`+dst+`","kind":"explicit","observed":["`+id+`"]}`),
		op(node, "log.append", `{"text":"entry","at":1780000000000}`),
		op(node, "task.complete", `{"occurrence":0,"fields":{"state":"done"}}`),
		op(node+"/../../x", "node.create", `{"kind":"doc","fields":{"title":"x"}}`),
		op("x", "node.create", `{"kind":"doc","fields":{"title":"x"}}`),
		op(node, "node.create", `{"kind":"doc","fields":{"title":"\u001b[2J"}}`),
		op(node, "node.set", `{"fields":{"owner":"m"}}`),
		op(node, "bogus", `{}`),
	}
	var seeds []string
	for _, o := range ops {
		seeds = append(seeds, `{"replica":"r1","ops":[`+o+`]}`, `{"ops":[{"seq":1,`+o[1:]+`],"cursor":1,"more":false}`)
	}
	return append(seeds, `{"replica":"r1","ops":[`+strings.Join(ops[:7], ",")+`]}`, `{}`, `{"ops":null}`, `[`, `{"ops":[{}]}`)
}

// fuzzStore opens a store in a fresh temp dir for one fuzz input.
func fuzzStore(t *testing.T) *Store {
	t.Helper()
	return openSyncStore(t, filepath.Join(t.TempDir(), "heph.db"))
}

// assertStoredOpsValid fails when the store holds an op validateOp refuses.
func assertStoredOpsValid(t *testing.T, s *Store) {
	t.Helper()
	ops, _, _, err := s.opsAfter(context.Background(), 0, syncPageOps, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops {
		if err := validateOp(o.Op, time.Now()); err != nil {
			t.Fatalf("the store kept an op validateOp refuses: %v", err)
		}
	}
}

// FuzzPushDecoder is the hub's push path after authentication: decode,
// validate, merge. Whatever the body, nothing panics and only valid ops
// are stored.
func FuzzPushDecoder(f *testing.F) {
	for _, s := range syncFuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodePush(bytes.NewReader(body))
		if err != nil || len(req.Ops) > syncPageOps || validateOps(req.Ops, time.Now()) != nil {
			return // refused with 400/413
		}
		s := fuzzStore(t)
		s.mergeRemote(context.Background(), req.Ops, false, 0) // an error is a 422, all or nothing
		assertStoredOpsValid(t, s)
	})
}

// FuzzPullDecoder is a spoke's pull path: decode the hub's page, check
// and merge it (mergePulled). Nothing panics; only valid ops are stored.
func FuzzPullDecoder(f *testing.F) {
	for _, s := range syncFuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var page pullReply
		if json.Unmarshal(data, &page) != nil || len(page.Ops) == 0 {
			return
		}
		s := fuzzStore(t)
		s.mergePulled(context.Background(), page, 0)
		assertStoredOpsValid(t, s)
	})
}

// FuzzImportMarkdown imports a one-file tree whose name, front matter,
// title and body are fuzzed, then exports it. Nothing panics, no stored
// title holds a control character, and export writes only inside its
// directory.
func FuzzImportMarkdown(f *testing.F) {
	f.Add("note.md", "# Title\n\nbody\n")
	f.Add("a.md", "---\nid: \"01J0000000000000000000000A\"\nkind: \"task\"\ntitle: \"t\"\nstate: \"outstanding\"\n---\nbody")
	f.Add("evil\x1b[2J.md", "# \x1b]0;x\x07 t\n")
	f.Add("fm.md", "---\ntitle: \"a\\u001bb\"\nlinks: [\"../../x\"]\n---\n")
	f.Add("id.md", "---\nid: \"01J0000000000000000000000A/../../x\"\n---\n")
	f.Add("u.md", "---\ntitle: \"\u202eevil\"\n---\n<\"é>")
	f.Add("..md", "---\n---\n")
	f.Fuzz(func(t *testing.T, name, content string) {
		if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." || len(name) > 200 {
			return
		}
		root := t.TempDir()
		in, out := filepath.Join(root, "in"), filepath.Join(root, "out")
		os.Mkdir(in, 0o700)
		if err := os.WriteFile(filepath.Join(in, name), []byte(content), 0o600); err != nil {
			return // a name this file system refuses
		}
		s := fuzzStore(t)
		ctx := context.Background()
		if _, err := s.importMarkdown(ctx, in); err != nil {
			return
		}
		rows, err := s.db.Query(`SELECT title FROM nodes`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var title string
			rows.Scan(&title)
			if badTitle(title) {
				t.Fatalf("imported title holds a control character: %q", title)
			}
		}
		rows.Close()
		if _, err := s.exportTo(ctx, out); err != nil {
			t.Fatalf("export of an imported tree: %v", err)
		}
		ents, _ := os.ReadDir(root)
		if len(ents) != 2 {
			t.Fatalf("export wrote outside its directory: %v", ents)
		}
	})
}
