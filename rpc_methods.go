// The RPC method table: every method hephd serves, with its handler, params and where it is served.

package main

import (
	"context"
	"encoding/json"
	"fmt"
)

// To add a method, touch four places:
//
//  1. a row in methodTable below: name, handler, params struct, flags;
//  2. the handler, in the file of its subject (task_*.go, notes_*.go,
//     sync_*.go, ...): func (s *Store) rpcX(ctx, params) for one that
//     works on the store (wrap it in onStore), or func (d *daemon) rpcX
//     for one that needs the daemon (its syncer, tokens, mode);
//  3. the CLI command that calls it (cli_*.go), building its request
//     from the same params struct;
//  4. the row in docs/protocol.md's "Method index".
//
// rpc_methods_test.go fails when the table and protocol.md disagree,
// when the hub's /rpc serves a method without hub: true, or when a CLI
// verb calls a method that is not in the table.

// rpcMethod is one row of the method table.
type rpcMethod struct {
	name string
	// run serves the method for daemon d.
	run func(d *daemon, ctx context.Context, params json.RawMessage) (any, error)
	// params is the zero value of the struct the request's "params"
	// decode into (the CLI builds its requests from the same type).
	params any
	// mutates: the method can change the store.
	mutates bool
	// hub: the hub serves it over HTTP (POST /rpc). An allowlist: leave
	// it false for anything that touches the hub machine's files or
	// describes this daemon rather than the owner's data.
	hub bool
	// alias is the method's old name, still accepted until the next
	// release (docs/protocol.md, "Renamed methods").
	alias string
	// thin: a thin client (hephd --mode client) forwards it to its hub.
	// A method that is not thin is served by the thin client itself,
	// which keeps no store (store methods then answer codeUnavailable).
	thin bool
}

// noParams is the params of a method that takes none.
type noParams struct{}

// methodTable is every RPC method hephd knows, one literal row each.
// It is a function, not a package variable, so a client that never
// serves pays nothing for it at start-up.
func methodTable() []rpcMethod {
	return []rpcMethod{
		// Daemon.
		{name: "daemon.info", run: (*daemon).rpcInfo, params: noParams{}, hub: true},

		// Tasks and docs.
		{name: "task.create", run: onStore((*Store).rpcTaskCreate), params: taskCreateParams{}, mutates: true, hub: true, thin: true},
		{name: "task.edit", run: onStore((*Store).rpcTaskEdit), params: taskEditParams{}, mutates: true, hub: true, thin: true},
		{name: "task.done", run: onStore((*Store).rpcTaskDone), params: idParams{}, mutates: true, hub: true, thin: true},
		{name: "task.skip", run: onStore((*Store).rpcTaskSkip), params: idParams{}, mutates: true, hub: true, thin: true},
		{name: "task.drop", run: onStore((*Store).rpcTaskDrop), params: idParams{}, mutates: true, hub: true, thin: true},
		{name: "task.next", run: onStore((*Store).rpcTaskNext), params: nextParams{}, hub: true, thin: true},
		{name: "task.list", run: onStore((*Store).rpcTaskList), params: taskListParams{}, hub: true, thin: true},
		{name: "task.view", run: onStore((*Store).rpcTaskView), params: taskViewParams{}, hub: true, thin: true},
		{name: "log.append", run: onStore((*Store).rpcLogAppend), params: logAppendParams{}, mutates: true, hub: true, thin: true},
		{name: "log.get", run: onStore((*Store).rpcLogGet), params: idParams{}, hub: true, thin: true},
		{name: "context.get", run: onStore((*Store).rpcContextGet), params: idParams{}, hub: true, thin: true},
		{name: "context.edit", run: onStore((*Store).rpcContextEdit), params: contextEditParams{}, mutates: true, hub: true, thin: true},
		{name: "doc.create", run: onStore((*Store).rpcDocCreate), params: docCreateParams{}, mutates: true, hub: true, thin: true},
		{name: "node.get", run: onStore((*Store).rpcNodeGet), params: idParams{}, hub: true, thin: true},
		{name: "node.update", run: onStore((*Store).rpcNodeUpdate), params: nodeUpdateParams{}, mutates: true, hub: true, thin: true},
		{name: "node.rm", run: onStore((*Store).rpcNodeRm), params: idParams{}, mutates: true, hub: true, thin: true},
		{name: "store.undo", alias: "undo", run: onStore((*Store).rpcStoreUndo), params: undoParams{}, mutates: true, hub: true, thin: true},

		// Links, search, export and import.
		{name: "link.add", run: onStore((*Store).rpcLinkAdd), params: linkParams{}, mutates: true, hub: true, thin: true},
		{name: "link.rm", run: onStore((*Store).rpcLinkRm), params: linkParams{}, mutates: true, hub: true, thin: true},
		{name: "link.list", alias: "links", run: onStore((*Store).rpcLinkList), params: idParams{}, hub: true, thin: true},
		{name: "node.search", alias: "search", run: onStore((*Store).rpcNodeSearch), params: searchParams{}, hub: true, thin: true},
		{name: "export.markdown", alias: "export", run: onStore((*Store).rpcExportMarkdown), params: exportParams{}},
		{name: "import.markdown", run: onStore((*Store).rpcImportMarkdown), params: importMarkdownParams{}, mutates: true},
		{name: "import.taskwarrior", run: onStore((*Store).rpcImportTaskwarrior), params: importTaskwarriorParams{}, mutates: true, hub: true, thin: true},

		// Capture: quick add, journals, promote (issue 14).
		{name: "task.parse", run: onStore((*Store).rpcTaskParse), params: quickAddParams{}, hub: true, thin: true},
		{name: "task.quickadd", run: onStore((*Store).rpcTaskQuickAdd), params: quickAddParams{}, mutates: true, hub: true, thin: true},
		{name: "journal.get", run: onStore((*Store).rpcJournalGet), params: journalParams{}, hub: true, thin: true},
		{name: "journal.append", run: onStore((*Store).rpcJournalAppend), params: journalAppendParams{}, mutates: true, hub: true, thin: true},
		{name: "journal.list", run: onStore((*Store).rpcJournalList), params: journalListParams{}, hub: true, thin: true},
		{name: "context.promote", run: onStore((*Store).rpcContextPromote), params: promoteParams{}, mutates: true, hub: true, thin: true},

		// Sync.
		{name: "sync.status", run: (*daemon).rpcSyncStatus, params: noParams{}, hub: true},
		{name: "sync.now", run: (*daemon).rpcSyncNow, params: noParams{}, mutates: true},
		{name: "conflict.list", alias: "conflicts.list", run: onStore((*Store).rpcConflictList), params: conflictListParams{}, hub: true, thin: true},
		{name: "conflict.resolve", alias: "conflicts.resolve", run: onStore((*Store).rpcConflictResolve), params: conflictResolveParams{}, mutates: true, hub: true, thin: true},

		// Live events (events_rpc.go, events_hub.go).
		{name: "events.subscribe", run: onStore((*Store).rpcSubscribe), params: subscribeParams{}},
		{name: "events.ticket", run: (*daemon).rpcEventsTicket, params: noParams{}, hub: true},

		// Projects, saved views and bulk changes (issue 14: project_rpc.go, view.go).
		{name: "project.list", run: onStore((*Store).rpcProjectList), params: projectListParams{}, hub: true, thin: true},
		{name: "project.add", run: onStore((*Store).rpcProjectAdd), params: projectAddParams{}, mutates: true, hub: true, thin: true},
		{name: "project.get", run: onStore((*Store).rpcProjectGet), params: idParams{}, hub: true, thin: true},
		{name: "project.rename", run: onStore((*Store).rpcProjectRename), params: projectRenameParams{}, mutates: true, hub: true, thin: true},
		{name: "project.move", run: onStore((*Store).rpcProjectMove), params: projectMoveParams{}, mutates: true, hub: true, thin: true},
		{name: "project.archive", run: onStore((*Store).rpcProjectArchive), params: projectArchiveParams{}, mutates: true, hub: true, thin: true},
		{name: "project.rm", run: onStore((*Store).rpcProjectRm), params: projectRmParams{}, mutates: true, hub: true, thin: true},
		{name: "view.list", run: onStore((*Store).rpcViewList), params: noParams{}, hub: true, thin: true},
		{name: "view.save", run: onStore((*Store).rpcViewSave), params: viewSaveParams{}, mutates: true, hub: true, thin: true},
		{name: "view.rm", run: onStore((*Store).rpcViewRm), params: viewRmParams{}, mutates: true, hub: true, thin: true},
		{name: "task.bulk", run: onStore((*Store).rpcTaskBulk), params: taskBulkParams{}, mutates: true, hub: true, thin: true},

		// Auth (this daemon's hub tokens).
		{name: "auth.status", run: (*daemon).rpcAuthStatus, params: noParams{}},
		{name: "auth.reload", run: (*daemon).rpcAuthReload, params: authReloadParams{}},
	}
}

// errNoStore answers a store method on a daemon that keeps no store.
var errNoStore = &rpcError{Code: codeUnavailable, Message: "a thin client (hephd --mode client) keeps no store, and its hub does not serve this method"}

// onStore adapts a store handler to the table: it runs on the daemon's
// store, or fails with errNoStore when there is none.
func onStore(h func(*Store, context.Context, json.RawMessage) (any, error)) func(*daemon, context.Context, json.RawMessage) (any, error) {
	return func(d *daemon, ctx context.Context, params json.RawMessage) (any, error) {
		if d.store == nil {
			return nil, errNoStore
		}
		return h(d.store, ctx, params)
	}
}

// lookupMethod returns the table row named name (or, for an old name,
// the row it was renamed to).
func lookupMethod(name string) (rpcMethod, bool) {
	for _, m := range methodTable() {
		if m.name == name || m.alias == name {
			return m, true
		}
	}
	return rpcMethod{}, false
}

// handlers binds the rows keep selects (all when keep is nil) to d.
func (d *daemon) handlers(keep func(rpcMethod) bool) map[string]handler {
	out := map[string]handler{}
	for _, m := range methodTable() {
		if keep != nil && !keep(m) {
			continue
		}
		run := m.run
		out[m.name] = func(ctx context.Context, params json.RawMessage) (any, error) { return run(d, ctx, params) }
		if m.alias != "" {
			out[m.alias] = out[m.name]
		}
	}
	return out
}

// socketMethods is what the daemon serves on its socket: every method,
// with a thin client's thin ones forwarded to its hub by f.
func (d *daemon) socketMethods(f *forwarder) map[string]handler {
	m := d.handlers(nil)
	if f == nil {
		return m
	}
	for _, row := range methodTable() {
		if !row.thin {
			continue
		}
		name := row.name
		m[name] = func(ctx context.Context, params json.RawMessage) (any, error) {
			return f.forward(ctx, rpcRequest{Method: name, Params: params})
		}
		if row.alias != "" {
			m[row.alias] = m[name]
		}
	}
	return m
}

// hubMethods is what the hub serves on POST /rpc: the rows marked hub.
func (d *daemon) hubMethods() map[string]handler {
	return d.handlers(func(m rpcMethod) bool { return m.hub })
}

// checkTable reports a row that breaks the table's own rules: a
// duplicate name, or a thin method the hub would refuse.
func checkTable(rows []rpcMethod) error {
	seen := map[string]bool{}
	for _, m := range rows {
		switch {
		case seen[m.name] || (m.alias != "" && seen[m.alias]):
			return fmt.Errorf("method %q (or its alias %q) is in the table twice", m.name, m.alias)
		case m.thin && !m.hub:
			return fmt.Errorf("method %q is thin but not hub: a thin client would forward it to a hub that refuses it", m.name)
		case m.run == nil || m.params == nil:
			return fmt.Errorf("method %q lacks a handler or a params type", m.name)
		}
		seen[m.name] = true
		if m.alias != "" {
			seen[m.alias] = true
		}
	}
	return nil
}
