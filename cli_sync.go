// The heph sync and heph conflicts verbs.

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"
)

// heph sync and heph conflicts.

func syncCommands() []*command {
	return []*command{
		{name: "sync", example: "heph sync --now", args: "[--now | --status]", summary: "sync with the hub now, or show sync status (default)", flags: func(fs *flag.FlagSet) {
			fs.Bool("now", false, "run one exchange with the hub and wait for it")
			fs.Bool("status", false, "show last success, last error, ops waiting, login state, conflicts")
		}, run: cmdSync},
		{name: "conflicts", example: "heph conflicts resolve 01KB3 --keep mine", args: "[resolve ID --keep mine|theirs]", summary: "list sync conflicts, or resolve one", flags: func(fs *flag.FlagSet) {
			fs.String("keep", "", "resolve: keep `side` mine or theirs")
			fs.Bool("all", false, "list resolved conflicts too")
		}, run: cmdConflicts},
	}
}

func cmdSync(c *cli, fs *flag.FlagSet, args []string) error {
	if err := wantArgs(args, 0, "no arguments (use --now or --status)"); err != nil {
		return err
	}
	now := fs.Lookup("now").Value.String() == "true"
	if now && fs.Lookup("status").Value.String() == "true" {
		return usagef("--now and --status go alone")
	}
	if now {
		var rep exchangeReport
		if done, err := c.callJSON("sync.now", nil, &rep); done {
			return err
		}
		fmt.Fprintf(c.stdout, "synced in %s: pulled %d op(s) (%d new), pushed %d (%d new)", rep.Took, rep.Pulled, rep.Applied, rep.Pushed, rep.Accepted)
		if rep.Conflicts > 0 {
			fmt.Fprintf(c.stdout, ", %d new conflict(s): see heph conflicts", rep.Conflicts)
		}
		fmt.Fprintln(c.stdout)
		return nil
	}
	var raw json.RawMessage
	if done, err := c.callJSON("sync.status", nil, &raw); done {
		return err
	}
	var st syncStatus
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("decode sync.status: %w", err)
	}
	switch st.Mode {
	case "none":
		fmt.Fprintf(c.stdout, "not syncing (start hephd with --hub-url URL)\n")
		if st.Conflicts > 0 {
			fmt.Fprintf(c.stdout, "open conflicts: %d (heph conflicts)\n", st.Conflicts)
		}
		return nil
	case "spoke":
	default:
		fmt.Fprintf(c.stdout, "%s\n", raw)
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "hub:\t%s\n", st.Hub)
	fmt.Fprintf(tw, "last success:\t%s\n", ago(st.LastSuccess))
	if st.LastError != "" && (st.LastSuccess == nil || (st.LastErrorAt != nil && st.LastErrorAt.After(*st.LastSuccess))) {
		fmt.Fprintf(tw, "last error:\t%s (%s)\n", displayText(st.LastError), ago(st.LastErrorAt))
	}
	if st.NextRetry != nil {
		fmt.Fprintf(tw, "next retry:\t%s (after %d failure(s))\n", st.NextRetry.Local().Format(time.TimeOnly), st.Failures)
	}
	fmt.Fprintf(tw, "waiting to push:\t%d op(s)\n", st.PendingPush)
	auth := st.Auth
	if st.NeedsLogin {
		auth = "needs login: run heph auth login"
	}
	fmt.Fprintf(tw, "auth:\t%s\n", auth)
	fmt.Fprintf(tw, "open conflicts:\t%d\n", st.Conflicts)
	return tw.Flush()
}

func ago(t *time.Time) string {
	if t == nil {
		return "never"
	}
	return fmt.Sprintf("%s (%s ago)", t.Local().Format(time.DateTime), time.Since(*t).Round(time.Second))
}

func cmdConflicts(c *cli, fs *flag.FlagSet, args []string) error {
	if len(args) > 0 {
		if args[0] != "resolve" || len(args) != 2 {
			return usagef("want: heph conflicts resolve ID --keep mine|theirs")
		}
		keep := fs.Lookup("keep").Value.String()
		if keep != "mine" && keep != "theirs" {
			return usagef("resolve needs --keep mine or --keep theirs")
		}
		var cf conflict
		if done, err := c.callJSON("conflict.resolve", conflictResolveParams{ID: args[1], Keep: keep}, &cf); done {
			return err
		}
		fmt.Fprintf(c.stdout, "resolved %s: %s %s kept %s\n", cf.ID, cf.Handle, displayText(cf.Field), keep)
		return nil
	}
	var list []*conflict
	if done, err := c.callJSON("conflict.list", conflictListParams{All: fs.Lookup("all").Value.String() == "true"}, &list); done {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(c.stdout, "no conflicts")
		return nil
	}
	tw := tabwriter.NewWriter(c.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "ID\tNODE\tFIELD\tMINE\tTHEIRS\tNOW HOLDS\n")
	for _, cf := range list {
		holds := cf.Winner
		if cf.Resolved != nil {
			holds = "resolved: kept " + cf.Kept
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s\t%s\t%s\t%s\n", cf.ID, cf.Handle, clip(cf.Title, 30), cf.Field, clip(string(cf.Mine), 30), clip(string(cf.Theirs), 30), holds)
	}
	return tw.Flush()
}

// clip is s made safe for the terminal (displayText) and cut to n runes.
func clip(s string, n int) string {
	s = displayText(s)
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
