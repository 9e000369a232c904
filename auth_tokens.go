// The spoke's hub tokens: where they are kept (file or commands), refreshing them, and the daemon's auth.* handlers.

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The spoke's hub tokens: where they are kept, and the daemon-side token
// source that refreshes them.

// errNeedsLogin means the provider rejected the refresh token (expired,
// revoked, or reused): only a new `heph auth login` helps.
var errNeedsLogin = errors.New("the hub session has expired or was revoked: run `heph auth login`")

// errNoToken means the store holds no token for the hub.
var errNoToken = errors.New("not logged in to the hub: run `heph auth login`")

// storedToken is one hub's login, as kept in the token store.
type storedToken struct {
	HubURL             string    `json:"hub_url"`
	Issuer             string    `json:"issuer"`
	ClientID           string    `json:"client_id"`
	Audience           string    `json:"audience"`
	TokenEndpoint      string    `json:"token_endpoint"`
	RevocationEndpoint string    `json:"revocation_endpoint,omitempty"`
	AccessToken        string    `json:"access_token"`
	RefreshToken       string    `json:"refresh_token,omitempty"`
	Expiry             time.Time `json:"expiry"`
	Subject            string    `json:"subject,omitempty"`
	Obtained           time.Time `json:"obtained"`
	// NeedsLogin is set when the provider rejected the refresh token.
	NeedsLogin bool   `json:"needs_login,omitempty"`
	LastError  string `json:"last_error,omitempty"`
}

// tokenFile is the JSON document a token store keeps: every hub's login,
// keyed by normalized hub URL.
type tokenFile struct {
	Version int                     `json:"version"`
	Hubs    map[string]*storedToken `json:"hubs"`
}

// normalizeHubURL is the key a hub's tokens are stored under.
func normalizeHubURL(u string) string { return strings.TrimRight(strings.TrimSpace(u), "/") }

// tokenStore keeps hub logins.
type tokenStore interface {
	// Load returns the hub's token, or errNoToken.
	Load(ctx context.Context, hubURL string) (*storedToken, error)
	// Save stores t under t.HubURL, durably, before returning.
	Save(ctx context.Context, t *storedToken) error
	// Delete removes the hub's token (no error when there is none).
	Delete(ctx context.Context, hubURL string) error
	// List returns every stored login.
	List(ctx context.Context) ([]*storedToken, error)
	// Describe names the store for messages.
	Describe() string
}

// tokenStoreOptions choose a store: a file (default
// $XDG_CONFIG_HOME/heph/hub-token.json) or a pair of shell commands.
type tokenStoreOptions struct {
	File    string
	LoadCmd string
	SaveCmd string
}

// openTokenStore returns the store the options name.
func openTokenStore(o tokenStoreOptions, getenv getenvFunc) (tokenStore, error) {
	if (o.LoadCmd == "") != (o.SaveCmd == "") {
		return nil, errors.New("--token-load-cmd and --token-save-cmd go together")
	}
	if o.LoadCmd != "" {
		if o.File != "" {
			return nil, errors.New("--token-file and --token-load-cmd/--token-save-cmd exclude each other")
		}
		return &cmdTokenStore{loadCmd: o.LoadCmd, saveCmd: o.SaveCmd}, nil
	}
	if o.File != "" {
		return &fileTokenStore{path: o.File}, nil
	}
	path, err := defaultTokenFile(getenv)
	if err != nil {
		return nil, err
	}
	return &fileTokenStore{path: path}, nil
}

// defaultTokenFile is $XDG_CONFIG_HOME/heph/hub-token.json, else
// ~/.config/heph/hub-token.json.
func defaultTokenFile(getenv getenvFunc) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "heph", "hub-token.json"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("cannot place the token file: neither XDG_CONFIG_HOME nor HOME is set (use --token-file)")
	}
	return filepath.Join(home, ".config", "heph", "hub-token.json"), nil
}

// updateTokenFile is the read-modify-write shared by both stores.
func updateTokenFile(f *tokenFile, hubURL string, t *storedToken) {
	if f.Hubs == nil {
		f.Hubs = map[string]*storedToken{}
	}
	f.Version = 1
	if t == nil {
		delete(f.Hubs, hubURL)
	} else {
		f.Hubs[hubURL] = t
	}
}

func parseTokenFile(b []byte, where string) (*tokenFile, error) {
	f := &tokenFile{}
	if len(bytes.TrimSpace(b)) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(b, f); err != nil {
		return nil, fmt.Errorf("token store %s: %v", where, err)
	}
	return f, nil
}

func lookupToken(f *tokenFile, hubURL string) (*storedToken, error) {
	t := f.Hubs[normalizeHubURL(hubURL)]
	if t == nil {
		return nil, errNoToken
	}
	return t, nil
}

func listTokens(f *tokenFile) []*storedToken {
	var out []*storedToken
	for _, t := range f.Hubs {
		out = append(out, t)
	}
	return out
}

// fileTokenStore keeps the tokens in one 0600 JSON file, replaced
// atomically (temp file, fsync, rename) under an flock so the CLI and the
// daemon never lose each other's writes.
type fileTokenStore struct{ path string }

func (s *fileTokenStore) Describe() string { return s.path }

// locked runs fn holding an exclusive lock on <path>.lock.
func (s *fileTokenStore) locked(fn func() error) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("token store: %w", err)
	}
	lf, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("token store lock: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", lf.Name(), err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	return fn()
}

func (s *fileTokenStore) read() (*tokenFile, error) {
	fi, err := os.Lstat(s.path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// Writing replaces the file (rename), which would replace the
		// link and leave the tokens in its target: refuse links instead.
		return nil, fmt.Errorf("token file %s is a symbolic link: heph neither reads nor replaces tokens through a link; point --token-file at the file itself", s.path)
	}
	if err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("token file %s is not a regular file", s.path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return &tokenFile{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("token file %s is accessible to other users (mode %04o): chmod 600 it", s.path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	return parseTokenFile(b, s.path)
}

func (s *fileTokenStore) write(f *tokenFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return writeFileDurable(s.path, append(b, '\n'), 0o600)
}

// writeFileDurable replaces path with data: a temp file in the same
// directory, fsync, rename, then fsync of the directory.
func writeFileDurable(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func (s *fileTokenStore) Load(_ context.Context, hubURL string) (*storedToken, error) {
	var t *storedToken
	err := s.locked(func() error {
		f, err := s.read()
		if err != nil {
			return err
		}
		t, err = lookupToken(f, hubURL)
		return err
	})
	return t, err
}

func (s *fileTokenStore) List(context.Context) ([]*storedToken, error) {
	var out []*storedToken
	err := s.locked(func() error {
		f, err := s.read()
		if err != nil {
			return err
		}
		out = listTokens(f)
		return nil
	})
	return out, err
}

func (s *fileTokenStore) Save(_ context.Context, t *storedToken) error {
	return s.locked(func() error {
		f, err := s.read()
		if err != nil {
			return err
		}
		updateTokenFile(f, normalizeHubURL(t.HubURL), t)
		return s.write(f)
	})
}

func (s *fileTokenStore) Delete(_ context.Context, hubURL string) error {
	return s.locked(func() error {
		f, err := s.read()
		if err != nil {
			return err
		}
		if _, ok := f.Hubs[normalizeHubURL(hubURL)]; !ok {
			return nil
		}
		updateTokenFile(f, normalizeHubURL(hubURL), nil)
		return s.write(f)
	})
}

// cmdTokenStore hands the token JSON (the same document as the file) to
// shell commands, e.g. a password manager: the load command prints it on
// stdout (nothing when empty), the save command reads it on stdin.
type cmdTokenStore struct {
	loadCmd, saveCmd string
	mu               sync.Mutex
}

func (s *cmdTokenStore) Describe() string { return "command " + s.saveCmd }

func (s *cmdTokenStore) read(ctx context.Context) (*tokenFile, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", s.loadCmd)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("token load command %q: %v: %s", s.loadCmd, err, strings.TrimSpace(errb.String()))
	}
	return parseTokenFile(out.Bytes(), "from "+s.loadCmd)
}

func (s *cmdTokenStore) write(ctx context.Context, f *tokenFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	var errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", s.saveCmd)
	cmd.Stdin, cmd.Stderr = bytes.NewReader(append(b, '\n')), &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("token save command %q: %v: %s", s.saveCmd, err, strings.TrimSpace(errb.String()))
	}
	return nil
}

func (s *cmdTokenStore) Load(ctx context.Context, hubURL string) (*storedToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	return lookupToken(f, hubURL)
}

func (s *cmdTokenStore) List(ctx context.Context) ([]*storedToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read(ctx)
	if err != nil {
		return nil, err
	}
	return listTokens(f), nil
}

func (s *cmdTokenStore) Save(ctx context.Context, t *storedToken) error {
	return s.update(ctx, normalizeHubURL(t.HubURL), t)
}

func (s *cmdTokenStore) Delete(ctx context.Context, hubURL string) error {
	return s.update(ctx, normalizeHubURL(hubURL), nil)
}

func (s *cmdTokenStore) update(ctx context.Context, hub string, t *storedToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.read(ctx)
	if err != nil {
		return err
	}
	updateTokenFile(f, hub, t)
	return s.write(ctx, f)
}

// unverifiedClaims reads a JWT's payload without verifying it, for
// display and warnings only (the hub verifies; the spoke just shows who it
// is). ok is false when the token is not a JWT.
func unverifiedClaims(token string) (sub string, aud []string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", nil, false
	}
	var c struct {
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
	}
	if json.Unmarshal(b, &c) != nil {
		return "", nil, false
	}
	aud, _ = parseAudience(c.Aud)
	return c.Sub, aud, true
}

// unverifiedSubject is the sub of a JWT, read without verification.
func unverifiedSubject(token string) string {
	sub, _, _ := unverifiedClaims(token)
	return sub
}

// authStatus is what `heph auth status` and the daemon's auth.status show.
type authStatus struct {
	Hub          string     `json:"hub"`
	Issuer       string     `json:"issuer,omitempty"`
	Subject      string     `json:"subject,omitempty"`
	Expiry       *time.Time `json:"expiry,omitempty"`
	LoggedIn     bool       `json:"logged_in"`
	NeedsLogin   bool       `json:"needs_login"`
	RefreshState string     `json:"refresh_state"` // none, ok, refreshing, failed, needs_login
	LastRefresh  *time.Time `json:"last_refresh,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	Store        string     `json:"store,omitempty"`
	Source       string     `json:"source"` // daemon or store
}

// statusOf describes a stored token.
func statusOf(hub string, t *storedToken, store string) authStatus {
	st := authStatus{Hub: hub, Store: store, Source: "store", RefreshState: "none"}
	if t == nil {
		st.NeedsLogin = true
		return st
	}
	exp := t.Expiry
	st.Issuer, st.Subject, st.Expiry = t.Issuer, t.Subject, &exp
	st.NeedsLogin, st.LastError = t.NeedsLogin, t.LastError
	st.LoggedIn = !t.NeedsLogin && (t.RefreshToken != "" || time.Now().Before(t.Expiry))
	switch {
	case t.NeedsLogin:
		st.RefreshState = "needs_login"
	case t.LastError != "":
		st.RefreshState = "failed"
	default:
		st.RefreshState = "ok"
	}
	if !t.Obtained.IsZero() {
		ob := t.Obtained
		st.LastRefresh = &ob
	}
	return st
}

// refreshMargin: an access token this close to expiry is refreshed first.
const refreshMargin = 60 * time.Second

// tokenSource hands the daemon a valid access token for its hub. Only the
// daemon refreshes; refreshes are single-flight, and a rotated refresh
// token is persisted before the new access token is handed out, so a
// crash can never leave the store holding a consumed refresh token.
type tokenSource struct {
	store  tokenStore
	hubURL string
	client *http.Client
	now    func() time.Time

	mu          sync.Mutex
	tok         *storedToken
	inflight    *refreshCall
	lastErr     error
	lastRefresh time.Time
	// unsaved: the in-memory tokens are newer than the store (a save
	// failed); they are not handed out until a save succeeds.
	unsaved bool
}

// refreshCall is one refresh that concurrent callers wait on.
type refreshCall struct {
	done chan struct{}
	err  error
}

func newTokenSource(store tokenStore, hubURL string, httpClient *http.Client) *tokenSource {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &tokenSource{store: store, hubURL: normalizeHubURL(hubURL), client: httpClient, now: time.Now}
}

// Token returns a valid access token, refreshing it first when it is
// within a minute of expiry. It returns errNeedsLogin once the provider
// has rejected the refresh token (until a new login is stored) and
// errNoToken when there has never been a login.
func (s *tokenSource) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		if s.inflight != nil {
			call := s.inflight
			s.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return "", ctx.Err()
			}
			if call.err != nil {
				return "", call.err
			}
			continue
		}
		if s.tok == nil || s.tok.NeedsLogin {
			// First use, or waiting for a new login: read the store.
			if err := s.reloadLocked(ctx); err != nil {
				s.mu.Unlock()
				return "", err
			}
			if s.tok.NeedsLogin {
				s.mu.Unlock()
				return "", errNeedsLogin
			}
		}
		if s.unsaved {
			if err := s.store.Save(ctx, s.tok); err != nil {
				s.lastErr = fmt.Errorf("store the refreshed hub token in %s: %w", s.store.Describe(), err)
				err = s.lastErr
				s.mu.Unlock()
				return "", err
			}
			s.unsaved, s.lastErr = false, nil
		}
		if s.now().Add(refreshMargin).Before(s.tok.Expiry) {
			at := s.tok.AccessToken
			s.mu.Unlock()
			return at, nil
		}
		call := &refreshCall{done: make(chan struct{})}
		s.inflight = call
		s.mu.Unlock()

		// The refresh outlives a caller that gives up: its result (a
		// rotated refresh token) must be stored whatever happens.
		call.err = s.refresh(context.WithoutCancel(ctx))

		s.mu.Lock()
		s.inflight = nil
		s.mu.Unlock()
		close(call.done)
		if call.err != nil {
			return "", call.err
		}
	}
}

// reloadLocked reads the hub's token from the store (s.mu held).
func (s *tokenSource) reloadLocked(ctx context.Context) error {
	t, err := s.store.Load(ctx, s.hubURL)
	if err != nil {
		s.lastErr = err
		return err
	}
	s.tok = t
	return nil
}

// Reload drops the cached token so the next Token reads the store (after
// `heph auth login` or `logout` changed it).
func (s *tokenSource) Reload() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight == nil && !s.unsaved {
		s.tok, s.lastErr = nil, nil
	}
}

// refresh exchanges the refresh token, stores the result, then publishes
// it in memory. A rejection by the provider marks the login as needing a
// new one, in memory and in the store.
func (s *tokenSource) refresh(ctx context.Context) error {
	s.mu.Lock()
	old := *s.tok
	s.mu.Unlock()
	// Another process (a new `heph auth login`) may have stored a fresher
	// token since this one was loaded.
	if t, err := s.store.Load(ctx, s.hubURL); err == nil && t.Expiry.After(old.Expiry) {
		old = *t
	}
	if old.NeedsLogin {
		return errNeedsLogin
	}
	if s.now().Add(refreshMargin).Before(old.Expiry) {
		s.mu.Lock()
		s.tok = &old
		s.mu.Unlock()
		return nil
	}
	if old.RefreshToken == "" {
		return s.fail(ctx, old, errNeedsLogin, true)
	}
	tr, err := postTokenRequest(ctx, s.client, old.TokenEndpoint, refreshForm(old))
	if err != nil {
		var oe *oauthError
		if errors.As(err, &oe) && oe.rejectsGrant() {
			return s.fail(ctx, old, fmt.Errorf("%w (provider said: %v)", errNeedsLogin, oe), true)
		}
		return s.fail(ctx, old, fmt.Errorf("refresh the hub token: %w", err), false)
	}
	next := refreshedToken(old, tr, s.now)
	// Persist first: the old refresh token is spent now.
	if err := s.store.Save(ctx, &next); err != nil {
		s.mu.Lock()
		// The old refresh token is spent: keep the new ones in memory and
		// retry the save before handing any of them out.
		s.tok, s.unsaved = &next, true
		s.lastErr = fmt.Errorf("store the refreshed hub token in %s: %w", s.store.Describe(), err)
		err = s.lastErr
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.tok, s.lastErr, s.lastRefresh = &next, nil, s.now()
	s.mu.Unlock()
	return nil
}

// refreshForm is the token request that exchanges old's refresh token.
func refreshForm(old storedToken) url.Values {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {old.RefreshToken},
		"client_id":     {old.ClientID},
	}
	if old.Audience != "" {
		form.Set("resource", old.Audience)
	}
	return form
}

// refreshedToken is old after the provider's reply tr: the new access
// token (and refresh token, when it rotates it), its expiry from now, and
// a login no longer failing.
func refreshedToken(old storedToken, tr *tokenResponse, now func() time.Time) storedToken {
	next := old
	next.AccessToken = tr.AccessToken
	if tr.RefreshToken != "" {
		next.RefreshToken = tr.RefreshToken
	}
	next.Expiry = now().Add(time.Duration(tr.ExpiresIn) * time.Second)
	next.Obtained = now()
	next.NeedsLogin, next.LastError = false, ""
	if sub := unverifiedSubject(tr.AccessToken); sub != "" {
		next.Subject = sub
	}
	return next
}

// fail records a failed refresh; a rejected grant is stored as needing
// login so status shows it and nothing retries it.
func (s *tokenSource) fail(ctx context.Context, old storedToken, err error, needsLogin bool) error {
	s.mu.Lock()
	s.lastErr = err
	if needsLogin {
		t := old
		t.NeedsLogin, t.LastError = true, err.Error()
		s.tok = &t
		s.mu.Unlock()
		if serr := s.store.Save(ctx, &t); serr != nil {
			return fmt.Errorf("%w (and storing that failed: %v)", err, serr)
		}
		return err
	}
	s.mu.Unlock()
	return err
}

// Status describes the source's login and refresh state.
func (s *tokenSource) Status() authStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := statusOf(s.hubURL, s.tok, s.store.Describe())
	if s.tok == nil && s.lastErr == nil {
		if t, err := s.store.Load(context.Background(), s.hubURL); err == nil {
			st = statusOf(s.hubURL, t, s.store.Describe())
		}
	}
	st.Source = "daemon"
	if s.lastErr != nil {
		st.LastError = s.lastErr.Error()
		if st.RefreshState == "ok" {
			st.RefreshState = "failed"
		}
	}
	if s.inflight != nil {
		st.RefreshState = "refreshing"
	}
	if !s.lastRefresh.IsZero() {
		lr := s.lastRefresh
		st.LastRefresh = &lr
	}
	return st
}

// run keeps the session alive while the daemon runs: it refreshes the
// access token shortly before it expires even when nothing syncs. It
// stops when ctx ends.
func (s *tokenSource) run(ctx context.Context) {
	for {
		wait := 5 * time.Minute
		s.mu.Lock()
		if s.tok != nil && !s.tok.NeedsLogin {
			if d := s.tok.Expiry.Sub(s.now()) - 2*refreshMargin; d < wait {
				wait = max(d, 10*time.Second)
			}
		}
		s.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		_, _ = s.Token(ctx)
	}
}

// errNoHub answers auth.* on a daemon without a hub.
var errNoHub = &rpcError{Code: codeUnavailable, Message: "this hephd syncs with no hub (start it with --hub-url)"}

// rpcAuthStatus is auth.status: the live state of this daemon's hub token.
func (d *daemon) rpcAuthStatus(ctx context.Context, params json.RawMessage) (any, error) {
	var p noParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if d.tokens == nil {
		return nil, errNoHub
	}
	return d.tokens.Status(), nil
}

// authReloadParams are auth.reload's params.
type authReloadParams struct {
	Hub string `json:"hub"`
}

// rpcAuthReload is auth.reload: re-read the token store (after heph auth
// login or logout) when hub is this daemon's hub or empty.
func (d *daemon) rpcAuthReload(ctx context.Context, params json.RawMessage) (any, error) {
	var p authReloadParams
	if err := decodeParams(params, &p); err != nil {
		return nil, err
	}
	if d.tokens == nil {
		return nil, errNoHub
	}
	if p.Hub == "" || normalizeHubURL(p.Hub) == d.tokens.hubURL {
		d.tokens.Reload()
	}
	return d.tokens.Status(), nil
}
