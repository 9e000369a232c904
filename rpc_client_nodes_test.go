package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

// jsonNodes is the reference decodeNodesFast answers to: the reply
// decoded by encoding/json, as decodeReply does with a line it does not
// take.
func jsonNodes(reply []byte) ([]*Node, error) {
	var nodes []*Node
	err := decodeReplyJSON("test", reply, &nodes)
	return nodes, err
}

// sameAsJSON fails unless decodeNodesFast takes reply and decodes it as
// json.Unmarshal does.
func sameAsJSON(t *testing.T, name string, reply []byte) {
	t.Helper()
	var fast []*Node
	if !decodeNodesFast(reply, &fast) {
		t.Fatalf("%s: decodeNodesFast refused a reply it should take:\n%.600s", name, reply)
	}
	slow, err := jsonNodes(reply)
	if err != nil {
		t.Fatalf("%s: json.Unmarshal refused what decodeNodesFast took: %v\n%.600s", name, err, reply)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s: decodeNodesFast and json.Unmarshal differ:\nfast %s\nslow %s", name, dumpNodes(fast), dumpNodes(slow))
	}
	var rows []taskRow
	if !decodeRowsFast(reply, &rows) {
		t.Fatalf("%s: decodeRowsFast refused what decodeNodesFast took", name)
	}
	if !sameRows(rows, rowsOf(slow)) {
		t.Fatalf("%s: decodeRowsFast gave\n%+v\nnot the rows of json.Unmarshal's nodes\n%+v", name, rows, rowsOf(slow))
	}
}

// sameRows compares rows, a nil list being the same as an empty one.
func sameRows(a, b []taskRow) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

func dumpNodes(nodes []*Node) string {
	var b strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&b, "%+v", n)
		if n != nil {
			fmt.Fprintf(&b, " task=%+v project=%+v view=%+v", n.Task, n.Project, n.View)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// fillEvery sets every exported field reachable from v (through pointers,
// structs and slices) to a value that is not its zero, so that a Node
// encoded from it carries every key Node has.
func fillEvery(v reflect.Value, seed string) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fillEvery(v.Elem(), seed)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 1, 9, 30, 15, 123456789, time.FixedZone("", 5*3600+1800))))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() {
				fillEvery(v.Field(i), seed+"."+f.Name)
			}
		}
	case reflect.String:
		v.SetString(seed + ` "quoted" \ <tag> & é 😀` + "\u2028\n\t")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(-42)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fillEvery(s.Index(0), seed+"[0]")
		fillEvery(s.Index(1), seed+"[1]")
		v.Set(s)
	default:
		panic("fillEvery: no filler for " + v.Kind().String() + " at " + seed)
	}
}

// envelopeOf is a reply line around result, as hephd writes it.
func envelopeOf(t *testing.T, result any) []byte {
	t.Helper()
	line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 3, "result": result})
	if err != nil {
		t.Fatal(err)
	}
	return append(line, '\n')
}

// TestDecodeNodesFastTakesEveryNodeField: a node with every field of Node
// set (found by reflection, so a field added to Node later is in it) is
// taken by the fast decoder and decoded as json.Unmarshal decodes it. When
// this fails after Node grew a field, teach rpc_client_nodes.go the key.
func TestDecodeNodesFastTakesEveryNodeField(t *testing.T) {
	var full Node
	fillEvery(reflect.ValueOf(&full), "n")
	var bare Node
	bare.Task = &Task{}
	brief := full.brief()
	sameAsJSON(t, "full node", envelopeOf(t, []any{&full, &bare, brief, nil}))
	sameAsJSON(t, "brief nodes", envelopeOf(t, []any{brief, brief}))
	sameAsJSON(t, "null result", envelopeOf(t, nil))
	sameAsJSON(t, "empty result", envelopeOf(t, []any{}))
}

// TestDecodeNodesFastTable: lines the fast decoder takes must decode as
// json.Unmarshal decodes them; lines it must leave to encoding/json (error
// replies, unknown or repeated keys, wrong types, bad JSON) leave the
// result untouched.
func TestDecodeNodesFastTable(t *testing.T) {
	take := map[string]string{
		"escapes and unicode": `{"jsonrpc":"2.0","id":1,"result":[{"id":"a","title":"say \"hi\" \\ \u003cb\u003e \u00e9 \ud83d\ude00 \u2028 \/ \b\f\n\r\t","kind":"task"}]}`,
		"bad surrogate":       `{"id":1,"result":[{"title":"\ud800 lone"}]}`,
		"raw non-UTF-8":       "{\"id\":1,\"result\":[{\"title\":\"caf\xe9 \xff\"}]}",
		"raw UTF-8":           `{"id":1,"result":[{"title":"café ☕ 😀"}]}`,
		"escaped key":         `{"id":1,"result":[{"\u0074itle":"t"}]}`,
		"whitespace":          " \t\r\n{ \"jsonrpc\" : \"2.0\" , \"id\" : 1 , \"result\" : [ { \"id\" : \"x\" , \"task\" : { \"tags\" : [ \"a\" , \"b\" ] } } ] } \n\n",
		"nulls":               `{"jsonrpc":"2.0","id":null,"result":[null,{"id":null,"title":"t","created":null,"deleted":null,"task":{"state":null,"tags":null,"do":null,"recur_after_done":null,"occurrences":null},"project":null,"view":null}]}`,
		"empty tags":          `{"id":1,"result":[{"task":{"tags":[]}}]}`,
		"null tag":            `{"id":1,"result":[{"task":{"tags":[null,"x"]}}]}`,
		"string id":           `{"id":"req-1","result":[]}`,
		"number forms":        `{"id":-1.5e+3,"result":[{"task":{"occurrences":-0}}]}`,
		"no result":           `{"jsonrpc":"2.0","id":1}`,
		"times":               `{"id":1,"result":[{"created":"2026-03-29T01:30:00+01:00","updated":"2026-12-01T00:00:00Z","deleted":"2026-12-01T23:59:59.999999999-09:30","task":{"do":"2026-10-25T02:30:00+02:00","late":"2027-01-01T00:00:00Z"}}]}`,
		"project and view":    `{"id":1,"result":[{"kind":"project","project":{"parent":"p","path":"Home/Garden","archived":true}},{"kind":"view","view":{"filter":"+x or -y","sort":"do"}}]}`,
		"empty objects":       `{"id":1,"result":[{},{"task":{}},{"project":{},"view":{}}]}`,
	}
	for name, line := range take {
		sameAsJSON(t, name, []byte(line))
	}
	leave := map[string]string{
		"error reply":        `{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"bad"}}`,
		"error after result": `{"id":1,"result":[],"error":null}`,
		"unknown node key":   `{"id":1,"result":[{"id":"a","colour":"red"}]}`,
		"unknown task key":   `{"id":1,"result":[{"task":{"priority":"H"}}]}`,
		"key in other case":  `{"id":1,"result":[{"Title":"t"}]}`,
		"repeated key":       `{"id":1,"result":[{"title":"a","title":"b"}]}`,
		"repeated result":    `{"id":1,"result":[],"result":[]}`,
		"repeated task":      `{"id":1,"result":[{"task":{"state":"a"},"task":{"attention":"b"}}]}`,
		"number for string":  `{"id":1,"result":[{"title":5}]}`,
		"string for bool":    `{"id":1,"result":[{"project":{"archived":"yes"}}]}`,
		"fraction for int":   `{"id":1,"result":[{"task":{"occurrences":1.5}}]}`,
		"exponent for int":   `{"id":1,"result":[{"task":{"occurrences":1e2}}]}`,
		"huge int":           `{"id":1,"result":[{"task":{"occurrences":99999999999999999999}}]}`,
		"escaped time":       `{"id":1,"result":[{"created":"2026-12-01T00:00:00\u005a"}]}`,
		"bad time":           `{"id":1,"result":[{"created":"yesterday"}]}`,
		"object result":      `{"id":1,"result":{"id":"a"}}`,
		"trailing garbage":   `{"id":1,"result":[]} x`,
		"two values":         `{"id":1,"result":[]}{}`,
		"trailing comma":     `{"id":1,"result":[{"id":"a"},]}`,
		"comma in object":    `{"id":1,"result":[{"id":"a",}]}`,
		"truncated":          `{"id":1,"result":[{"id":"a"`,
		"raw control char":   "{\"id\":1,\"result\":[{\"title\":\"a\tb\"}]}",
		"bad escape":         `{"id":1,"result":[{"title":"\x"}]}`,
		"nullx":              `{"id":1,"result":[nullx]}`,
		"leading zero":       `{"id":01,"result":[]}`,
		"bare minus":         `{"id":-,"result":[]}`,
		"object id":          `{"id":{},"result":[]}`,
		"not an object":      `[1]`,
		"empty":              ``,
	}
	for name, line := range leave {
		out := []*Node(nil)
		if decodeNodesFast([]byte(line), &out) {
			t.Errorf("%s: decodeNodesFast took %s", name, line)
		}
		var rows []taskRow
		if decodeRowsFast([]byte(line), &rows) || rows != nil {
			t.Errorf("%s: decodeRowsFast took %s (or changed its result)", name, line)
		}
		if out != nil {
			t.Errorf("%s: decodeNodesFast changed the result it refused: %v", name, out)
		}
	}
	reused := []*Node{{ID: "kept"}}
	if decodeNodesFast([]byte(`{"id":1,"result":[]}`), &reused) || reused[0].ID != "kept" {
		t.Errorf("decodeNodesFast decoded into a slice that already held nodes (json.Unmarshal reuses them)")
	}
}

// TestDecodeNodesFastTakesHephdReplies: the replies a real hephd writes
// for every node listing the CLI reads (task.list and task.view, full
// and brief, over tasks with every kind of field) are taken by the fast decoder
// and decode as json.Unmarshal decodes them.
func TestDecodeNodesFastTakesHephdReplies(t *testing.T) {
	ip := serveInProcess(t, nil)
	c, err := dialDaemon(ip.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	for _, text := range []string{
		`Water plants tomorrow p2 #Garden every 3 days +outside`,
		`Pay "rent & <bills>" by fri p1 +money +home`,
		`Call plumber in 3d late dec 24 weekdays after done`,
		"Tab\tand newline\\nthings \u2028 café 😀",
	} {
		if err := c.Call(ctx, "project.add", map[string]any{"name": "Garden"}, nil); err != nil && !strings.Contains(err.Error(), "exists") {
			t.Fatal(err)
		}
		if err := c.Call(ctx, "task.quickadd", map[string]any{"text": text}, nil); err != nil {
			t.Fatalf("quickadd %q: %v", text, err)
		}
	}
	if err := c.Call(ctx, "view.save", map[string]any{"name": "garden", "filter": "project:Garden or +money", "sort": "do"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Call(ctx, "doc.create", map[string]any{"title": "Notes", "body": "# Plants\n\n- [ ] water \"them\"\n"}, nil); err != nil {
		t.Fatal(err)
	}
	for _, req := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"task.list","params":{"state":"all"}}`,
		`{"jsonrpc":"2.0","id":2,"method":"task.list","params":{"state":"all","brief":true}}`,
		`{"jsonrpc":"2.0","id":3,"method":"task.view","params":{"name":"garden","brief":true}}`,
		`{"jsonrpc":"2.0","id":5,"method":"task.view","params":{"name":"garden"}}`,
		`{"jsonrpc":"2.0","id":7,"method":"task.list","params":{"filter":"+money","brief":true}}`,
		`{"jsonrpc":"2.0","id":6,"method":"task.list","params":{"filter":"project:Nope"}}`,
	} {
		reply := rawLine(t, ip.Socket, req)
		if strings.Contains(req, `"id":6`) {
			var out []*Node
			if decodeNodesFast(reply, &out) {
				t.Fatalf("an error reply was taken as a listing: %s", reply)
			}
			continue
		}
		sameAsJSON(t, req, reply)
		var nodes []*Node
		decodeNodesFast(reply, &nodes)
		if len(nodes) == 0 {
			t.Fatalf("%s listed nothing: %s", req, reply)
		}
	}
}

// rawLine sends one request line to socket and returns the reply line.
func rawLine(t *testing.T, socket, req string) []byte {
	t.Helper()
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(req + "\n")); err != nil {
		t.Fatal(err)
	}
	reply, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		t.Fatalf("read reply to %s: %v", req, err)
	}
	return reply
}

// FuzzDecodeNodesFast: whatever line decodeNodesFast takes, json.Unmarshal
// also takes and decodes to the same nodes.
func FuzzDecodeNodesFast(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"result":[{"id":"01J","handle":"ab","kind":"task","title":"t \"q\" é","task":{"state":"outstanding","attention":"red","do":"2026-12-01T09:00:00Z","project":"Home","tags":["a","b"]}}]}`,
		`{"id":1,"result":[null,{"project":{"parent":"p","path":"A/B","archived":false},"view":{"filter":"+x","sort":"do"}}]}`,
		`{"id":"x","result":[{"task":{"occurrences":3,"recur_after_done":true,"tags":null}}]}`,
		`{"id":1,"result":[{"title":"\ud83d\ude00 \u0000 \\"}]}`,
		`{"id":1,"error":{"code":1,"message":"m"}}`,
		"{\"id\":1,\"result\":[{\"title\":\"\xff\"}]}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast []*Node
		var rows []taskRow
		took, tookRows := decodeNodesFast(line, &fast), decodeRowsFast(line, &rows)
		if took != tookRows {
			t.Fatalf("decodeNodesFast took %q: %v, decodeRowsFast: %v", line, took, tookRows)
		}
		if !took {
			return
		}
		slow, err := jsonNodes(line)
		if err != nil {
			t.Fatalf("decodeNodesFast took a line json.Unmarshal refuses (%v): %q", err, line)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("decodeNodesFast and json.Unmarshal differ on %q:\nfast %s\nslow %s", line, dumpNodes(fast), dumpNodes(slow))
		}
		if !sameRows(rows, rowsOf(slow)) {
			t.Fatalf("decodeRowsFast on %q gave\n%+v\nnot\n%+v", line, rows, rowsOf(slow))
		}
	})
}

// BenchmarkDecodeListing decodes the reply to a brief listing of 1,250
// tasks (the one bench/filter.sh times) with decodeNodesFast and with
// encoding/json, the fallback.
func BenchmarkDecodeListing(b *testing.B) {
	nodes := make([]briefNode, 1250)
	do := time.Date(2026, 12, 24, 9, 0, 0, 0, time.UTC)
	for i := range nodes {
		n := Node{ID: fmt.Sprintf("01JGFK1KR0TWDX97KD17N9%04d", i), Handle: fmt.Sprintf("h%03d", i), Kind: "task",
			Title: fmt.Sprintf("Task %d: check the shed", i),
			Task:  &Task{State: "outstanding", Attention: "red", Project: "Home", Tags: []string{"urgent", "fix"}}}
		if i%3 == 0 {
			n.Task.Do = &do
		}
		nodes[i] = n.brief()
	}
	line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "result": nodes})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			var out []*Node
			if !decodeNodesFast(line, &out) || len(out) != len(nodes) {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("rows", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			var out []taskRow
			if !decodeRowsFast(line, &out) || len(out) != len(nodes) {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(line)))
		for b.Loop() {
			if out, err := jsonNodes(line); err != nil || len(out) != len(nodes) {
				b.Fatal("not decoded", err)
			}
		}
	})
}
