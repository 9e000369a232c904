// store_backup.go owns online backups (store.backup) and the checks a restore makes of a store file.

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// backupParams are store.backup's params.
type backupParams struct {
	Path string `json:"path"`
}

// backupResult is the reply of store.backup.
type backupResult struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	Took  string `json:"took"`
}

func (s *Store) rpcBackup(ctx context.Context, params json.RawMessage) (any, error) {
	var p backupParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if err := checkBackupTarget(p.Path, os.Getuid()); err != nil {
		return nil, invalidParams("param \"path\": %v", err)
	}
	start := time.Now()
	n, err := s.backupTo(ctx, p.Path)
	if err != nil {
		return nil, err
	}
	return backupResult{Path: p.Path, Bytes: n, Took: time.Since(start).Round(time.Millisecond).String()}, nil
}

// checkBackupTarget decides where hephd may write a backup on a client's
// behalf. hephd only serves its own uid, but it writes the file itself, so
// the path must be absolute (a client's working directory is not hephd's),
// must not exist (a backup never overwrites anything), and its directory
// must exist and belong to uid (hephd never writes into a directory that
// another user controls, such as a shared /tmp subdirectory).
func checkBackupTarget(path string, uid int) error {
	switch {
	case path == "":
		return fmt.Errorf("want the backup file's absolute path")
	case !filepath.IsAbs(path):
		return fmt.Errorf("%q is not absolute: give hephd an absolute path (heph backup makes it absolute for you)", path)
	case strings.ContainsRune(path, 0):
		return fmt.Errorf("the path contains a NUL byte")
	}
	path = filepath.Clean(path)
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists: a backup never overwrites a file; choose a new name", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("check %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("the directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != uid {
		return fmt.Errorf("the directory %s belongs to uid %d, not to you (uid %d): hephd writes backups only into your own directories", dir, st.Uid, uid)
	}
	return nil
}

// backupTo writes a consistent copy of the store to path with VACUUM INTO:
// it reads one snapshot (a WAL read transaction), so writers carry on
// while it runs and the copy holds exactly the writes committed before it
// began. The copy is built under a temporary name in the same directory
// and linked into place, so path never holds a partial file and an
// existing file is never replaced. It returns the copy's size.
func (s *Store) backupTo(ctx context.Context, path string) (int64, error) {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.partial-%d", filepath.Base(path), time.Now().UnixNano()))
	// Created empty and private first: VACUUM INTO fills an empty file and
	// keeps its mode, so the copy is never readable by others, even while
	// it is being written.
	if err := createPrivateEmpty(tmp); err != nil {
		return 0, fmt.Errorf("back up the store to %s: %w", path, err)
	}
	defer os.Remove(tmp)
	if _, err := s.db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return 0, fmt.Errorf("back up the store to %s: %w", path, err)
	}
	if err := syncFile(tmp); err != nil {
		return 0, fmt.Errorf("back up the store to %s: %w", path, err)
	}
	if err := os.Link(tmp, path); err != nil {
		return 0, fmt.Errorf("back up the store: put the copy at %s: %w", path, err)
	}
	if err := syncFile(filepath.Dir(path)); err != nil {
		return 0, fmt.Errorf("back up the store to %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("back up the store to %s: %w", path, err)
	}
	return fi.Size(), nil
}

// createPrivateEmpty creates path as a new empty 0600 file.
func createPrivateEmpty(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// syncFile fsyncs a file or directory.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}

// storeFileInfo is what checkStoreFile learns of a store file.
type storeFileInfo struct {
	SchemaVersion int    `json:"schema_version"`
	Replica       string `json:"replica"`
	Nodes         int    `json:"nodes"` // live nodes (a task counts with its context and log docs)
	Tasks         int    `json:"tasks"`
	Integrity     string `json:"integrity"` // "ok" or SQLite's first complaint
}

// checkStoreFile opens path read-only and checks that it is a heph store
// that passes check ("integrity_check" or "quick_check"): a SQLite
// database with heph's meta table, a replica id and a schema this binary
// knows. It never writes to the file.
func checkStoreFile(ctx context.Context, path, check string) (storeFileInfo, error) {
	var info storeFileInfo
	fi, err := os.Stat(path)
	if err != nil {
		return info, err
	}
	if !fi.Mode().IsRegular() {
		return info, fmt.Errorf("%s is not a regular file", path)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return info, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := db.QueryRowContext(ctx, `PRAGMA `+check).Scan(&info.Integrity); err != nil {
		return info, fmt.Errorf("%s fails SQLite's %s (%w): it is corrupted or not a SQLite database", path, check, err)
	}
	if info.Integrity != "ok" {
		return info, fmt.Errorf("%s fails SQLite's %s: %s", path, check, info.Integrity)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&info.SchemaVersion); err != nil {
		return info, fmt.Errorf("read %s's schema version: %w", path, err)
	}
	if info.SchemaVersion < 1 || info.SchemaVersion > len(migrations) {
		return info, fmt.Errorf("%s is not a heph store this heph can open (schema version %d; this heph knows 1 to %d)", path, info.SchemaVersion, len(migrations))
	}
	if err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key='replica'`).Scan(&info.Replica); err != nil {
		return info, fmt.Errorf("%s is not a heph store (no replica id in its meta table): %w", path, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(kind='task'),0) FROM nodes WHERE deleted IS NULL`).Scan(&info.Nodes, &info.Tasks); err != nil {
		return info, fmt.Errorf("%s is not a heph store (no nodes table): %w", path, err)
	}
	return info, nil
}
