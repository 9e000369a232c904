// sw.js: heph's service worker. It keeps the app shell (this version's
// files) in the Cache Storage so the app opens offline; data lives in
// IndexedDB (store.js), never here. API calls (/rpc, /events, /config) and
// the OIDC issuer are not touched.
const VERSION = '{{version}}';
const CACHE = `heph-shell-${VERSION}`;
const FILES = ['app.css', 'boot.js', 'app.js', 'api.js', 'auth.js', 'store.js', 'markdown.js', 'views.js', 'task.js', 'ui.js']
  .map((f) => `/v/${VERSION}/${f}`)
  .concat(['/', '/manifest.webmanifest', '/icon-192.png', '/icon-512.png', '/icon-maskable-512.png']);

self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('heph-shell-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (e.request.mode === 'navigate') {
    // The shell for /, /callback and any deep link: network first (a new
    // version shows at once), the cached shell when offline.
    e.respondWith(fetch(e.request).catch(() => caches.match('/', { ignoreSearch: true })));
    return;
  }
  if (FILES.includes(url.pathname)) {
    e.respondWith(caches.match(url.pathname).then((hit) => hit || fetch(e.request)));
  }
});
