// The heph auth verb: login, status, logout.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"
)

// heph auth login|status|logout.

// authCommand is the `heph auth` verb.
func authCommand() *command {
	return &command{
		name:    "auth",
		example: "heph auth login --hub-url https://hub.example:8417",
		args:    "login|status|logout [--hub-url URL]",
		summary: "log in to a sync hub (OAuth device flow), show the login, or log out",
		flags: func(fs *flag.FlagSet) {
			fs.String("hub-url", os.Getenv("HEPH_HUB_URL"), "the hub's `URL` (default $HEPH_HUB_URL)")
			fs.String("oidc-issuer", "", "login: the OIDC issuer `URL` (default: from the hub's /config)")
			fs.String("oidc-client-id", "", "login: the OIDC client `id` (default: from the hub's /config)")
			fs.String("oidc-audience", "", "login: the hub's token `audience` (default: from the hub's /config)")
			fs.String("hub-ca", "", "PEM `file` of a private CA for the hub and provider")
			fs.String("token-file", "", "token `file` (default $XDG_CONFIG_HOME/heph/hub-token.json)")
			fs.String("token-load-cmd", "", "shell `command` that prints the token JSON (instead of a file)")
			fs.String("token-save-cmd", "", "shell `command` that stores the token JSON it reads on stdin")
			fs.Bool("insecure-http", false, "login: allow an http:// hub off loopback (tokens cross the network in clear)")
		},
		run: cmdAuth,
	}
}

func cmdAuth(c *cli, fs *flag.FlagSet, args []string) error {
	if len(args) != 1 {
		return usagef("want one of: heph auth login | status | logout")
	}
	get := func(name string) string { return fs.Lookup(name).Value.String() }
	store, err := openTokenStore(tokenStoreOptions{File: get("token-file"), LoadCmd: get("token-load-cmd"), SaveCmd: get("token-save-cmd")}, osGetenv)
	if err != nil {
		return usagef("%v", err)
	}
	client, err := newHubHTTPClient(get("hub-ca"))
	if err != nil {
		return err
	}
	hub := normalizeHubURL(get("hub-url"))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "login":
		opts := loginOptions{HubURL: hub, Issuer: get("oidc-issuer"), ClientID: get("oidc-client-id"), Audience: get("oidc-audience"), InsecureHTTP: get("insecure-http") == "true"}
		if cleartextHub(hub) && opts.InsecureHTTP {
			fmt.Fprintln(c.stderr, cleartextWarning(hub))
		}
		t, err := authLogin(ctx, client, store, opts, c.stdout)
		if err != nil {
			return err
		}
		c.tellDaemon(t.HubURL)
		if c.json {
			return c.printJSON(statusOf(t.HubURL, t, store.Describe()))
		}
		fmt.Fprintf(c.stdout, "Logged in to %s as %s; tokens stored in %s.\n", t.HubURL, orUnknown(t.Subject), store.Describe())
		return nil
	case "logout":
		if hub == "" {
			return usagef("which hub? give --hub-url URL (or set HEPH_HUB_URL)")
		}
		if _, err := store.Load(ctx, hub); errors.Is(err, errNoToken) {
			fmt.Fprintf(c.stdout, "Not logged in to %s; nothing to delete (tokens: %s).\n", hub, store.Describe())
			return nil
		}
		revoked, err := authLogout(ctx, client, store, hub)
		c.tellDaemon(hub)
		if err != nil {
			return fmt.Errorf("logged out of %s locally, but: %w", hub, err)
		}
		if revoked {
			fmt.Fprintf(c.stdout, "Logged out of %s; the tokens were revoked at the provider and deleted.\n", hub)
		} else {
			fmt.Fprintf(c.stdout, "Logged out of %s; the stored tokens were deleted.\n", hub)
		}
		return nil
	case "status":
		return c.authStatus(ctx, store, hub)
	}
	return usagef("unknown auth action %q: want login, status or logout", args[0])
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown subject)"
	}
	return s
}

// tellDaemon asks a running daemon to reread the store after a login or
// logout; without a daemon there is nothing to tell.
func (c *cli) tellDaemon(hub string) {
	var st authStatus
	_ = c.call("auth.reload", authReloadParams{Hub: hub}, &st)
}

// authStatus shows each stored login. A running daemon syncing with a hub
// knows more (refresh state, last error): its view replaces the store's
// for that hub. Without a daemon the store's view is shown, including a
// rejected refresh the daemon recorded there. Exit status 1 when a shown
// hub needs a login.
func (c *cli) authStatus(ctx context.Context, store tokenStore, hub string) error {
	byHub := map[string]authStatus{}
	if hub != "" {
		t, err := store.Load(ctx, hub)
		if err != nil && !errors.Is(err, errNoToken) {
			return err
		}
		byHub[hub] = statusOf(hub, t, store.Describe())
	} else {
		all, err := store.List(ctx)
		if err != nil {
			return err
		}
		for _, t := range all {
			byHub[t.HubURL] = statusOf(t.HubURL, t, store.Describe())
		}
	}
	var ds authStatus
	if err := c.call("auth.status", nil, &ds); err == nil && ds.Hub != "" && (hub == "" || hub == ds.Hub) {
		byHub[ds.Hub] = ds
	}
	var list []authStatus
	for _, st := range byHub {
		list = append(list, st)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Hub < list[j].Hub })
	if c.json {
		if err := c.printJSON(list); err != nil {
			return err
		}
	} else if len(list) == 0 {
		fmt.Fprintf(c.stdout, "Not logged in to any hub (tokens: %s). Run: heph auth login --hub-url URL\n", store.Describe())
	}
	needs := false
	for i, st := range list {
		needs = needs || st.NeedsLogin
		if !c.json {
			if i > 0 {
				fmt.Fprintln(c.stdout)
			}
			printAuthStatus(c, st)
		}
	}
	if needs || len(list) == 0 {
		// What to run is printed above; the exit status tells a script.
		return quietError{code: exitError}
	}
	return nil
}

func printAuthStatus(c *cli, st authStatus) {
	w := c.stdout
	fmt.Fprintf(w, "hub:         %s\n", st.Hub)
	if st.Subject != "" || st.Issuer != "" {
		fmt.Fprintf(w, "subject:     %s\nissuer:      %s\n", orUnknown(st.Subject), st.Issuer)
	}
	if st.Expiry != nil {
		rel := time.Until(*st.Expiry).Round(time.Second)
		when := "in " + rel.String()
		if rel < 0 {
			when = (-rel).String() + " ago (refreshed on next use)"
		}
		fmt.Fprintf(w, "access:      expires %s (%s)\n", st.Expiry.Local().Format(time.RFC3339), when)
	}
	state := st.RefreshState
	if st.NeedsLogin {
		state = "needs login: run `heph auth login --hub-url " + st.Hub + "`"
	}
	fmt.Fprintf(w, "refresh:     %s\n", state)
	if st.LastRefresh != nil {
		fmt.Fprintf(w, "last token:  %s\n", st.LastRefresh.Local().Format(time.RFC3339))
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "last error:  %s\n", st.LastError)
	}
	src := st.Source
	if st.Store != "" {
		src += " (tokens: " + st.Store + ")"
	}
	fmt.Fprintf(w, "source:      %s\n", src)
}
