// api.js: talking to the hub — JSON-RPC over POST /rpc, reads that fall back to the offline cache, and the ordered write queue.
import { accessToken, refreshAfter401, LoginRequired, OfflineError } from './auth.js';
import { cache, queue } from './store.js';

export class RpcError extends Error {
  constructor(code, message, data) { super(message); this.code = code; this.data = data; }
}
export { OfflineError };

export const METHOD_NOT_FOUND = -32601;
export const CONFLICT = -32003;

// net: whether the hub answered last time, and who wants to know.
export const net = new EventTarget();
net.online = true;
net.asOf = null; // when the data on screen was fetched, when it came from the cache
function setOnline(on) {
  if (net.online === on) return;
  net.online = on;
  net.dispatchEvent(new Event('change'));
}

let nextId = 1;

// rpc calls one method on the hub. key, when given, is the request's
// Idempotency-Key: the hub applies a replay of it once.
export async function rpc(method, params = {}, key) {
  for (let attempt = 0; ; attempt++) {
    let token;
    try {
      token = await accessToken();
    } catch (e) {
      if (e instanceof OfflineError) setOnline(false);
      throw e;
    }
    let resp;
    try {
      const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` };
      if (key) headers['Idempotency-Key'] = key;
      resp = await fetch('/rpc', {
        method: 'POST', headers, cache: 'no-store', signal: AbortSignal.timeout(30000),
        body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
      });
    } catch {
      setOnline(false);
      throw new OfflineError('the hub cannot be reached');
    }
    if (resp.status === 401 && attempt === 0) {
      await refreshAfter401(token);
      continue;
    }
    if (resp.status === 401) throw new LoginRequired();
    if (resp.status >= 500 || resp.status === 429) {
      setOnline(false);
      throw new OfflineError(`the hub answered ${resp.status}`);
    }
    setOnline(true);
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new RpcError(resp.status, body.error || `the hub answered ${resp.status}`);
    if (body.error) throw new RpcError(body.error.code, body.error.message, body.error.data);
    return body.result;
  }
}

// caps remembers methods the hub does not have (older hub, feature not
// built yet): their UI is hidden rather than failing.
export const caps = { missing: new Set() };

// load reads through the cache: fresh from the hub when it answers (and
// kept for later), else the last copy seen, with net.asOf set to its time.
export async function load(cacheKey, method, params = {}) {
  try {
    const value = await rpc(method, params);
    cache.put(cacheKey, value).catch(() => {}); // kept for offline use; not waited for
    net.asOf = null;
    return value;
  } catch (e) {
    if (e instanceof RpcError && e.code === METHOD_NOT_FOUND) caps.missing.add(method);
    if (!(e instanceof OfflineError)) throw e;
    const hit = await cache.get(cacheKey);
    if (!hit) throw e;
    net.asOf = hit.at;
    return hit.value;
  }
}

// ---- the write queue ----
//
// Every change goes through the queue, online or not, so changes reach the
// hub in the order they were made. Each carries an Idempotency-Key made
// when it was queued: if a reply is lost, sending it again applies it once.
// A change the hub refuses stays in the queue, marked refused, until the
// person retries or discards it. A task created offline gets a local id
// ("local:KEY"); later changes to it are sent with the hub's id once the
// create has been applied.

export const queueEvents = new EventTarget();
const waiters = new Map();

// write queues a change and resolves {result} once the hub applied it, or
// {queued: true} when the hub cannot be reached now.
export async function write(method, params, label) {
  const key = crypto.randomUUID();
  const item = { key, ref: localId(key), method, params, label, state: 'pending', created: Date.now() };
  const seq = await queue.add(item);
  queueEvents.dispatchEvent(new Event('change'));
  const done = new Promise((resolve, reject) => waiters.set(seq, { resolve, reject, key: item.key }));
  flush();
  return done;
}

export function localId(key) { return `local:${key}`; }

let flushing = null;
export function flush() {
  flushing ||= withLock('heph-flush', sendQueued).finally(() => {
    flushing = null;
    queueEvents.dispatchEvent(new Event('change'));
  });
  return flushing;
}

function withLock(name, fn) {
  return navigator.locks ? navigator.locks.request(name, fn) : fn();
}

async function sendQueued() {
  const ids = (await cache.get('idmap'))?.value || {};
  for (const item of await queue.all()) {
    if (item.state === 'refused') continue;
    const params = resolveLocal(item.params, ids);
    if (params === null) continue; // waits on a refused create
    try {
      const result = await rpc(item.method, params, item.key);
      if (result && result.id && (item.method === 'task.quickadd' || item.method === 'task.create')) {
        ids[item.ref] = result.id;
        await cache.put('idmap', ids);
      }
      await queue.del(item.seq);
      settle(item.seq, 'resolve', { result });
    } catch (e) {
      if (e instanceof OfflineError) break;
      if (e instanceof LoginRequired) { settleAll({ queued: true }); throw e; }
      if (e instanceof RpcError && e.code === METHOD_NOT_FOUND && item.method === 'task.quickadd') {
        // A hub without quick add: save the text as the title instead.
        caps.missing.add('task.quickadd');
        Object.assign(item, { method: 'task.create', params: { title: item.params.text }, key: crypto.randomUUID() });
        await queue.put(item);
        return sendQueued();
      }
      item.state = 'refused';
      item.error = { code: e.code, message: e.message, data: e.data };
      await queue.put(item);
      settle(item.seq, 'reject', e);
    }
  }
  settleAll({ queued: true });
}

function resolveLocal(params, ids) {
  if (!params || typeof params.id !== 'string' || !params.id.startsWith('local:')) return params;
  return ids[params.id] ? { ...params, id: ids[params.id] } : null;
}

function settle(seq, how, v) {
  const w = waiters.get(seq);
  if (w) { waiters.delete(seq); w[how](v); }
}

function settleAll(v) {
  for (const [seq, w] of waiters) { waiters.delete(seq); w.resolve({ ...v, ref: localId(w.key) }); }
}

export async function retry(seq) {
  const item = (await queue.all()).find((i) => i.seq === seq);
  if (!item) return;
  item.state = 'pending';
  delete item.error;
  await queue.put(item);
  return flush();
}

export async function discard(seq) {
  await queue.del(seq);
  queueEvents.dispatchEvent(new Event('change'));
}
