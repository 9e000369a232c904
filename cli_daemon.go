// The heph daemon verb: start, status, restart, stop, uninstall, logs.

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// daemonCommand is heph's "daemon" verb: heph daemon start|status|restart|
// stop|uninstall|logs.
func daemonCommand() *command {
	return &command{
		name:    "daemon",
		subs:    []string{"start", "status", "restart", "stop", "uninstall", "logs"},
		example: "heph daemon start --hub-url https://hub.example:8417",
		args:    "VERB [flags]",
		summary: "run hephd as a service (systemd user unit / launchd agent): start, status, restart, stop, uninstall, logs",
		flags:   daemonCLIFlags,
		run:     cmdDaemon,
	}
}

// daemonCLIFlags mirrors every bakeable hephd flag (--socket is heph's
// global flag), adds --no-FLAG for bool flags, and the verbs' own flags.
func daemonCLIFlags(fs *flag.FlagSet) {
	for _, b := range bakeableFlags() {
		if b.name == "socket" {
			continue
		}
		usage := "start/restart: bake hephd's --" + b.name + ": " + daemonFlagUsage(b.name)
		switch b.kind {
		case kindBool:
			fs.Bool(b.name, false, usage)
			fs.Bool("no-"+b.name, false, "start/restart: remove a baked --"+b.name)
		case kindList:
			fs.Var(new(stringList), b.name, usage+" (an empty value removes them all)")
		default:
			fs.String(b.name, "", usage+" (an empty value removes it)")
		}
	}
	fs.Bool("dry-run", false, "start/restart: print the service file and the commands, change nothing")
	fs.Bool("force", false, "start/restart: bake a temporary binary path, or replace a service file that does not parse")
	fs.Bool("f", false, "logs: keep printing what is appended")
	fs.Int("n", 50, "logs: print the last `N` lines (0: all)")
}

// daemonVerbFlags are the flags each verb accepts besides the bakeable ones.
func daemonVerbFlags(verb string) map[string]bool {
	switch verb {
	case "start", "restart":
		return map[string]bool{"dry-run": true, "force": true, "socket": true, "json": true}
	case "logs":
		return map[string]bool{"f": true, "n": true}
	case "status":
		return map[string]bool{"json": true}
	case "stop", "uninstall":
		return map[string]bool{"json": true}
	}
	return nil
}

func cmdDaemon(c *cli, fs *flag.FlagSet, args []string) error {
	if len(args) == 0 {
		return usagef("want one of: heph daemon start|status|restart|stop|uninstall|logs")
	}
	verb := args[0]
	allowed := daemonVerbFlags(verb)
	if allowed == nil {
		return usagef("unknown daemon verb %q: want start, status, restart, stop, uninstall or logs", verb)
	}
	if len(args) > 1 {
		// Flags take --name VALUE; a stray word is usually a forgotten --.
		return usagef("heph daemon %s takes flags only, not %q (see heph daemon -h)", verb, strings.Join(args[1:], " "))
	}
	changes, err := daemonFlagChanges(c, fs, verb, allowed)
	if err != nil {
		return err
	}
	m, err := newServiceManager(osGetenv)
	if err != nil {
		return err
	}
	d := &daemonCtl{m: m, out: c.stdout, errOut: c.stderr, getenv: osGetenv, env: realEnvResolver(osGetenv),
		argv0: os.Args[0], json: c.json, readyTimeout: 5 * time.Second}
	boolFlag := func(name string) bool { v, _ := strconv.ParseBool(fs.Lookup(name).Value.String()); return v }
	switch verb {
	case "start", "restart":
		return d.install(installRequest{verb: verb, changes: changes, dryRun: boolFlag("dry-run"), force: boolFlag("force")})
	case "status":
		return d.status()
	case "stop":
		return d.stop()
	case "uninstall":
		return d.uninstall()
	default: // logs
		n, _ := strconv.Atoi(fs.Lookup("n").Value.String())
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer cancel()
		return d.logs(ctx, n, boolFlag("f"))
	}
}

// daemonFlagChanges checks the flags passed to heph daemon VERB (allowed:
// the verb's own) and returns the changes of the baked flags they ask for
// (start and restart only), the global --socket included.
func daemonFlagChanges(c *cli, fs *flag.FlagSet, verb string, allowed map[string]bool) ([]flagChange, error) {
	var changes []flagChange
	var bad error
	fs.Visit(func(f *flag.Flag) {
		if allowed[f.Name] {
			return
		}
		ch, ok, err := bakeChange(f)
		switch {
		case !ok || (verb != "start" && verb != "restart"):
			if bad == nil {
				bad = usagef("heph daemon %s does not take --%s", verb, f.Name)
			}
		case err != nil:
			if bad == nil {
				bad = err
			}
		default:
			changes = append(changes, ch)
		}
	})
	if bad != nil {
		return nil, bad
	}
	if (verb == "start" || verb == "restart") && c.socket != "" {
		abs, err := filepath.Abs(c.socket)
		if err != nil {
			return nil, fmt.Errorf("socket path %s: %w", c.socket, err)
		}
		changes = append(changes, flagChange{name: "socket", values: []string{abs}})
	}
	return changes, nil
}

// bakeChange turns a passed flag into a change of the baked flags. ok is
// false when f is not a bakeable flag (or its --no- form).
func bakeChange(f *flag.Flag) (ch flagChange, ok bool, err error) {
	if b, found := lookupBakeable(f.Name); found {
		switch b.kind {
		case kindBool:
			if v, _ := strconv.ParseBool(f.Value.String()); v {
				return flagChange{name: b.name, values: []string{"true"}}, true, nil
			}
			return flagChange{name: b.name}, true, nil
		case kindList:
			return flagChange{name: b.name, values: *f.Value.(*stringList)}, true, nil
		case kindPath:
			v := f.Value.String()
			if v != "" {
				abs, err := filepath.Abs(v)
				if err != nil {
					return ch, true, fmt.Errorf("--%s %s: %w", b.name, v, err)
				}
				v = abs
			}
			return flagChange{name: b.name, values: []string{v}}, true, nil
		default:
			return flagChange{name: b.name, values: []string{f.Value.String()}}, true, nil
		}
	}
	if len(f.Name) > 3 && f.Name[:3] == "no-" {
		if b, found := lookupBakeable(f.Name[3:]); found && b.kind == kindBool {
			if v, _ := strconv.ParseBool(f.Value.String()); v {
				return flagChange{name: b.name}, true, nil
			}
			return ch, true, fmt.Errorf("--%s=false is not meaningful; pass --%s to turn it on", f.Name, b.name)
		}
	}
	return ch, false, nil
}
