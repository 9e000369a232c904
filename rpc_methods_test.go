package main

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMethodTableRules: no duplicate names, every thin method is served
// by the hub, every row has a handler and a params type.
func TestMethodTableRules(t *testing.T) {
	if err := checkTable(methodTable()); err != nil {
		t.Fatal(err)
	}
	bad := append(methodTable(), rpcMethod{name: "x.y", run: (*daemon).rpcInfo, params: noParams{}, thin: true})
	if err := checkTable(bad); err == nil {
		t.Fatal("checkTable accepts a thin method the hub refuses")
	}
}

// docMethodIndex parses protocol.md's "Method index" table into
// name → row cells (params, writes, hub, thin).
func docMethodIndex(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "\n## Method index\n")
	if !ok {
		t.Fatal(`docs/protocol.md has no "## Method index" section`)
	}
	section, _, _ := strings.Cut(after, "\n#")
	rows := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		line = strings.ReplaceAll(line, `\|`, "¦")
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.Trim(strings.TrimSpace(cells[i]), "`")
		}
		if len(cells) != 5 {
			t.Fatalf("method index row %q: want 5 cells (method, params, writes, hub, thin)", line)
		}
		if _, dup := rows[cells[0]]; dup {
			t.Errorf("method index lists %s twice", cells[0])
		}
		rows[cells[0]] = cells[1:]
	}
	if len(rows) == 0 {
		t.Fatal("method index has no rows")
	}
	return rows
}

// docParamNames is the param names of a "{a, b?, c?[] ¦ d?}" cell.
func docParamNames(cell string) []string {
	cell = strings.Trim(cell, "{}")
	var out []string
	for _, f := range strings.FieldsFunc(cell, func(r rune) bool { return r == ',' || r == '¦' }) {
		if f = strings.TrimSpace(strings.NewReplacer("?", "", "[]", "").Replace(f)); f != "" {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// jsonParamNames is the JSON member names of a params struct.
func jsonParamNames(v any) []string {
	var out []string
	rt := reflect.TypeOf(v)
	for i := 0; i < rt.NumField(); i++ {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestProtocolDocMatchesMethodTable: protocol.md's method index and the
// table list the same methods, with the same params and flags.
func TestProtocolDocMatchesMethodTable(t *testing.T) {
	doc := docMethodIndex(t)
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return ""
	}
	for _, m := range methodTable() {
		row, ok := doc[m.name]
		if !ok {
			t.Errorf("%s is in the method table but not in protocol.md's method index", m.name)
			continue
		}
		delete(doc, m.name)
		if got, want := docParamNames(row[0]), jsonParamNames(m.params); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: protocol.md lists params %v, the params struct %T has %v", m.name, got, m.params, want)
		}
		for i, f := range []struct {
			name string
			val  bool
		}{{"writes", m.mutates}, {"hub", m.hub}, {"thin", m.thin}} {
			if row[i+1] != yes(f.val) {
				t.Errorf("%s: protocol.md says %s=%q, the table says %v", m.name, f.name, row[i+1], f.val)
			}
		}
	}
	for name := range doc {
		t.Errorf("protocol.md's method index lists %s, which the method table lacks", name)
	}
}

// TestHubServesOnlyHubMethods calls every method over a real hub's POST
// /rpc: those without hub: true must be unknown there, the others served.
func TestHubServesOnlyHubMethods(t *testing.T) {
	h := newTestHub(t, daemonOptions{})
	for _, m := range methodTable() {
		body := `{"jsonrpc":"2.0","id":1,"method":` + strconv.Quote(m.name) + `,"params":{}}`
		req, _ := http.NewRequest("POST", h.URL+"/rpc", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer tok:me")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var rep rpcResponse
		err = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s over /rpc: status %d, %v", m.name, resp.StatusCode, err)
		}
		unknown := rep.Error != nil && rep.Error.Code == codeMethodNotFound
		switch {
		case m.hub && unknown:
			t.Errorf("%s has hub: true but the hub's /rpc does not serve it", m.name)
		case !m.hub && !unknown:
			t.Errorf("%s is served over the hub's /rpc without hub: true (reply %+v)", m.name, rep)
		}
	}
}

// cliMethodCalls finds every RPC call in the CLI's source (cli*.go and
// the other files that dial the daemon) and returns, per method name
// used, where it is used. A method argument the test cannot resolve to
// string literals is an error: call with a literal, or with a parameter
// or local variable that only ever holds literals.
func cliMethodCalls(t *testing.T) map[string][]string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var parsed []*ast.File
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, af)
	}
	r := &methodResolver{t: t, fset: fset, files: parsed, found: map[string][]string{}, reported: map[string]bool{}}
	for _, af := range parsed {
		for _, decl := range af.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if arg := rpcMethodArg(call); arg != nil {
					r.resolve(fd, arg, 0)
				}
				return true
			})
		}
	}
	return r.found
}

// rpcMethodArg is the method-name argument of c.call(method, …) or
// client.Call(ctx, method, …), or nil for any other call.
func rpcMethodArg(call *ast.CallExpr) ast.Expr {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return nil
	}
	switch {
	case sel.Sel.Name == "call" && len(call.Args) == 3:
		return call.Args[0]
	case sel.Sel.Name == "Call" && len(call.Args) == 4:
		return call.Args[1]
	}
	return nil
}

type methodResolver struct {
	t     *testing.T
	fset  *token.FileSet
	files []*ast.File
	found map[string][]string
	// reported: positions already reported (a call is reached directly
	// and through its callers).
	reported map[string]bool
}

// resolve records the string literals expr can hold inside fd.
func (r *methodResolver) resolve(fd *ast.FuncDecl, expr ast.Expr, depth int) {
	pos := r.fset.Position(expr.Pos()).String()
	if depth > 4 {
		r.t.Errorf("%s: method name passed through too many calls to check", pos)
		return
	}
	switch e := expr.(type) {
	case *ast.BasicLit:
		if s, err := strconv.Unquote(e.Value); err == nil && e.Kind == token.STRING {
			if !slices.Contains(r.found[s], pos) {
				r.found[s] = append(r.found[s], pos)
			}
			return
		}
	case *ast.Ident:
		if idx := paramIndex(fd, e.Name); idx >= 0 {
			r.resolveCallers(fd, idx, depth)
			return
		}
		if lits := literalAssignments(fd, e.Name); len(lits) > 0 {
			for _, l := range lits {
				r.resolve(fd, l, depth+1)
			}
			return
		}
	}
	if !r.reported[pos] {
		r.reported[pos] = true
		r.t.Errorf("%s: cannot tell which RPC method this calls: pass a string literal (or a variable that only holds literals)", pos)
	}
}

// resolveCallers resolves argument idx at every call of target (a call
// of the same name, arity and kind: method or function).
func (r *methodResolver) resolveCallers(target *ast.FuncDecl, idx, depth int) {
	name, arity, isMethod := target.Name.Name, target.Type.Params.NumFields(), target.Recv != nil
	calls := 0
	for _, af := range r.files {
		for _, decl := range af.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != arity {
					return true
				}
				var callee string
				switch f := call.Fun.(type) {
				case *ast.Ident:
					if !isMethod {
						callee = f.Name
					}
				case *ast.SelectorExpr:
					if isMethod {
						callee = f.Sel.Name
					}
				}
				if callee == name {
					calls++
					r.resolve(fd, call.Args[idx], depth+1)
				}
				return true
			})
		}
	}
	if calls == 0 {
		r.t.Errorf("function %s passes a method name in its parameter %d but nothing calls it", name, idx)
	}
}

// paramIndex is the position of parameter name in fd, or -1.
func paramIndex(fd *ast.FuncDecl, name string) int {
	i := 0
	for _, f := range fd.Type.Params.List {
		for _, n := range f.Names {
			if n.Name == name {
				return i
			}
			i++
		}
		if len(f.Names) == 0 {
			i++
		}
	}
	return -1
}

// literalAssignments is every right-hand side assigned to local name in
// fd; it is empty when any of them is not a string literal.
func literalAssignments(fd *ast.FuncDecl, name string) []ast.Expr {
	var out []ast.Expr
	ok := true
	ast.Inspect(fd.Body, func(n ast.Node) bool {
		as, isAssign := n.(*ast.AssignStmt)
		if !isAssign || len(as.Lhs) != len(as.Rhs) {
			return true
		}
		for i, l := range as.Lhs {
			if id, isID := l.(*ast.Ident); isID && id.Name == name {
				if lit, isLit := as.Rhs[i].(*ast.BasicLit); isLit && lit.Kind == token.STRING {
					out = append(out, lit)
				} else {
					ok = false
				}
			}
		}
		return true
	})
	if !ok {
		return nil
	}
	return out
}

// TestCLICallsOnlyTableMethods: every method the CLI (and anything else
// in hephd's source that dials the socket) calls is in the method table.
func TestCLICallsOnlyTableMethods(t *testing.T) {
	calls := cliMethodCalls(t)
	if len(calls) < 20 {
		t.Fatalf("found only %d methods called by the CLI: the source scan is broken", len(calls))
	}
	for name, where := range calls {
		if _, ok := lookupMethod(name); !ok {
			t.Errorf("%s calls method %q, which is not in the method table", strings.Join(where, ", "), name)
		}
	}
}

// TestThinClientServesTableMethods: a thin client forwards thin methods
// and answers the rest itself, store methods with codeUnavailable.
func TestThinClientServesTableMethods(t *testing.T) {
	d := &daemon{opts: daemonOptions{Mode: "client"}}
	var forwarded []string
	f := &forwarder{}
	m := d.socketMethods(f)
	for _, row := range methodTable() {
		if _, ok := m[row.name]; !ok {
			t.Errorf("thin client lacks %s", row.name)
		}
		if row.thin {
			forwarded = append(forwarded, row.name)
		}
	}
	if len(forwarded) == 0 {
		t.Fatal("no thin methods")
	}
	for _, name := range []string{"export.markdown", "import.markdown", "sync.now"} {
		_, err := m[name](context.Background(), json.RawMessage(`{}`))
		if re := toRPCError(err); re.Code != codeUnavailable {
			t.Errorf("%s on a thin client: %v, want codeUnavailable", name, err)
		}
	}
	if _, err := m["daemon.info"](context.Background(), nil); err != nil {
		t.Errorf("daemon.info on a thin client: %v", err)
	}
}

// TestNvimCallsOnlyTableMethods: every method heph.nvim calls is in the
// method table.
func TestNvimCallsOnlyTableMethods(t *testing.T) {
	files, err := filepath.Glob("nvim/lua/heph/*.lua")
	if err != nil || len(files) == 0 {
		t.Fatalf("no nvim/lua/heph/*.lua: %v", err)
	}
	callRe := regexp.MustCompile(`\b(?:call|request)\('([a-z_.]+)'`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range callRe.FindAllStringSubmatch(string(b), -1) {
			n++
			if _, ok := lookupMethod(m[1]); !ok {
				t.Errorf("%s calls method %q, which is not in the method table", f, m[1])
			}
		}
	}
	if n < 5 {
		t.Fatalf("found only %d calls in heph.nvim: the scan is broken", n)
	}
}

// TestRenamedMethodsKeepTheirOldNames: each old name answers as its new
// one, and protocol.md lists the renames the table has.
func TestRenamedMethodsKeepTheirOldNames(t *testing.T) {
	ts := openTestStore(t, time.Now())
	var n Node
	ts.mustCall("task.create", map[string]any{"title": "renamed"}, &n)
	h := storeHandlers(ts.s)
	for _, name := range []string{"link.list", "links"} {
		res, err := h[name](context.Background(), json.RawMessage(`{"id":"`+n.ID+`"}`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, _ := json.Marshal(res)
		var lr linksResult
		if err := json.Unmarshal(b, &lr); err != nil || lr.Node == nil || lr.Node.ID != n.ID || len(lr.Outgoing) != 2 {
			t.Fatalf("%s: %s", name, b)
		}
	}
	b, err := os.ReadFile("docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n### Renamed methods\n")
	if !ok {
		t.Fatal(`docs/protocol.md has no "### Renamed methods" section`)
	}
	section, _, _ = strings.Cut(section, "\n#")
	docRe := regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| `([a-z_.]+)` \\|")
	doc := map[string]string{}
	for _, m := range docRe.FindAllStringSubmatch(section, -1) {
		doc[m[1]] = m[2]
	}
	for _, m := range methodTable() {
		if m.alias == "" {
			continue
		}
		if doc[m.alias] != m.name {
			t.Errorf("protocol.md's renamed methods: %s → %q, the table says %s", m.alias, doc[m.alias], m.name)
		}
		delete(doc, m.alias)
	}
	for old := range doc {
		t.Errorf("protocol.md lists %s as renamed, the table has no such alias", old)
	}
}

// TestProtocolDocListsOpTypes: protocol.md's op type table lists exactly
// opTypes, with their Go names, and no op type is named like a method
// without the doc saying so.
func TestProtocolDocListsOpTypes(t *testing.T) {
	b, err := os.ReadFile("docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n### Op types\n")
	if !ok {
		t.Fatal(`docs/protocol.md has no "### Op types" section`)
	}
	section, _, _ = strings.Cut(section, "\n#")
	rowRe := regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| `(op[A-Za-z]+)` \\|")
	var doc []string
	for _, m := range rowRe.FindAllStringSubmatch(section, -1) {
		doc = append(doc, m[1]+" "+m[2])
	}
	goNames := map[opType]string{opNodeCreate: "opNodeCreate", opNodeSet: "opNodeSet", opLinkAdd: "opLinkAdd",
		opLinkRm: "opLinkRm", opLogAppend: "opLogAppend", opLogRemove: "opLogRemove",
		opTaskComplete: "opTaskComplete", opTaskUncomplete: "opTaskUncomplete"}
	var want []string
	for _, typ := range opTypes() {
		want = append(want, string(typ)+" "+goNames[typ])
	}
	if !reflect.DeepEqual(doc, want) || len(goNames) != len(opTypes()) {
		t.Fatalf("protocol.md's op types:\n%v\nopTypes():\n%v", doc, want)
	}
}
