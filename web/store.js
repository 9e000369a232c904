// store.js: the app's IndexedDB — the offline cache of what was last seen, the ordered write queue, and the auth record.
//
// Object stores:
//   cache  key → {at: ms, value}: Next, views, projects, search results, opened tasks and docs
//   queue  {seq (auto, the order), key (Idempotency-Key), method, params, label, state, error?}
//   auth   'refresh' (the refresh token), 'config' (/config), 'disco' (the issuer's metadata),
//          'pending:<state>' (an authorization request in flight: verifier, nonce)
// Everything survives closing the tab; nothing here is ever sent anywhere but the hub and the issuer.

let opened;

function open() {
  opened ||= new Promise((resolve, reject) => {
    const req = indexedDB.open('heph', 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('cache');
      db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
      db.createObjectStore('auth');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

// run performs fn(objectStore) in one transaction and resolves with the
// value of the request fn returns, once the transaction has committed.
async function run(name, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(name, mode);
    const req = fn(tx.objectStore(name));
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function kv(name) {
  return {
    get: (k) => run(name, 'readonly', (s) => s.get(k)),
    put: (k, v) => run(name, 'readwrite', (s) => s.put(v, k)),
    del: (k) => run(name, 'readwrite', (s) => s.delete(k)),
    clear: () => run(name, 'readwrite', (s) => s.clear()),
  };
}

export const auth = kv('auth');
const cacheKV = kv('cache');

export const cache = {
  // get resolves {at, value} or undefined.
  get: (k) => cacheKV.get(k),
  put: (k, value) => cacheKV.put(k, { at: Date.now(), value }),
  // update applies fn to a cached value (for optimistic offline changes).
  async update(k, fn) {
    const hit = await cacheKV.get(k);
    if (hit) await cacheKV.put(k, { at: hit.at, value: fn(hit.value) });
  },
  clear: () => cacheKV.clear(),
};

export const queue = {
  add: (item) => run('queue', 'readwrite', (s) => s.add(item)),
  put: (item) => run('queue', 'readwrite', (s) => s.put(item)),
  del: (seq) => run('queue', 'readwrite', (s) => s.delete(seq)),
  all: () => run('queue', 'readonly', (s) => s.getAll()),
  clear: () => run('queue', 'readwrite', (s) => s.clear()),
};

// Opening the database is the first step of every start (the sign-in is in
// it), and a cold open takes tens of milliseconds: index.html runs this
// module on its own, ahead of the others, so the open starts at once.
open().catch(() => {});
