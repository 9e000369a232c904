// The SQLite store: opening it (one hephd at a time), migrations, write and read transactions.

package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Store is heph's SQLite store. Only one hephd may hold it open: the
// exclusive flock on "<db>.lock" says who does.
type Store struct {
	db      *sql.DB
	path    string
	lock    *os.File
	replica string
	clock   *hlcClock
	writeMu sync.Mutex // one write transaction at a time
	// generation counts committed write transactions; caches derived
	// from the store (daemon.info's counts) are valid for one generation.
	generation atomic.Uint64
	countsMu   sync.Mutex
	countsGen  uint64
	countsVal  map[string]int
	now        func() time.Time
	stmts      stmtCache // prepared statements of the apply path
	// onLocalWrite, when set, is called after a write that recorded local
	// ops commits (the spoke's sync debounce listens here).
	onLocalWrite func()
	// events publishes each committed write transaction (events.go).
	events *eventBus
	// health is closed when the integrity check opening started is done;
	// healthErr is its verdict (checkIntegrity). Writes wait for it.
	health     chan struct{}
	healthErr  error
	stopHealth context.CancelFunc
	// listCache keeps each listed task's JSON (task_listcache.go);
	// listStmts its queries, prepared.
	listCache   listCache
	listStmts   stmtCache
	listResults listResults // whole listing replies (task_listresult.go)
}

// storeInUseError is returned when another hephd holds the store.
type storeInUseError struct{ path, pid string }

func (e *storeInUseError) Error() string {
	return fmt.Sprintf("store %s is in use by hephd pid %s", e.path, e.pid)
}

// openStore takes the store's lock, opens it, applies migrations and loads
// the replica id and clock.
func openStore(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	lock, err := lockStore(path)
	if err != nil {
		return nil, err
	}
	// The store holds a person's life: create it private. SQLite gives the
	// -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err == nil {
		f.Close()
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_pragma=temp_store(2)&_pragma=cache_size(-16000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(5) // four for the pool, one for the listing results' data version
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(0)
	s := &Store{db: db, path: path, lock: lock, now: time.Now, listStmts: stmtCache{limit: 64}}
	if err := s.checkAtOpen(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.ready(ctx); err != nil {
		err = s.openError(ctx, err)
		s.Close()
		return nil, err
	}
	return s, nil
}

// ready brings an opened store up: migrations, the replica id, the write
// probe, the event bus, the adoption of old project strings.
func (s *Store) ready(ctx context.Context) error {
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if err := s.loadReplica(ctx); err != nil {
		return err
	}
	if err := s.probeWrite(ctx); err != nil {
		return err
	}
	seq, err := s.maxSeq(ctx)
	if err != nil {
		return err
	}
	s.events = newEventBus(s, seq)
	_, err = s.adoptLegacyProjects(ctx)
	return err
}

// openError says why opening failed: the store cannot be written, or the
// integrity check found it damaged (the likely cause of anything else),
// or err itself.
func (s *Store) openError(ctx context.Context, err error) error {
	var ue *unwritableError
	switch {
	case errors.As(err, &ue):
		return err
	case storeAccessDenied(err):
		return s.unwritable(err)
	}
	if herr := s.awaitHealthy(ctx); herr != nil {
		return herr
	}
	return fmt.Errorf("open store %s: %w", s.path, err)
}

// lockStore takes an exclusive, non-blocking flock on path+".lock" and
// writes our pid into it, so a second daemon can name the owner.
func lockStore(path string) (*os.File, error) {
	lockPath := path + ".lock"
	f, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("lock store %s: %s is a symbolic link: refusing to write through it (remove it; hephd creates the lock file)", path, lockPath)
	}
	if err != nil {
		return nil, fmt.Errorf("lock store %s: %w", path, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("lock store %s: %s is not a regular file: refusing to use it (remove it; hephd creates the lock file)", path, lockPath)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			buf := make([]byte, 32)
			n, _ := f.ReadAt(buf, 0)
			pid := strings.TrimSpace(string(buf[:n]))
			if pid == "" {
				pid = "?"
			}
			return nil, &storeInUseError{path: path, pid: pid}
		}
		return nil, fmt.Errorf("lock store %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// Close closes the database and releases the lock.
func (s *Store) Close() error {
	if s.stopHealth != nil {
		// Cancel the integrity check and wait for it, so its connection
		// is closed (and the store released) when Close returns.
		s.stopHealth()
		<-s.health
	}
	if s.events != nil {
		s.events.close()
	}
	s.listResults.close()
	err := s.db.Close()
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// loadReplica reads (or creates) this store's replica id and primes the
// clock past every op already recorded.
func (s *Store) loadReplica(ctx context.Context) error {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='replica'`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		id = strings.ToLower(newULID(time.Now())[10:])
		if _, err := s.db.ExecContext(ctx, `INSERT INTO meta(key,value) VALUES('replica',?)`, id); err != nil {
			return fmt.Errorf("save replica id: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("read replica id: %w", err)
	}
	s.replica = id
	s.clock = newHLCClock(id, func() time.Time { return s.now() })
	var maxHLC sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT max(hlc) FROM ops`).Scan(&maxHLC); err != nil {
		return fmt.Errorf("read clock: %w", err)
	}
	if maxHLC.Valid {
		h, err := parseHLC(maxHLC.String)
		if err != nil {
			return err
		}
		s.clock.Observe(h)
	}
	return nil
}

// migrations are applied in order, each in its own transaction; the
// store's PRAGMA user_version counts how many have been applied. Append
// only: never edit one that has shipped.
var migrations = []string{
	// 1: nodes, tasks, links, the op-log and per-field clocks.
	`
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE nodes(
	id      TEXT PRIMARY KEY,          -- ULID
	handle  TEXT NOT NULL UNIQUE,      -- short, stable handle a person types
	kind    TEXT NOT NULL CHECK (kind IN ('doc','task')),
	title   TEXT NOT NULL DEFAULT '',
	body    TEXT NOT NULL DEFAULT '',
	created INTEGER NOT NULL,          -- unix ms
	updated INTEGER NOT NULL,          -- unix ms
	deleted INTEGER                    -- unix ms tombstone; NULL while live
);
CREATE TABLE tasks(
	node_id    TEXT PRIMARY KEY REFERENCES nodes(id),
	state      TEXT NOT NULL DEFAULT 'outstanding' CHECK (state IN ('outstanding','done','dropped')),
	attention  TEXT NOT NULL DEFAULT 'white' CHECK (attention IN ('white','orange','red','blue')),
	do_at      INTEGER,                -- unix ms; NULL when unset
	late_at    INTEGER,                -- unix ms; NULL when unset
	recur      TEXT NOT NULL DEFAULT '',
	recur_after_done INTEGER NOT NULL DEFAULT 0,
	occurrences INTEGER NOT NULL DEFAULT 0, -- completed occurrences (for COUNT)
	project    TEXT NOT NULL DEFAULT '',
	tags       TEXT NOT NULL DEFAULT '[]', -- JSON array, sorted
	context_id TEXT NOT NULL DEFAULT '',
	log_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tasks_state ON tasks(state, attention);
CREATE TABLE links(
	src   TEXT NOT NULL,
	dst   TEXT NOT NULL,
	kind  TEXT NOT NULL,               -- wiki, explicit
	label TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (src, dst, kind)
);
CREATE INDEX links_dst ON links(dst);
CREATE TABLE ops(
	seq    INTEGER PRIMARY KEY,        -- local order of application
	id     TEXT NOT NULL UNIQUE,       -- ULID; makes replays no-ops
	hlc    TEXT NOT NULL,
	node   TEXT NOT NULL,
	type   TEXT NOT NULL,
	data   TEXT NOT NULL,              -- JSON
	local  INTEGER NOT NULL,           -- 1 when made on this replica
	batch  TEXT NOT NULL DEFAULT '',   -- ops of one local mutation share it (undo unit)
	undone INTEGER NOT NULL DEFAULT 0  -- 1 once reverted by undo
);
CREATE INDEX ops_batch ON ops(local, batch);
CREATE INDEX ops_hlc ON ops(hlc);
CREATE INDEX ops_node ON ops(node);
CREATE TABLE clocks(
	node  TEXT NOT NULL,
	field TEXT NOT NULL,
	hlc   TEXT NOT NULL,               -- HLC of the op that last set it
	PRIMARY KEY (node, field)
) WITHOUT ROWID;
`,
	// 2: next indexes. "heph next" must stop at its limit instead of
	// sorting every outstanding task, so tasks carry copies of their node's
	// created and deleted (kept by triggers) and an attention rank, and each
	// ordered group of next is one range of a partial index. Also the
	// append-only log entries and the completions that make a recurring
	// task's occurrence count once across replicas.
	`
ALTER TABLE tasks ADD COLUMN node_created INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN node_deleted INTEGER;
ALTER TABLE tasks ADD COLUMN arank INTEGER GENERATED ALWAYS AS
	(CASE attention WHEN 'red' THEN 0 WHEN 'orange' THEN 1 WHEN 'white' THEN 2 ELSE 3 END) VIRTUAL;
UPDATE tasks SET
	node_created = (SELECT created FROM nodes WHERE id = tasks.node_id),
	node_deleted = (SELECT deleted FROM nodes WHERE id = tasks.node_id);
CREATE TRIGGER tasks_copy_node AFTER INSERT ON tasks BEGIN
	UPDATE tasks SET
		node_created = (SELECT created FROM nodes WHERE id = new.node_id),
		node_deleted = (SELECT deleted FROM nodes WHERE id = new.node_id)
	WHERE node_id = new.node_id;
END;
CREATE TRIGGER nodes_deleted_to_tasks AFTER UPDATE OF deleted ON nodes WHEN new.kind = 'task' BEGIN
	UPDATE tasks SET node_deleted = new.deleted WHERE node_id = new.id;
END;
CREATE INDEX tasks_next ON tasks(arank, node_created, node_id)
	WHERE state = 'outstanding' AND node_deleted IS NULL;
CREATE INDEX tasks_late ON tasks(late_at, arank, node_created, node_id)
	WHERE state = 'outstanding' AND node_deleted IS NULL AND late_at IS NOT NULL;
CREATE INDEX tasks_do ON tasks(do_at, arank, node_created, node_id)
	WHERE state = 'outstanding' AND node_deleted IS NULL AND do_at IS NOT NULL;
CREATE INDEX tasks_all ON tasks(node_created, node_id) WHERE node_deleted IS NULL;
CREATE INDEX tasks_context ON tasks(context_id);
CREATE INDEX tasks_log ON tasks(log_id);
CREATE TABLE log_entries(
	op_id   TEXT PRIMARY KEY,          -- the log.append (or task.complete) op
	log_id  TEXT NOT NULL,             -- the log doc
	hlc     TEXT NOT NULL,
	at      INTEGER NOT NULL,          -- unix ms shown with the entry
	text    TEXT NOT NULL,
	removed INTEGER NOT NULL DEFAULT 0 -- 1 once undone (a tombstone)
);
CREATE INDEX log_entries_log ON log_entries(log_id, at, hlc);
CREATE TABLE completions(
	node       TEXT NOT NULL,          -- the task
	occurrence INTEGER NOT NULL,       -- do (unix ms) of the completed occurrence, 0 if none
	op_id      TEXT NOT NULL,          -- the task.complete op that counts (lowest hlc wins)
	hlc        TEXT NOT NULL,
	PRIMARY KEY (node, occurrence)
);
`,
	// 3: search, wiki link references and import mappings.
	//
	// search_fts indexes the title and body of live nodes; search_rows gives
	// each node a stable integer rowid (nodes' own rowid may change on
	// VACUUM). Triggers note changed nodes in search_dirty and Write
	// re-indexes them once, just before commit (flushSearch): FTS5 writes
	// its pending index at every statement of a transaction it took part
	// in, so indexing row by row would make big imports crawl. wiki_refs holds every
	// [[…]] reference of every body, resolved (dst) or not, so a reference
	// resolves when its target appears or is renamed. imports maps ids in
	// other tools (taskwarrior uuids, markdown paths) to nodes, so a second
	// import finds what the first one made.
	`
CREATE TABLE search_rows(rowid INTEGER PRIMARY KEY, node TEXT NOT NULL UNIQUE);
CREATE VIRTUAL TABLE search_fts USING fts5(title, body, tokenize='unicode61 remove_diacritics 2');
CREATE TABLE search_dirty(node TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT INTO search_rows(node) SELECT id FROM nodes ORDER BY id;
INSERT INTO search_fts(rowid, title, body)
	SELECT r.rowid, n.title, n.body FROM nodes n JOIN search_rows r ON r.node = n.id WHERE n.deleted IS NULL;
CREATE TRIGGER search_insert AFTER INSERT ON nodes BEGIN
	INSERT OR IGNORE INTO search_dirty(node) VALUES (new.id);
END;
CREATE TRIGGER search_update AFTER UPDATE OF title, body, deleted ON nodes
WHEN old.title IS NOT new.title OR old.body IS NOT new.body OR old.deleted IS NOT new.deleted BEGIN
	INSERT OR IGNORE INTO search_dirty(node) VALUES (new.id);
END;
CREATE TRIGGER search_delete AFTER DELETE ON nodes BEGIN
	INSERT OR IGNORE INTO search_dirty(node) VALUES (old.id);
END;
CREATE INDEX nodes_title_nocase ON nodes(title COLLATE NOCASE);
CREATE TABLE wiki_refs(
	src    TEXT NOT NULL,
	pos    INTEGER NOT NULL,           -- order in the body
	target TEXT NOT NULL,              -- as written: an id, handle, prefix or title
	norm   TEXT NOT NULL,              -- lower(target), for lookups
	label  TEXT NOT NULL DEFAULT '',
	dst    TEXT,                       -- resolved node; NULL while unresolved
	PRIMARY KEY (src, pos)
);
CREATE INDEX wiki_refs_norm ON wiki_refs(norm);
CREATE INDEX wiki_refs_dst ON wiki_refs(dst);
CREATE TABLE imports(
	source  TEXT NOT NULL,             -- taskwarrior, markdown
	ext_id  TEXT NOT NULL,             -- the id in that source
	node_id TEXT NOT NULL,
	PRIMARY KEY (source, ext_id)
);
`,
	// 4: sync — per-hub cursors and state, the conflicts queue, hub owners.
	`
CREATE TABLE sync_state(
	hub          TEXT PRIMARY KEY,        -- hub URL
	pulled       INTEGER NOT NULL DEFAULT 0, -- hub's op seq received up to
	pushed       INTEGER NOT NULL DEFAULT 0, -- local op seq the hub has up to
	last_success INTEGER,                 -- unix ms
	last_error   TEXT NOT NULL DEFAULT '',
	last_error_at INTEGER                 -- unix ms
);
CREATE TABLE conflicts(
	id         TEXT PRIMARY KEY,          -- ULID
	node       TEXT NOT NULL,
	field      TEXT NOT NULL,
	mine       TEXT NOT NULL,             -- JSON value written here
	theirs     TEXT NOT NULL,             -- JSON value from the other replica
	mine_hlc   TEXT NOT NULL,
	theirs_hlc TEXT NOT NULL,
	theirs_op  TEXT NOT NULL,
	winner     TEXT NOT NULL CHECK (winner IN ('mine','theirs')),
	created    INTEGER NOT NULL,          -- unix ms
	resolved   INTEGER,                   -- unix ms; NULL while open
	kept       TEXT NOT NULL DEFAULT ''   -- mine or theirs, once resolved
);
CREATE INDEX conflicts_open ON conflicts(resolved, created);
CREATE INDEX ops_local ON ops(local, seq);
`,
	// 5: cheaper creates. A node's create sets its fields without clock
	// rows: create_hlc is the clock of each field whose bit is set in
	// create_fields (createFieldOrder) until a later op writes its row
	// (fieldClocks). Creates insert tasks rows with node_created and
	// node_deleted in place, so tasks_copy_node only fills them in for
	// rows inserted without (node_created = 0).
	`
ALTER TABLE nodes ADD COLUMN create_hlc TEXT;
ALTER TABLE nodes ADD COLUMN create_fields INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER tasks_copy_node;
CREATE TRIGGER tasks_copy_node AFTER INSERT ON tasks WHEN new.node_created = 0 BEGIN
	UPDATE tasks SET
		node_created = (SELECT created FROM nodes WHERE id = new.node_id),
		node_deleted = (SELECT deleted FROM nodes WHERE id = new.node_id)
	WHERE node_id = new.node_id;
END;
`,
	// 6: first-class projects and saved views (project.go, view.go).
	// Two new node kinds: the kind CHECK is widened in place (SQLite's
	// documented writable_schema procedure for loosening a constraint;
	// migrate bumps schema_version). A project's parent and archived flag
	// live in projects, with its path derived from the titles of its
	// ancestors (refreshProjectPaths); a view's filter and sort in views.
	// Tasks reference projects by id (project_id); the old project
	// strings stay in tasks.project until adoptLegacyProjects turns them
	// into project nodes, recording ops so the change syncs.
	`
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'CHECK (kind IN (''doc'',''task''))', 'CHECK (kind IN (''doc'',''task'',''project'',''view''))')
	WHERE type = 'table' AND name = 'nodes';
PRAGMA writable_schema = OFF;
CREATE TABLE projects(
	node_id  TEXT PRIMARY KEY REFERENCES nodes(id),
	parent   TEXT NOT NULL DEFAULT '', -- project id; '' at the top
	archived INTEGER NOT NULL DEFAULT 0,
	path     TEXT NOT NULL DEFAULT ''  -- derived: titles from the root, "/"-joined
);
CREATE INDEX projects_parent ON projects(parent);
CREATE INDEX projects_path ON projects(path COLLATE NOCASE);
CREATE TABLE views(
	node_id TEXT PRIMARY KEY REFERENCES nodes(id),
	filter  TEXT NOT NULL DEFAULT '',
	sort    TEXT NOT NULL DEFAULT ''
);
ALTER TABLE tasks ADD COLUMN project_id TEXT NOT NULL DEFAULT '';
CREATE INDEX tasks_project ON tasks(project_id, state, arank, tags) WHERE node_deleted IS NULL; -- tags: +tag is checked in the index
CREATE INDEX tasks_legacy_project ON tasks(project) WHERE project != '';
`,
	// 7: task revisions for the listing cache (task_listcache.go). rev
	// takes a new random value whenever anything a task's listing shows
	// may have changed: its tasks row is inserted or updated, or its node
	// row is updated. tasks_project grows to cover every column a filter
	// or sort on tasks reads, plus rev, so a listing by project reads ids
	// and revisions from the index alone (attention rather than the
	// virtual arank, which SQLite cannot read from an index; sorts rank
	// attention with attentionRank).
	`
ALTER TABLE tasks ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET rev = random();
CREATE TRIGGER tasks_rev_insert AFTER INSERT ON tasks BEGIN
	UPDATE tasks SET rev = random() WHERE rowid = new.rowid;
END;
CREATE TRIGGER tasks_rev_update AFTER UPDATE ON tasks WHEN new.rev IS old.rev BEGIN
	UPDATE tasks SET rev = random() WHERE rowid = new.rowid;
END;
CREATE TRIGGER tasks_rev_node AFTER UPDATE ON nodes WHEN new.kind = 'task' BEGIN
	UPDATE tasks SET rev = random() WHERE node_id = new.id;
END;
DROP INDEX tasks_project;
CREATE INDEX tasks_project ON tasks(project_id, state, attention, tags, late_at, do_at, node_created, node_id, recur, rev, node_deleted)
	WHERE node_deleted IS NULL;
`,
}

// migrate applies the migrations the store has not seen yet.
func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("store schema version %d is newer than this hephd knows (%d): upgrade heph", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		// Bump schema_version so every pooled connection re-reads the
		// schema (migration 6 edits it through writable_schema).
		var sv int
		if err := tx.QueryRowContext(ctx, `PRAGMA schema_version`).Scan(&sv); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA schema_version = %d; PRAGMA user_version = %d`, sv+1, i+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

// schemaVersion reports the applied migration count.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	return v, err
}

// read runs fn in a read-only (deferred, so it takes no write lock)
// transaction that is rolled back: for reads that use the Tx helpers.
func (s *Store) read(ctx context.Context, fn func(*Tx) error) error {
	sqlTx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer sqlTx.Rollback()
	return fn(&Tx{s: s, tx: sqlTx, ctx: ctx})
}

// storeCheckTime bounds the integrity check at start.
const storeCheckTime = 20 * time.Second

// checkAtOpen checks the store's integrity: in the background on a store
// whose schema is current (startHealthCheck), first on one about to be
// migrated (new, or from an older hephd: a damaged store is never
// migrated) or whose schema version cannot be read.
func (s *Store) checkAtOpen(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil || version < len(migrations) {
		return s.checkIntegrity(ctx) // migrate reports an unreadable version itself
	}
	s.startHealthCheck()
	return nil
}

// startHealthCheck runs checkIntegrity in the background: hephd serves
// reads at once (a quick_check reads the whole store: about a second for
// 100,000 nodes) while writes wait for the verdict (awaitHealthy), so a
// damaged store is never written, and hephd stops on one (daemon.run).
func (s *Store) startHealthCheck() {
	ctx, cancel := context.WithCancel(context.Background())
	s.health, s.stopHealth = make(chan struct{}), cancel
	go func() {
		defer close(s.health)
		if err := callRecovered(log.Default(), "store check", func() { s.healthErr = s.checkIntegrity(ctx) }); err != nil {
			s.healthErr = err
		}
	}()
}

// awaitHealthy waits for the integrity check and returns its verdict (nil
// for a store opened without one).
func (s *Store) awaitHealthy(ctx context.Context) error {
	if s.health == nil {
		return nil
	}
	select {
	case <-s.health:
		return s.healthErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Health is closed when the integrity check is done; HealthErr is then
// its verdict.
func (s *Store) Health() <-chan struct{} { return s.health }

// HealthErr is the integrity check's verdict once Health is closed.
func (s *Store) HealthErr() error { return s.healthErr }

// checkIntegrity refuses a store with corrupted pages (PRAGMA
// quick_check, bounded in time), saying what to do, rather than working
// on and answering "database disk image is malformed" later.
func (s *Store) checkIntegrity(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, storeCheckTime)
	defer cancel()
	var res string
	err := s.db.QueryRowContext(cctx, `PRAGMA quick_check(1)`).Scan(&res)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(cctx.Err(), context.DeadlineExceeded):
		// A huge store on a slow disk: do not hold writes hostage.
	case ctx.Err() != nil:
		// The store closed first.
	case err != nil && storeAccessDenied(err):
		return s.unwritable(err) // a read-only store is not a damaged one
	case err != nil && storeBusy(err):
		// Another connection holds a lock a reader cannot wait out (a
		// first switch to WAL): no verdict, so no refusal.
	case err != nil:
		return fmt.Errorf("store %s is damaged (%v): restore it from a backup or a heph export; hephd will not write to it", s.path, err)
	case res != "ok":
		return fmt.Errorf("store %s is damaged (integrity check: %s): restore it from a backup or a heph export; hephd will not write to it", s.path, res)
	}
	return nil
}

// probeWrite refuses a store this process cannot write (read-only file
// or directory, full disk) at start, rather than failing every write.
func (s *Store) probeWrite(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta(key,value) VALUES('write_probe',?) ON CONFLICT(key) DO UPDATE SET value=excluded.value`, strconv.FormatInt(time.Now().UnixMilli(), 10)); err != nil {
		return s.unwritable(err)
	}
	return nil
}

// unwritable is the refusal for a store this process cannot write.
func (s *Store) unwritable(err error) error {
	return &unwritableError{path: s.path, err: err}
}

// unwritableError is a store this process cannot write.
type unwritableError struct {
	path string
	err  error
}

func (e *unwritableError) Error() string {
	return fmt.Sprintf("store %s cannot be written (%v): check the permissions and owner of the file, its -wal and -shm files and its directory, and the free disk space", e.path, e.err)
}

// storeAccessDenied reports whether a SQLite error means the file or its
// directory cannot be written or opened (SQLITE_READONLY, SQLITE_CANTOPEN,
// SQLITE_PERM and their extended codes), not that the data is bad.
// storeBusy reports a SQLite BUSY or LOCKED error.
func storeBusy(err error) bool {
	var se interface{ Code() int }
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == 5 || c == 6 // SQLITE_BUSY, SQLITE_LOCKED
}

func storeAccessDenied(err error) bool {
	var se interface{ Code() int }
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff {
	case 3, 8, 14: // SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN
		return true
	}
	return false
}
