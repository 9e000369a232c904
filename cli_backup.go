// cli_backup.go owns heph backup (an online copy made by hephd) and heph restore (offline, with hephd stopped).

package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// backupCommands are heph backup and heph restore.
func backupCommands() []*command {
	return []*command{
		{name: "backup", args: "FILE", summary: "write a consistent copy of the store to FILE while hephd keeps serving",
			example: "heph backup ~/backups/heph-$(date +%F).db", run: cmdBackup},
		{name: "restore", args: "FILE [--db PATH]", summary: "replace the store with a backup (hephd must be stopped; the old store is kept aside)",
			example: "heph daemon stop && heph restore ~/backups/heph-2026-11-30.db && heph daemon start",
			flags: func(fs *flag.FlagSet) {
				fs.String("db", "", "the store `path` to replace (default: the service's --db, $HEPH_DB, $XDG_DATA_HOME/heph/heph.db or ~/.local/share/heph/heph.db)")
			}, run: cmdRestore},
	}
}

func cmdBackup(c *cli, _ *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "the backup FILE to write"); err != nil {
		return err
	}
	// hephd writes the file, and its working directory is not ours.
	path, err := filepath.Abs(args[0])
	if err != nil {
		return fmt.Errorf("backup path %s: %w", args[0], err)
	}
	var res backupResult
	if done, err := c.callJSON("store.backup", backupParams{Path: path}, &res); done {
		return err
	}
	fmt.Fprintf(c.stdout, "backed up the store to %s (%s in %s)\n", res.Path, formatBytes(res.Bytes), res.Took)
	return nil
}

// restoreTarget is the store to restore: --db, else the installed
// service's baked --db, else "" (the default store).
func restoreTarget(flagDB string) string {
	if flagDB != "" {
		return flagDB
	}
	if m, err := newServiceManager(osGetenv); err == nil {
		if cfg, _, err := readServiceFile(m); err == nil {
			return cfg.flag("db")
		}
	}
	return ""
}

// restoreResult is heph restore's --json output.
type restoreResult struct {
	Store   string        `json:"store"`
	From    string        `json:"from"`
	Aside   string        `json:"aside,omitempty"` // where the replaced store now is
	Checked storeFileInfo `json:"checked"`
}

func cmdRestore(c *cli, fs *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 1, "the backup FILE to restore"); err != nil {
		return err
	}
	paths, err := resolvePaths(restoreTarget(flagStr(fs, "db")), c.socket, osGetenv)
	if err != nil {
		return err
	}
	from, err := filepath.Abs(args[0])
	if err != nil {
		return fmt.Errorf("backup path %s: %w", args[0], err)
	}
	if from == paths.DB {
		return usagef("%s is the store itself: give a backup file", from)
	}
	ctx := context.Background()
	res, err := restoreStore(ctx, from, paths.DB)
	if err != nil {
		return err
	}
	if c.json {
		return c.printJSON(res)
	}
	fmt.Fprintf(c.stdout, "restored %s (%d tasks, %d nodes, integrity ok) to %s\n", from, res.Checked.Tasks, res.Checked.Nodes, res.Store)
	if res.Aside != "" {
		fmt.Fprintf(c.stdout, "the store it replaced is kept at %s\n", res.Aside)
	}
	fmt.Fprintln(c.stdout, "start hephd again: heph daemon start (or run hephd)")
	return nil
}

// restoreStore replaces the store at db with a copy of the backup at from.
// It holds the store's lock throughout, so no hephd can open the store
// half-restored, and refuses when a hephd holds it. The backup must pass
// integrity_check; the replaced store (and its -wal/-shm) is renamed aside,
// never deleted.
func restoreStore(ctx context.Context, from, db string) (restoreResult, error) {
	res := restoreResult{Store: db, From: from}
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	lock, err := lockStore(db)
	var inUse *storeInUseError
	if errors.As(err, &inUse) {
		return res, fmt.Errorf("hephd (pid %s) is running on %s: a store cannot be replaced under it. Stop it first (heph daemon stop, or kill %s), run heph restore again, then start it (heph daemon start)", inUse.pid, db, inUse.pid)
	}
	if err != nil {
		return res, err
	}
	defer lock.Close()
	if res.Checked, err = checkStoreFile(ctx, from, "integrity_check"); err != nil {
		return res, fmt.Errorf("restore refused, nothing changed: %w", err)
	}
	tmp := db + ".restoring"
	os.Remove(tmp)
	defer os.Remove(tmp)
	if err := copyStoreFile(ctx, from, tmp); err != nil {
		return res, fmt.Errorf("restore refused, nothing changed: %w", err)
	}
	if res.Aside, err = moveStoreAside(db); err != nil {
		return res, err
	}
	if err := os.Rename(tmp, db); err != nil {
		return res, fmt.Errorf("restore: put the copy at %s (the old store is at %s): %w", db, res.Aside, err)
	}
	if err := syncFile(filepath.Dir(db)); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	return res, nil
}

// copyStoreFile writes a self-contained copy of the SQLite database at
// from (including anything still in its write-ahead log) to to, private
// to the user, and fsyncs it.
func copyStoreFile(ctx context.Context, from, to string) error {
	dsn := "file:" + (&url.URL{Path: from}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(5000)"
	src, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("open %s: %w", from, err)
	}
	defer src.Close()
	if err := createPrivateEmpty(to); err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if _, err := src.ExecContext(ctx, `VACUUM INTO ?`, to); err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	return syncFile(to)
}

// moveStoreAside renames the store at db and its -wal and -shm files to
// db.pre-restore-TIMESTAMP (keeping the suffixes, so SQLite still finds
// the log beside it). It returns the new name, or "" when there was no
// store.
func moveStoreAside(db string) (string, error) {
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	aside := db + ".pre-restore-" + time.Now().UTC().Format("20060102T150405Z")
	// The log moves first: a stale -wal must never sit beside the copy.
	var moved []string
	for _, suffix := range []string{"-wal", "-shm", ""} {
		err := os.Rename(db+suffix, aside+suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			for _, m := range moved { // put back what moved
				os.Rename(aside+m, db+m)
			}
			return "", fmt.Errorf("restore: keep the old store aside at %s (nothing changed): %w", aside, err)
		}
		moved = append(moved, suffix)
	}
	return aside, nil
}

// formatBytes prints a size for people: 512 B, 3.4 MB.
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}
