// web.go owns serving the web app (web/, embedded) from the hub: paths, versions, caching, gzip and security headers.

package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
)

// The hub serves the web app (a PWA) next to its API:
//
//	GET /, /callback          the shell (web/index.html), never cached without revalidation
//	GET /v/<version>/<file>   an app file; with the embedded copy <version> is a hash
//	                          of every file, so these are immutable and cached a year
//	GET /<file>               an app file by its plain name (sw.js, the manifest, icons)
//
// Everything else is 404: no directory listings, no dot files, nothing outside
// the app's directory. --web-root DIR serves DIR instead of the embedded copy,
// read on every request (for working on the app); its version is "dev" and
// nothing is cached without revalidation.

//go:embed web
var webEmbedded embed.FS

const (
	webMaxFile        = 8 << 20 // largest file served from --web-root
	webVersionToken   = "{{version}}"
	webImmutableCache = "public, max-age=31536000, immutable"
	webRevalidate     = "no-cache"
)

// webFile is one file ready to serve.
type webFile struct {
	body  []byte
	gz    []byte // gzipped body, nil when not worth it
	etag  string
	ctype string
}

// webServer serves the app from the embedded files or a --web-root.
type webServer struct {
	root    *os.Root // --web-root, or nil for the embedded copy
	rootErr error    // why --web-root could not be opened
	csp     string
	log     *log.Logger

	once    sync.Once
	version string              // embedded: hash of every file
	files   map[string]*webFile // embedded: by name, built on first use
}

// newWebServer serves webRoot (or, when empty, the embedded app) with a
// Content-Security-Policy that lets the app reach the OIDC issuer.
func newWebServer(webRoot, issuer string, logger *log.Logger) *webServer {
	w := &webServer{csp: webCSP(issuer), log: logger}
	if webRoot != "" {
		w.root, w.rootErr = os.OpenRoot(webRoot)
	}
	return w
}

// checkWebRoot is hephd's start-up check of --web-root: a directory with
// an index.html.
func checkWebRoot(dir string) error {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("--web-root %s: %w", dir, err)
	}
	defer r.Close()
	st, err := r.Stat("index.html")
	if err != nil || !st.Mode().IsRegular() {
		return fmt.Errorf("--web-root %s has no index.html: point it at a copy of heph's web/ directory", dir)
	}
	return nil
}

// webCSP is the app's Content-Security-Policy. Scripts, styles, images,
// the manifest and the service worker come from the hub only; fetches may
// also go to the OIDC issuer's origin (discovery, token and revocation
// endpoints) — a public client exchanges its code there directly.
func webCSP(issuer string) string {
	connect := "'self'"
	if u, err := url.Parse(issuer); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		connect += " " + u.Scheme + "://" + u.Host
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; " +
		"connect-src " + connect + "; manifest-src 'self'; worker-src 'self'; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// ServeHTTP answers GET and HEAD for the app's paths; anything else is 404.
func (ws *webServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws.securityHeaders(w.Header())
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, cache, ok := ws.route(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	f, err := ws.file(name)
	if errors.Is(err, fs.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		ws.log.Printf("web: %s: %v", r.URL.Path, err)
		http.Error(w, "the web app is unavailable (logged by the hub)", http.StatusInternalServerError)
		return
	}
	ws.write(w, r, f, cache)
}

func (ws *webServer) securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ws.csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// route maps a URL path to a file name and its Cache-Control.
func (ws *webServer) route(p string) (name, cache string, ok bool) {
	switch p {
	case "/", "/callback":
		return "index.html", webRevalidate, true
	case "/index.html":
		return "", "", false
	}
	if rest, found := strings.CutPrefix(p, "/v/"); found {
		ver, file, found := strings.Cut(rest, "/")
		if !found || ver != ws.currentVersion() {
			return "", "", false
		}
		if name, ok := webName(file); ok && name != "index.html" {
			if ws.root != nil {
				return name, webRevalidate, true
			}
			return name, webImmutableCache, true
		}
		return "", "", false
	}
	name, ok = webName(strings.TrimPrefix(p, "/"))
	return name, webRevalidate, ok
}

// webName accepts a plain file name of the app: no directories, no dot
// files, no escapes.
func webName(s string) (string, bool) {
	if s == "" || strings.ContainsAny(s, "/\\\x00") || strings.HasPrefix(s, ".") || !fs.ValidPath(s) {
		return "", false
	}
	return s, true
}

// currentVersion is the version in asset URLs.
func (ws *webServer) currentVersion() string {
	if ws.root != nil {
		return "dev"
	}
	ws.load()
	return ws.version
}

// file returns name ready to serve (index.html with its version filled in).
func (ws *webServer) file(name string) (*webFile, error) {
	if ws.root == nil {
		ws.load()
		if f := ws.files[name]; f != nil {
			return f, nil
		}
		return nil, fs.ErrNotExist
	}
	if ws.rootErr != nil {
		return nil, ws.rootErr
	}
	body, err := readRootFile(ws.root, name)
	if err != nil {
		return nil, err
	}
	return newWebFile(name, body, "dev"), nil
}

// readRootFile reads a regular file from root; os.Root refuses names and
// symlinks that lead outside it.
func readRootFile(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		// Missing, or a name or symlink leading out of the root: not found.
		return nil, fmt.Errorf("%w: %v", fs.ErrNotExist, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fs.ErrNotExist
	}
	if st.Size() > webMaxFile {
		return nil, fmt.Errorf("%s is over %d bytes", name, webMaxFile)
	}
	return io.ReadAll(io.LimitReader(f, webMaxFile))
}

// load reads the embedded app once: every file, its hash, and the version
// that names them all.
func (ws *webServer) load() {
	ws.once.Do(func() {
		sub, _ := fs.Sub(webEmbedded, "web")
		raw := map[string][]byte{}
		var names []string
		entries, _ := fs.ReadDir(sub, ".")
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				b, _ := fs.ReadFile(sub, e.Name())
				raw[e.Name()] = b
				names = append(names, e.Name())
			}
		}
		sort.Strings(names)
		sum := sha256.New()
		for _, n := range names {
			fmt.Fprintf(sum, "%s\x00%d\x00", n, len(raw[n]))
			sum.Write(raw[n])
		}
		ws.version = hex.EncodeToString(sum.Sum(nil))[:12]
		ws.files = map[string]*webFile{}
		for _, n := range names {
			ws.files[n] = newWebFile(n, raw[n], ws.version)
		}
	})
}

// newWebFile prepares body for serving: the shell gets its version filled
// in; text gets a gzipped copy.
func newWebFile(name string, body []byte, version string) *webFile {
	if name == "index.html" || name == "sw.js" {
		body = bytes.ReplaceAll(body, []byte(webVersionToken), []byte(version))
	}
	sum := sha256.Sum256(body)
	f := &webFile{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, ctype: webContentType(name)}
	if strings.HasPrefix(f.ctype, "text/") || strings.Contains(f.ctype, "javascript") || strings.Contains(f.ctype, "json") {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			f.gz = buf.Bytes()
		}
	}
	return f
}

func webContentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".webmanifest":
		return "application/manifest+json"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// write sends f, answering If-None-Match with 304 and gzipping for
// clients that accept it.
func (ws *webServer) write(w http.ResponseWriter, r *http.Request, f *webFile, cache string) {
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", f.etag)
	h.Set("Vary", "Accept-Encoding")
	if etagMatches(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/"))
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

// webClientID is the OIDC client id the web app logs in with.
func webClientID(o daemonOptions) string {
	if o.WebClientID != "" {
		return o.WebClientID
	}
	return o.OIDCClientID
}
