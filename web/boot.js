// boot.js: the first thing the app runs — before the rest of its modules have arrived, it asks for what the first page needs.
//
// index.html loads this module on its own (async), so it runs as soon as
// it and the three modules it imports are in, while ui.js, views.js and
// app.js are still downloading: the IndexedDB open, the token refresh at
// the issuer and, when the page is Next, the hub's list are under way by
// the time the app starts. app.js (through views.js) takes the answer.
import { load } from './api.js';
import { cache, queue } from './store.js';

// nextData reads what Next shows: the hub's list (or the cached one) and
// the tasks added on this device that have not reached the hub yet.
export function nextData() {
  return Promise.all([load('next', 'task.next', { limit: 100 }), queue.all(), cache.get('pending-tasks')]);
}

let early = null;

// takeEarlyNext returns the read of Next started at load, once, if it is
// recent; else null.
export function takeEarlyNext() {
  const e = early;
  early = null;
  return e && Date.now() - e.at < 10_000 ? e.data : null;
}

performance.mark('heph:boot');
if (location.pathname !== '/callback' && /^(#\/?(next)?)?$/.test(location.hash)) {
  early = { at: Date.now(), data: nextData() };
  early.data.catch(() => {}); // the page reports it (or shows the sign-in page)
}
