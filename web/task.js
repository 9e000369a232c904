// task.js: one task (edit its fields; done/skip/drop/undo; its context checklist and log) and one doc (read, edit, resolve a conflict).
import { h, fill, attentionMark, localDate, recurText, hhmm, status } from './ui.js';
import { load, rpc, write, discard, RpcError, CONFLICT } from './api.js';
import { cache, queue } from './store.js';
import { render } from './markdown.js';
import { wikiHref, markDone } from './views.js';

function field(label, name, value, attrs = {}) {
  const id = `f-${name}`;
  return h('div', { class: 'field' }, h('label', { for: id }, label), h('input', { id, name, value: value || '', autocomplete: 'off', ...attrs }));
}

export async function renderTask(main, id, refresh) {
  const n = await load(`node:${id}`, 'node.get', { id });
  const t = n.task || {};
  const form = h('form', { class: 'edit', 'aria-label': 'Edit task', onsubmit: (e) => { e.preventDefault(); saveTask(n, form, refresh); } },
    field('Title', 'title', n.title),
    field('Do', 'do', localDate(t.do), { placeholder: 'tomorrow, fri 9:00, +3d, none' }),
    field('Late', 'late', localDate(t.late), { placeholder: 'YYYY-MM-DD, +1w, none' }),
    h('div', { class: 'field' }, h('label', { for: 'f-attention' }, 'Attention'),
      h('select', { id: 'f-attention', name: 'attention' }, ['red', 'orange', 'white', 'blue'].map((a) => h('option', { value: a, selected: (t.attention || 'white') === a }, a)))),
    field('Repeats', 'recur', t.recur || '', { placeholder: 'every 3 days, weekly, none' }),
    field('Project', 'project', t.project || '', { placeholder: 'Home/Garden' }),
    field('Tags', 'tags', (t.tags || []).join(' '), { placeholder: 'space separated' }),
    h('button', { type: 'submit' }, 'Save'));
  const act = (label, method, what) => h('button', { type: 'button', 'aria-label': `${label}: ${n.title}`, onclick: async () => {
    try {
      const r = await write(method, method === 'store.undo' ? {} : { id: n.id }, `${label}: ${n.title}`);
      status(r.queued ? `${what} (will sync when online)` : what);
    } catch (e) { status(`${label} failed: ${e.message}`, 'error'); }
    refresh();
  } }, label);
  const outstanding = (t.state || 'outstanding') === 'outstanding';
  fill(main,
    h('div', { class: 'head' }, h('h1', null, n.title), attentionMark(t.attention)),
    h('p', { class: 'meta' }, `${t.state || 'outstanding'}`, t.recur ? ` · ${recurText(t.recur)}` : '', t.do ? ` · do ${localDate(t.do)}` : '', t.late ? ` · late ${localDate(t.late)}` : ''),
    h('div', { class: 'actions' },
      outstanding && h('button', { type: 'button', class: 'primary', 'aria-label': `Done: ${n.title}`, onclick: () => markDone(n, refresh) }, 'Done'),
      outstanding && t.recur && act('Skip', 'task.skip', `Skipped: ${n.title}`),
      outstanding && act('Drop', 'task.drop', `Dropped: ${n.title}`),
      act('Undo', 'store.undo', 'Undone')),
    form,
    h('section', { 'aria-labelledby': 'ctx-h', id: 'context' }, h('h2', { id: 'ctx-h' }, 'Context'), h('p', null, 'Loading…')),
    h('section', { 'aria-labelledby': 'log-h', id: 'log' }, h('h2', { id: 'log-h' }, 'Log'), h('p', null, 'Loading…')));
  await Promise.all([renderContext(main.querySelector('#context'), n, refresh), renderLog(main.querySelector('#log'), n, refresh)]);
}

async function saveTask(n, form, refresh) {
  const t = n.task || {};
  const v = Object.fromEntries(new FormData(form));
  const p = { id: n.id };
  if (v.title.trim() && v.title !== n.title) p.title = v.title.trim();
  for (const k of ['do', 'late']) if (v[k].trim() !== localDate(t[k])) p[k] = v[k].trim() || 'none';
  if (v.attention !== (t.attention || 'white')) p.attention = v.attention;
  if (v.recur.trim() !== (t.recur || '')) p.recur = v.recur.trim() || 'none';
  if (v.project.trim() !== (t.project || '')) p.project = v.project.trim() || 'none';
  const have = new Set(t.tags || []);
  const want = new Set(v.tags.split(/[\s,]+/).map((x) => x.replace(/^\+/, '')).filter(Boolean));
  const add = [...want].filter((x) => !have.has(x));
  const rm = [...have].filter((x) => !want.has(x));
  if (add.length) p.tags_add = add;
  if (rm.length) p.tags_remove = rm;
  if (Object.keys(p).length === 1) { status('Nothing changed'); return; }
  try {
    const r = await write('task.edit', p, `Edit: ${n.title}`);
    status(r.queued ? 'Saved on this device; will sync when online' : 'Saved');
  } catch (e) { status(`Not saved: ${e.message}`, 'error'); return; }
  refresh();
}

async function renderContext(sec, n, refresh) {
  if (!n.task?.context) { fill(sec, h('h2', { id: 'ctx-h' }, 'Context'), h('p', { class: 'empty' }, 'No context doc.')); return; }
  let doc;
  try { doc = await load(`ctx:${n.id}`, 'context.get', { id: n.id }); } catch (e) { fill(sec, h('h2', { id: 'ctx-h' }, 'Context'), h('p', null, e.message)); return; }
  const onCheck = async (box, checked) => {
    try {
      const r = await write('context.edit', { id: n.id, [checked ? 'check' : 'uncheck']: box }, `${checked ? 'Check' : 'Uncheck'} item ${box} of ${n.title}`);
      if (r.queued) await cache.update(`ctx:${n.id}`, (d) => ({ ...d, body: toggleBox(d.body, box, checked) }));
      else await cache.put(`ctx:${n.id}`, r.result);
    } catch (e) { status(`Not saved: ${e.message}`, 'error'); refresh(); }
  };
  fill(sec, h('div', { class: 'head' }, h('h2', { id: 'ctx-h' }, 'Context'), h('a', { href: `#/doc/${encodeURIComponent(doc.id)}`, class: 'button', 'aria-label': `Edit context of ${n.title}` }, 'Edit')),
    doc.body.trim() ? h('article', { class: 'md' }, render(doc.body, { onCheck, wikiHref })) : h('p', { class: 'empty' }, 'Empty.'));
}

// toggleBox sets checklist item n the way the hub's context.edit does.
function toggleBox(body, n, checked) {
  let i = 0;
  return body.split('\n').map((l) => (/^(\s*[-*+] \[)([ xX])(\]( |$))/.test(l) && ++i === n ? l.replace(/\[[ xX]\]/, checked ? '[x]' : '[ ]') : l)).join('\n');
}

async function renderLog(sec, n, refresh) {
  if (!n.task?.log) { fill(sec, h('h2', { id: 'log-h' }, 'Log')); return; }
  let doc;
  try { doc = await load(`log:${n.id}`, 'log.get', { id: n.id }); } catch (e) { fill(sec, h('h2', { id: 'log-h' }, 'Log'), h('p', null, e.message)); return; }
  const add = h('form', { class: 'append', onsubmit: async (e) => {
    e.preventDefault();
    const text = add.elements.text.value.trim();
    if (!text) return;
    add.elements.text.value = '';
    try {
      const r = await write('log.append', { id: n.id, text }, `Log of ${n.title}: ${text.slice(0, 40)}`);
      if (r.queued) await cache.update(`log:${n.id}`, (d) => ({ ...d, body: `${d.body}${d.body && !d.body.endsWith('\n') ? '\n' : ''}- (not synced yet) ${text}\n` }));
      status(r.queued ? 'Entry saved on this device; will sync when online' : 'Entry added');
    } catch (err) { status(`Not saved: ${err.message}`, 'error'); }
    refresh();
  } }, h('label', { for: 'log-add' }, 'Add entry'), h('input', { id: 'log-add', name: 'text', autocomplete: 'off' }), h('button', null, 'Add'));
  fill(sec, h('h2', { id: 'log-h' }, 'Log'), doc.body.trim() ? h('article', { class: 'md log' }, render(doc.body, { wikiHref })) : h('p', { class: 'empty' }, 'No entries yet.'), add);
}

// ---- docs ----

export async function renderDoc(main, id, mode, ctx) {
  const n = await load(`node:${id}`, 'node.get', { id });
  if (mode === 'edit') return editDoc(main, n, n.body, ctx);
  const refused = (await queue.all()).find((i) => i.state === 'refused' && i.method === 'node.update' && i.params.id === n.id && i.error?.code === CONFLICT);
  if (refused) return conflict(main, n, refused.params.body, ctx, refused.seq);
  fill(main, h('div', { class: 'head' }, h('h1', null, n.title), h('a', { href: `#/doc/${encodeURIComponent(n.id)}/edit`, class: 'button', 'aria-label': `Edit ${n.title}` }, 'Edit')),
    h('article', { class: 'md' }, render(n.body, { wikiHref })),
    h('p', { class: 'meta' }, `Changed ${localDate(n.updated)}`));
}

function editDoc(main, n, text, ctx) {
  ctx.editing = true;
  const ta = h('textarea', { id: 'doc-body', name: 'body', rows: 16, 'aria-label': `Text of ${n.title}` });
  ta.value = text;
  const form = h('form', { class: 'doc-edit', onsubmit: async (e) => {
    e.preventDefault();
    await saveDoc(main, n, ta.value, n.updated, ctx);
  } }, ta, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save'),
    h('a', { href: `#/doc/${encodeURIComponent(n.id)}`, class: 'button', onclick: () => { ctx.editing = false; } }, 'Cancel')));
  fill(main, h('h1', null, `Edit: ${n.title}`), form);
}

// saveDoc writes body over the version the person read (expect_updated);
// if the doc changed meanwhile, both versions are shown.
async function saveDoc(main, n, body, expect, ctx, seq) {
  try {
    const r = await write('node.update', { id: n.id, body, expect_updated: expect }, `Edit: ${n.title}`);
    if (seq) await discard(seq);
    ctx.editing = false;
    if (r.queued) {
      await cache.put(`node:${n.id}`, { ...n, body });
      status('Saved on this device; will sync when online');
    } else {
      await cache.put(`node:${n.id}`, r.result);
      status('Saved');
    }
    location.hash = `#/doc/${encodeURIComponent(n.id)}`;
    ctx.refresh();
  } catch (e) {
    if (!(e instanceof RpcError && e.code === CONFLICT)) { status(`Not saved: ${e.message}`, 'error'); return; }
    // The write is refused and kept in the queue; resolving it discards it.
    const refused = (await queue.all()).filter((i) => i.state === 'refused' && i.params?.id === n.id).pop();
    await conflict(main, n, body, ctx, refused?.seq);
  }
}

// conflict shows the person's text and the hub's side by side; they keep
// one (or merge by hand in the box) — nothing is overwritten silently.
async function conflict(main, n, mine, ctx, seq) {
  ctx.editing = true;
  const theirs = await rpc('node.get', { id: n.id });
  const ta = h('textarea', { id: 'mine', rows: 12, 'aria-label': 'Your version (you can edit it)' });
  ta.value = mine;
  fill(main, h('h1', null, `Conflict: ${theirs.title}`),
    h('p', { class: 'msg msg-error', role: 'alert' }, `This doc was changed elsewhere (at ${hhmm(theirs.updated)}) after you opened it. Choose which version to keep.`),
    h('div', { class: 'conflict' },
      h('section', { 'aria-labelledby': 'mine-h' }, h('h2', { id: 'mine-h' }, 'Yours'), ta,
        h('button', { type: 'button', class: 'primary', onclick: () => saveDoc(main, theirs, ta.value, theirs.updated, ctx, seq) }, 'Keep mine')),
      h('section', { 'aria-labelledby': 'theirs-h' }, h('h2', { id: 'theirs-h' }, 'On the hub'), h('pre', { class: 'theirs' }, theirs.body),
        h('button', { type: 'button', onclick: async () => {
          if (seq) await discard(seq);
          ctx.editing = false;
          await cache.put(`node:${n.id}`, theirs);
          location.hash = `#/doc/${encodeURIComponent(n.id)}`;
          ctx.refresh();
        } }, 'Keep theirs'))));
}
