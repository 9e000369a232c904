// ui.js: DOM building without HTML strings, and the small formatting helpers the views share.

// h builds an element: h('a', {href: '#/next', class: 'x', onclick: fn}, 'text', child).
// Text is always set as text, never parsed as HTML.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid == null || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}

// clear empties el and appends kids.
export function fill(el, ...kids) {
  el.replaceChildren();
  for (const kid of kids.flat(Infinity)) if (kid != null && kid !== false) el.append(kid);
  return el;
}

const pad = (n) => String(n).padStart(2, '0');

export function hhmm(t) {
  const d = new Date(t);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// localDate is YYYY-MM-DD, with HH:MM unless it is midnight.
export function localDate(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return d.getHours() || d.getMinutes() ? `${day} ${hhmm(d)}` : day;
}

// today is this device's date, YYYY-MM-DD.
export function today() {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// zone is this device's IANA time zone: the hub reads "tomorrow" and
// "today" in it (the tz param of task.parse, task.quickadd, journal.*),
// not in the hub's own zone.
export function zone() {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined; } catch { return undefined; }
}

// friendly is a short date: "today", "tomorrow", "Wed 2 Dec" (with the
// year when it is not this year's), in English like the rest of the app.
// Written out by hand rather than with Intl.DateTimeFormat: building the
// first formatter in a fresh page loads ICU's locale data, about 100 ms on
// a cold start, which was a fifth of the time to the first Next list.
export function friendly(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const today = new Date(); today.setHours(0, 0, 0, 0);
  const day = new Date(d); day.setHours(0, 0, 0, 0);
  const diff = Math.round((day - today) / 86400000);
  const time = d.getHours() || d.getMinutes() ? ` ${hhmm(d)}` : '';
  if (diff === 0) return `today${time}`;
  if (diff === 1) return `tomorrow${time}`;
  if (diff === -1) return `yesterday${time}`;
  const year = d.getFullYear() === today.getFullYear() ? '' : ` ${d.getFullYear()}`;
  return `${WEEKDAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]}${year}${time}`;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// Attention: colour AND a shape/text marker, never colour alone.
const MARKS = { red: '▲', orange: '◆', white: '○', blue: '▼' };
export function attentionMark(att) {
  const a = att || 'white';
  return h('span', { class: `att att-${a}`, title: `attention: ${a}` }, h('span', { 'aria-hidden': 'true' }, MARKS[a] || '○'), ` ${a}`);
}

// recurText makes an RRULE readable enough for a phone.
export function recurText(rule) {
  if (!rule) return '';
  const p = Object.fromEntries(rule.split(';').map((kv) => kv.split('=')));
  const unit = { DAILY: 'day', WEEKLY: 'week', MONTHLY: 'month', YEARLY: 'year' }[p.FREQ];
  if (!unit) return rule;
  const n = Number(p.INTERVAL || 1);
  let s = n === 1 ? `every ${unit}` : `every ${n} ${unit}s`;
  if (p.BYDAY) s += ` on ${p.BYDAY.toLowerCase()}`;
  return s;
}

// status announces a short message to the person (and screen readers).
export function status(msg, kind = 'info') {
  const el = document.getElementById('status');
  if (!el) return;
  fill(el, h('p', { class: `msg msg-${kind}` }, msg));
  clearTimeout(status.t);
  status.t = setTimeout(() => el.replaceChildren(), kind === 'error' ? 10000 : 4000);
}
