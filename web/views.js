// views.js: the list screens — Next, views (built-in and saved), today's journal, projects, search — and the task row they share.
import { h, fill, attentionMark, friendly, status, today, zone } from './ui.js';
import { load, write, caps, RpcError, METHOD_NOT_FOUND } from './api.js';
import { cache, queue } from './store.js';
import { nextData, takeEarlyNext } from './boot.js';

// markdown.js is imported on first use (the journal, search snippets):
// Next, the first page, does not need it.
const markdown = () => import('./markdown.js');

// taskRow is one task in a list: a done button named "Done: <title>",
// the title (a link to the task), its attention (marker and word), why.
export function taskRow(n, refresh) {
  const t = n.task || {};
  const att = t.attention || 'white';
  return h('li', { class: `task att-${att}${n.pending ? ' pending' : ''}`, 'data-id': n.id },
    h('button', { type: 'button', class: 'done-btn', 'aria-label': `Done: ${n.title}`, onclick: () => markDone(n, refresh) }, h('span', { 'aria-hidden': 'true' }, '✓')),
    h('div', { class: 'task-body' },
      h('a', { href: `#/task/${encodeURIComponent(n.id)}`, class: 'title' }, n.title),
      h('div', { class: 'meta' },
        attentionMark(att),
        n.why && h('span', { class: 'why' }, n.why),
        t.do && h('span', null, `do ${friendly(t.do)}`),
        t.late && h('span', null, `late ${friendly(t.late)}`),
        t.project && h('span', { class: 'proj' }, t.project),
        (t.tags || []).map((g) => h('span', { class: 'tag' }, `+${g}`)),
        n.pending && h('span', { class: 'pending-mark' }, 'not synced yet'))));
}

// markDone completes a task: gone from the lists at once, sent (or queued).
export async function markDone(n, refresh) {
  const drop = (v) => (v && Array.isArray(v.tasks) ? { ...v, tasks: v.tasks.filter((x) => x.id !== n.id) } : v);
  await cache.update('next', drop);
  document.querySelectorAll(`li.task[data-id="${CSS.escape(n.id)}"]`).forEach((li) => li.remove());
  try {
    const r = await write('task.done', { id: n.id }, `Done: ${n.title}`);
    status(r.queued ? `Done: ${n.title} (will sync when online)` : `Done: ${n.title}`);
  } catch (e) {
    status(`Could not complete ${n.title}: ${e.message}`, 'error');
  }
  if (refresh) refresh();
}

// FIRST_ROWS rows of a list are built at once (more than a screen holds,
// phone or desktop); the rest are added in a task of their own, so a long
// list shows as soon as its top is ready.
const FIRST_ROWS = 30;

function listOrEmpty(nodes, empty, refresh) {
  if (!nodes.length) return h('p', { class: 'empty' }, empty);
  const ul = h('ul', { class: 'tasks' }, nodes.slice(0, FIRST_ROWS).map((n) => taskRow(n, refresh)));
  if (nodes.length > FIRST_ROWS) setTimeout(() => ul.append(...nodes.slice(FIRST_ROWS).map((n) => taskRow(n, refresh))));
  return ul;
}

function refreshButton(refresh) {
  return h('button', { type: 'button', class: 'refresh', onclick: refresh }, 'Refresh');
}

export async function renderNext(main, refresh) {
  const [v, queued, local] = await (takeEarlyNext() || nextData());
  const waiting = new Set(queued.map((i) => i.ref));
  const pending = (local?.value || []).filter((p) => waiting.has(p.id));
  const tasks = [...pending, ...(v.tasks || [])];
  fill(main, h('div', { class: 'head' }, h('h1', null, 'Next'), refreshButton(refresh)),
    listOrEmpty(tasks, 'Nothing is next. Add something with Quick add.', refresh));
  // (The first list marks the time for bench/web_first_load.sh.)
  if (!performance.getEntriesByName('heph:next').length) performance.mark('heph:next');
}

const BUILTIN = [
  { name: 'agenda', title: 'Agenda' }, { name: 'ondeck', title: 'On deck' },
  { name: 'upcoming', title: 'Upcoming' }, { name: 'late', title: 'Late' },
];

export async function renderViews(main, name, refresh) {
  let views = BUILTIN.map((b) => ({ ...b, builtin: true }));
  try {
    const saved = await load('views', 'view.list', {});
    views = saved.filter((s) => s.name !== 'next').map((s) => ({ name: s.name, title: BUILTIN.find((b) => b.name === s.name)?.title || s.name, builtin: s.builtin, count: s.count }));
  } catch (e) {
    if (!(e instanceof RpcError && e.code === METHOD_NOT_FOUND)) throw e;
  }
  name ||= views[0]?.name || 'ondeck';
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Views' }, views.map((v) =>
    h('a', { href: `#/view/${encodeURIComponent(v.name)}`, 'aria-current': v.name === name ? 'page' : null },
      v.title, v.count != null ? ` (${v.count})` : '')));
  let body;
  try {
    const nodes = await load(`view:${name}`, 'task.view', { name });
    body = listOrEmpty(nodes || [], 'No tasks in this view.', refresh);
  } catch (e) {
    body = h('p', { class: 'empty' }, `This view is not available: ${e.message}`);
  }
  fill(main, h('div', { class: 'head' }, h('h1', null, views.find((v) => v.name === name)?.title || name), refreshButton(refresh)), tabs, body);
}

export async function renderSearch(main, q) {
  const input = document.getElementById('q');
  if (input && input.value !== q) input.value = q;
  if (!q.trim()) {
    fill(main, h('h1', null, 'Search'), h('p', { class: 'empty' }, 'Type in the search field (press / to get there).'));
    return;
  }
  const [hits, { snippet }] = await Promise.all([load(`search:${q}`, 'node.search', { query: q, limit: 50 }), markdown()]);
  fill(main, h('h1', null, `Search: ${q}`),
    hits.length ? h('ul', { class: 'hits' }, hits.map((r) => h('li', null,
      h('a', { href: nodeHref(r.node) }, r.node.title),
      h('span', { class: 'kind' }, ` ${r.node.kind}`),
      h('p', { class: 'snippet' }, snippet(r.snippet)))))
      : h('p', { class: 'empty' }, 'Nothing found.'));
}

export function nodeHref(n) {
  return n.kind === 'task' ? `#/task/${encodeURIComponent(n.id)}` : `#/doc/${encodeURIComponent(n.id)}`;
}

export async function renderJournal(main, refresh) {
  // The device's day, asked for by date: a change queued offline lands in
  // the day it was written even when it reaches the hub the next day.
  const date = today();
  const [j, { render }] = await Promise.all([load(`journal:${date}`, 'journal.get', { date, tz: zone() }), markdown()]);
  const add = h('form', { class: 'append', onsubmit: async (e) => {
    e.preventDefault();
    const text = add.elements.text.value.trim();
    if (!text) return;
    add.elements.text.value = '';
    const r = await write('journal.append', { date, text, tz: zone() }, `Journal ${date}: ${text.slice(0, 40)}`).catch((err) => status(err.message, 'error'));
    if (r?.queued) {
      const line = `${text} (not synced yet)`; // as journal.append adds it, marked
      await cache.update(`journal:${date}`, (v) => ({ ...v, node: v.node ? { ...v.node, body: `${v.node.body}${v.node.body && !v.node.body.endsWith('\n') ? '\n' : ''}${line}\n` } : { id: '', title: date, body: `${line}\n` } }));
      status('Added to the journal (will sync when online)');
    } else if (r) status('Added to the journal');
    refresh();
  } }, h('label', { for: 'journal-add' }, 'Add to today\'s journal'), h('input', { id: 'journal-add', name: 'text', autocomplete: 'off' }), h('button', null, 'Add'));
  fill(main, h('div', { class: 'head' }, h('h1', null, `Journal ${j.date}`),
    j.node?.id && h('a', { href: `#/doc/${encodeURIComponent(j.node.id)}/edit`, class: 'button', 'aria-label': `Edit journal ${j.date}` }, 'Edit')),
  j.node ? h('article', { class: 'md' }, render(j.node.body, { wikiHref })) : h('p', { class: 'empty' }, 'Nothing written today yet.'),
  add);
}

export function wikiHref(target) {
  return `#/wiki/${encodeURIComponent(target)}`;
}

export async function renderProjects(main) {
  const list = await load('projects', 'project.list', {});
  const kids = new Map();
  for (const p of list) {
    const k = p.parent || '';
    if (!kids.has(k)) kids.set(k, []);
    kids.get(k).push(p);
  }
  const tree = (parent) => {
    const ps = (kids.get(parent) || []).sort((a, b) => a.title.localeCompare(b.title));
    if (!ps.length) return null;
    return h('ul', { class: parent ? null : 'tree' }, ps.map((p) => h('li', null,
      h('a', { href: `#/project/${encodeURIComponent(p.path)}` }, p.title),
      h('span', { class: 'counts' }, ` ${p.outstanding} open`, p.late ? `, ${p.late} late` : ''),
      tree(p.id))));
  };
  fill(main, h('h1', null, 'Projects'), tree('') || h('p', { class: 'empty' }, 'No projects yet.'));
}

export async function renderProject(main, path, refresh) {
  const nodes = await load(`project:${path}`, 'task.list', { project: path });
  fill(main, h('h1', null, path), listOrEmpty(nodes, 'No outstanding tasks here.', refresh));
}

// quickAdd saves the text as a task (parsed by the hub's quick-add
// grammar when it has one); offline it shows at once and is queued.
export async function quickAdd(text) {
  const quick = !caps.missing.has('task.quickadd');
  const method = quick ? 'task.quickadd' : 'task.create';
  const params = quick ? { text, tz: zone() } : { title: text };
  const r = await write(method, params, `Quick add: ${text}`);
  if (r.queued) {
    const items = (await cache.get('pending-tasks'))?.value || [];
    items.unshift({ id: r.ref, title: text, kind: 'task', pending: true, task: { attention: 'white', tags: [] } });
    await cache.put('pending-tasks', items);
  }
  return r;
}
