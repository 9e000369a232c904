// app.js: heph's web app — start-up, sign-in screen, routing, Quick add, search, the offline banner, refused writes and live updates.
import { h, fill, hhmm, status, friendly, attentionMark, recurText, zone } from './ui.js';
import { rpc, net, flush, queueEvents, retry, discard, caps, RpcError, METHOD_NOT_FOUND, OfflineError } from './api.js';
import { signedIn, login, logout, handleCallback, LoginRequired } from './auth.js';
import { queue } from './store.js';
import { renderNext, renderViews, renderSearch, renderJournal, renderProjects, renderProject, quickAdd, nodeHref } from './views.js';

// task.js (and markdown.js, which it and the journal and search use) are
// not needed for the first page: imported on first use, and fetched in
// the background once the first page is on screen.
const taskModule = () => import('./task.js');

let mainEl = null; // #main, once the document is parsed
const ctx = { editing: false, refresh: () => route() };

// start runs as soon as the modules are loaded (the script is async), which
// can be before the page is parsed (boot.js has already asked for the
// first page's data): the page is touched only once parsed.
async function start() {
  performance.mark('heph:start');
  await parsed();
  mainEl = document.getElementById('main');
  if (location.pathname === '/callback') {
    try {
      location.hash = (await handleCallback()) || '#/next';
    } catch (e) {
      return showLogin(e.message);
    }
  }
  if (!(await signedIn())) {
    if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
    return showLogin();
  }
  document.body.classList.add('signed-in');
  wireHeader();
  window.addEventListener('hashchange', () => { ctx.editing = false; route(); });
  net.addEventListener('change', banner);
  queueEvents.addEventListener('change', showQueue);
  window.addEventListener('online', () => flush());
  await route();
  // Everything else once the first page is on screen: the service worker
  // (and its copy of the shell), the modules of the other pages (kept in
  // memory, so they open even if the network goes before the service
  // worker has its copy), the write queue, live updates.
  if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch(() => {});
  taskModule().catch(() => {});
  showQueue();
  flush().then(afterFlush).catch(() => {});
  hideMissing();
  live();
}

function parsed() {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve, { once: true }));
}

function showLogin(err) {
  document.body.classList.remove('signed-in');
  fill(mainEl, h('div', { class: 'login' }, h('h1', null, 'heph'),
    err && h('p', { class: 'msg msg-error', role: 'alert' }, err),
    h('p', null, 'Sign in to see your tasks, docs and journal.'),
    h('button', { type: 'button', class: 'primary', onclick: () => login('#/next').catch((e) => showLogin(e.message)) }, 'Sign in')));
}

// ---- routing ----

let routing = 0;
// route draws the page the hash names. soft: a refresh nobody asked for (a
// live event, the app coming back): it never replaces a page whose field
// the person is typing in.
async function route({ soft = false } = {}) {
  if (ctx.editing) return;
  const n = ++routing;
  const [path, query] = (location.hash.replace(/^#/, '') || '/next').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query || '');
  markNav(parts[0] || 'next');
  // Each route renders into its own element, shown only if no newer route
  // started meanwhile (a slow answer never replaces a newer page).
  const main = document.createElement('div');
  const show = () => {
    if (n !== routing || (soft && typing())) return;
    mainEl.replaceChildren(main);
    main.querySelector('textarea')?.focus();
  };
  try {
    switch (parts[0] || 'next') {
      case 'next': await renderNext(main, ctx.refresh); break;
      case 'views': await renderViews(main, '', ctx.refresh); break;
      case 'view': await renderViews(main, parts[1], ctx.refresh); break;
      case 'journal': await renderJournal(main, ctx.refresh); break;
      case 'projects': await renderProjects(main); break;
      case 'project': await renderProject(main, parts.slice(1).join('/'), ctx.refresh); break;
      case 'search': await renderSearch(main, params.get('q') || ''); break;
      case 'task': await (await taskModule()).renderTask(main, parts[1], ctx.refresh); break;
      case 'doc': await (await taskModule()).renderDoc(main, parts[1], parts[2], ctx); break;
      case 'wiki': await followWiki(main, parts.slice(1).join('/')); break;
      default: fill(main, h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/next' }, 'Back to Next')));
    }
    show();
  } catch (e) {
    if (n !== routing) return;
    if (e instanceof LoginRequired) return showLogin(e.message);
    const msg = e instanceof OfflineError ? 'Offline, and this page was not opened before on this device.' : e.message;
    fill(main, h('h1', null, 'Cannot show this'), h('p', { class: 'msg msg-error', role: 'alert' }, msg));
    show();
  }
  banner();
}

// followWiki opens a [[target]]: a handle or id, else a title.
async function followWiki(main, target) {
  try {
    const n = await rpc('node.get', { id: target });
    location.replace(nodeHref(n));
    return;
  } catch (e) {
    if (!(e instanceof RpcError)) throw e;
  }
  const hits = await rpc('node.search', { query: `title:"${target.replace(/"/g, '')}"`, limit: 5 }).catch(() => []);
  const hit = hits.find((r) => r.node.title.toLowerCase() === target.toLowerCase()) || hits[0];
  if (hit) location.replace(nodeHref(hit.node));
  else fill(main, h('h1', null, target), h('p', { class: 'empty' }, 'No note with this title yet.'));
}

function markNav(name) {
  const alias = { view: 'views', project: 'projects', task: '', doc: '', wiki: '' };
  const cur = name in alias ? alias[name] : name;
  for (const a of document.querySelectorAll('#nav a')) a.setAttribute('aria-current', a.dataset.route === cur ? 'page' : 'false');
}

// hideMissing hides what this hub cannot do (a method it does not know).
async function hideMissing() {
  const probes = [['journal.get', { tz: zone() }, 'journal'], ['project.list', {}, 'projects']];
  for (const [method, params, route] of probes) {
    try { await rpc(method, params); } catch (e) {
      if (e instanceof RpcError && e.code === METHOD_NOT_FOUND) {
        caps.missing.add(method);
        const a = document.querySelector(`#nav a[data-route="${route}"]`);
        if (a) a.parentElement.hidden = true;
      }
    }
  }
}

// ---- header: quick add, search, sign out ----

function wireHeader() {
  const qa = document.getElementById('quickadd');
  const input = document.getElementById('qa');
  const preview = document.getElementById('qa-preview');
  let timer = 0;
  let seq = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => parsePreview(input.value, preview, ++seq, () => seq), 200);
  });
  qa.addEventListener('submit', async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    preview.replaceChildren();
    try {
      const r = await quickAdd(text);
      status(r.queued ? `Added on this device: ${text} (will sync when online)` : `Added: ${r.result?.title || text}`);
    } catch (err) {
      status(`Not added: ${err.message}`, 'error');
    }
    route();
  });
  const search = document.getElementById('search');
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    location.hash = `#/search?q=${encodeURIComponent(document.getElementById('q').value)}`;
  });
  document.addEventListener('keydown', (e) => {
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName) || document.activeElement?.isContentEditable;
    if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
      e.preventDefault();
      document.getElementById('q').focus();
    }
  });
  document.getElementById('signout').addEventListener('click', async () => {
    const waiting = (await queue.all()).length;
    if (waiting && !confirm(`${waiting} change(s) have not reached the hub yet and will be lost. Sign out anyway?`)) return;
    await logout().catch(() => {});
    await queue.clear();
    location.assign('/');
  });
}

// parsePreview shows what the hub's quick-add grammar understood.
async function parsePreview(text, el, mine, latest) {
  if (!text.trim() || caps.missing.has('task.parse')) { el.replaceChildren(); return; }
  let p;
  try {
    p = await rpc('task.parse', { text, tz: zone() });
  } catch (e) {
    if (e instanceof RpcError && e.code === METHOD_NOT_FOUND) caps.missing.add('task.parse');
    if (mine === latest()) fill(el, e instanceof OfflineError ? h('span', null, 'Offline: it will be read when it reaches the hub.') : null);
    return;
  }
  if (mine !== latest()) return;
  const parts = [h('span', { class: 'chip' }, h('b', null, 'title '), p.title)];
  if (p.attention) parts.push(h('span', { class: 'chip' }, attentionMark(p.attention)));
  if (p.do) parts.push(h('span', { class: 'chip' }, h('b', null, 'do '), friendly(p.do)));
  if (p.late) parts.push(h('span', { class: 'chip' }, h('b', null, 'late '), friendly(p.late)));
  if (p.recur) parts.push(h('span', { class: 'chip' }, h('b', null, 'repeats '), recurText(p.recur), p.recur_after_done ? ' after done' : ''));
  if (p.project) parts.push(h('span', { class: 'chip' }, h('b', null, 'project '), p.project.path || p.project));
  for (const t of p.tags || []) parts.push(h('span', { class: 'chip' }, `+${t}`));
  fill(el, h('span', { class: 'sr' }, 'Will add: '), parts);
}

// ---- offline banner and the queue ----

function banner() {
  const el = document.getElementById('banner');
  if (net.online && !net.asOf) { el.hidden = true; el.replaceChildren(); return; }
  el.hidden = false;
  const at = net.asOf ? hhmm(net.asOf) : hhmm(Date.now());
  fill(el, `offline — as of ${at}`);
  if (!net.online) scheduleRetry();
}

let retryTimer = 0;
let retryDelay = 2000;
function scheduleRetry() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(async () => {
    try {
      await rpc('node.get', { id: '0000' }).catch((e) => { if (e instanceof OfflineError) throw e; });
      retryDelay = 2000;
      await flush();
      afterFlush();
      route({ soft: true });
      hideMissing();
      live();
    } catch {
      retryDelay = Math.min(retryDelay * 2, 30000);
      scheduleRetry();
    }
  }, retryDelay);
}

function afterFlush() {
  if (net.online) net.asOf = null;
  banner();
}

async function showQueue() {
  const items = await queue.all();
  const waiting = items.filter((i) => i.state !== 'refused');
  const refused = items.filter((i) => i.state === 'refused');
  const q = document.getElementById('queue');
  fill(q, waiting.length ? h('p', { class: 'waiting' }, `${waiting.length} change${waiting.length > 1 ? 's' : ''} waiting to sync`) : null,
    refused.map((i) => h('div', { class: 'refused', role: 'alert' },
      h('p', null, h('b', null, 'Not saved: '), i.label || i.method, ' — ', i.error?.message || 'refused by the hub'),
      h('p', { class: 'hint' }, hint(i)),
      i.error?.code === -32003 && h('a', { href: `#/doc/${encodeURIComponent(i.params.id)}`, class: 'button' }, 'Resolve'),
      h('button', { type: 'button', onclick: () => retry(i.seq) }, 'Retry'),
      h('button', { type: 'button', onclick: () => discard(i.seq) }, 'Discard'))));
}

function hint(i) {
  switch (i.error?.code) {
    case -32003: return 'The doc was changed elsewhere: open it to choose which version to keep.';
    case -32001: return 'It no longer exists on the hub (removed elsewhere?). Discard this change, or retry once it is back.';
    case -32602: return 'The hub did not accept the values: discard, then make the change again.';
    default: return 'Retry, or discard it.';
  }
}

// ---- live updates: /events with a single-use ticket ----
//
// EventSource cannot send an Authorization header, so each connection
// starts with a fresh ticket (events.ticket, good once). When the stream
// breaks, EventSource would retry the same — now spent — ticket: instead
// the app closes it and reconnects with a new ticket and ?after=<the last
// seq seen>, so the hub replays what was missed (or says resync). A stream
// that broke before any event came knows no seq to resume from: when its
// successor opens, the page is read again instead, so nothing changed
// during the break is missed.

let source = null;
let liveTimer = 0;
let lastSeq = null;
let connecting = false;
let broken = false; // a stream broke and its successor has not opened yet
async function live() {
  if (source || connecting || caps.missing.has('events.ticket')) return;
  let ticket;
  connecting = true;
  try {
    ({ ticket } = await rpc('events.ticket', {}));
  } catch (e) {
    if (e instanceof RpcError && e.code === METHOD_NOT_FOUND) {
      caps.missing.add('events.ticket');
      setInterval(() => { if (!document.hidden && net.online) softRefresh(); }, 30000);
    } else if (!(e instanceof LoginRequired) && !(e instanceof OfflineError)) {
      // (Offline, scheduleRetry calls live again once the hub answers.)
      clearTimeout(liveTimer);
      liveTimer = setTimeout(live, 5000);
    }
    return;
  } finally {
    connecting = false;
  }
  const after = lastSeq === null ? '' : `&after=${lastSeq}`;
  source = new EventSource(`/events?ticket=${encodeURIComponent(ticket)}${after}`);
  source.addEventListener('open', () => {
    if (broken && lastSeq === null) softRefresh();
    broken = false;
  });
  source.addEventListener('event', (ev) => {
    if (/^\d+$/.test(ev.lastEventId)) lastSeq = Number(ev.lastEventId);
    softRefresh(); // a change, a resync or a time tick: the page is read again
  });
  source.onerror = () => {
    broken = true;
    source.close();
    source = null;
    clearTimeout(liveTimer);
    liveTimer = setTimeout(live, net.online ? 1000 : 5000);
  };
}

let softTimer = 0;
function softRefresh() {
  clearTimeout(softTimer);
  softTimer = setTimeout(() => { if (!ctx.editing && !typing()) route({ soft: true }); }, 150);
}

// typing: the person is in a field of the page (not the header's).
function typing() {
  const a = document.activeElement;
  return !!a && mainEl.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName);
}

document.addEventListener('visibilitychange', () => { if (!document.hidden && document.body.classList.contains('signed-in')) { flush(); softRefresh(); } });

start();
