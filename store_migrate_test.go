package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestStoreOpenPragmasAndMigrations: a new store gets every migration, WAL,
// foreign keys and a busy timeout; reopening applies nothing twice; a store
// from a newer heph is refused rather than damaged.
func TestStoreOpenPragmasAndMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(shortTempDir(t), "sub", "heph.db")
	s, err := openStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.schemaVersion(ctx); err != nil || v != len(migrations) {
		t.Fatalf("schema version %d (%v), want %d", v, err, len(migrations))
	}
	var mode string
	var fk, busy int
	if err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys %d %v", fk, err)
	}
	if err := s.db.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil || busy < 1000 {
		t.Fatalf("busy_timeout %d %v", busy, err)
	}
	replica := s.replica
	if err := s.Write(ctx, func(tx *Tx) error { _, err := tx.Create("task", map[string]any{"title": "kept"}); return err }); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = openStore(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if s.replica != replica {
		t.Fatalf("replica id changed across reopen: %s → %s", replica, s.replica)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM nodes`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("nodes after reopen: %d %v", n, err)
	}
	s.Close()

	// Pretend a newer heph migrated this store.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := openStore(ctx, path); err == nil || !strings.Contains(err.Error(), "newer than this hephd knows") {
		if s != nil {
			s.Close()
		}
		t.Fatalf("store from a newer heph: want a refusal, got %v", err)
	}
	// The refusal released the lock: the same process can try again.
	f, err := lockStore(path)
	if err != nil {
		t.Fatalf("lock not released after a refused open: %v", err)
	}
	f.Close()
}
