// Resilience in headless Chromium: a broken /events stream is reconnected
// and the app catches up on what changed meanwhile, without a reload
// (before any event arrived: by reading the page again; after: by resuming
// from the last seq); a hub gone away and back is caught up with too; an
// entry written to today's journal offline survives a reload and reaches
// the hub exactly once, even when the reply to its replay is lost. Driven
// by web_e2e_test.go (TestWebAppResilience), whose proxy between the
// browser and the hub cuts connections ({"op":"proxy","mode":M}) — Chrome's
// offline emulation leaves an open EventSource alone.
import assert from 'node:assert/strict';
import { HUB, ask, log, launch, watch, signIn, waitText, hubHas, queueEmpty } from './lib.mjs';

const problems = [];
const call = (method, params) => ask({ op: 'call', method, params });
const sync = () => ask({ op: 'sync' });
const proxy = (mode) => ask({ op: 'proxy', mode });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const localDay = (d) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

// spokeAdd makes a task with the spoke's CLI and pushes it to the hub.
async function spokeAdd(title) {
  const r = await ask({ op: 'heph', args: ['add', title] });
  assert.equal(r.code, 0, r.stderr);
  await sync();
}

// streams records the /events streams the page opens and how they answer.
function streams(page) {
  const seen = [];
  page.on('response', (r) => { if (new URL(r.url()).pathname === '/events') seen.push({ url: new URL(r.url()), status: r.status() }); });
  return seen;
}

async function waitFor(what, fn, timeout = 10000) {
  const end = Date.now() + timeout;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// typeInto focuses selector and types text there, again if a redraw that
// was already under way replaced the field (the app never redraws a page
// under a field the person is in, but it may just before they get there).
async function typeInto(page, selector, text) {
  for (let i = 0; i < 3; i++) {
    await page.waitForSelector(selector);
    await page.$eval(selector, (e) => { e.value = ''; e.focus(); });
    await page.keyboard.type(text);
    if (await page.$eval(selector, (e, t) => e.value === t && document.activeElement === e, text)) return;
  }
  throw new Error(`could not type into ${selector}`);
}

const shown = (page, title) => page.$$eval('li.task', (ls, t) => ls.some((l) => l.textContent.includes(t)), title);

// cutStream breaks the open stream and refuses new ones while title is
// made on the spoke, then lets them through again: the app shows title
// without a reload. Returns the stream that reconnected.
async function cutStream(page, seen, title) {
  const before = seen.length;
  await proxy('refuse-events');
  await spokeAdd(title);
  await sleep(2500); // the app keeps trying (each try is refused)
  assert.equal(await shown(page, title), false, `${title} shown while no stream could reach the app: the test proves nothing`);
  await proxy('pass');
  const t0 = Date.now();
  await waitText(page, 'li.task', title, 8000);
  log(`live: ${title} shown ${Date.now() - t0} ms after the stream could reconnect`);
  await waitFor('a new stream', () => seen.slice(before).some((s) => s.status === 200));
  return seen.slice(before).find((s) => s.status === 200);
}

async function reconnectStep(page) {
  assert.ok(await hubHas('events.ticket'), 'the hub has no events.ticket');
  const seen = streams(page);
  await page.goto(`${HUB}/#/next`);
  await waitText(page, 'li.task', 'Before the cut');
  await waitFor('the first stream', () => seen.some((s) => s.status === 200));
  await page.evaluate(() => { window.heph_not_reloaded = true; });

  // 1. Cut before any event came: nothing to resume from; read again.
  const first = await cutStream(page, seen, 'Made during the first cut');
  assert.equal(first.url.searchParams.get('after'), null, `no event was seen, yet the stream resumed: ${first.url.search}`);
  await spokeAdd('After the first cut');
  await waitText(page, 'li.task', 'After the first cut', 2000);
  log('live: cut before any event: reconnected, caught up by reading the page again, live again');

  // 2. Cut after events came: the new stream resumes after the last seq.
  const second = await cutStream(page, seen, 'Made during the second cut');
  assert.match(second.url.searchParams.get('after') || '', /^\d+$/, `the stream did not resume from a seq: ${second.url.search}`);
  log(`live: cut after events: resumed with after=${second.url.searchParams.get('after')}`);

  // 3. The hub unreachable altogether for a while (every connection cut).
  await proxy('refuse-all');
  await spokeAdd('Made while the hub was away');
  await waitText(page, '#banner', 'offline', 10000);
  await proxy('pass');
  await waitText(page, 'li.task', 'Made while the hub was away', 20000);
  await page.waitForFunction(() => document.getElementById('banner').hidden, { timeout: 20000 });
  await spokeAdd('After the hub came back');
  await waitText(page, 'li.task', 'After the hub came back', 5000);
  assert.equal(await page.evaluate(() => window.heph_not_reloaded), true, 'the page reloaded');
  log('live: stream reconnects and catches up: ok');
}

// journalOfflineStep: an entry added to today's journal offline survives a
// reload, then reaches the hub once although the reply to it is lost.
async function journalOfflineStep(page, client) {
  assert.ok(await hubHas('journal.get'), 'the hub has no journal.get');
  const day = localDay(new Date());
  await call('journal.append', { text: 'Morning entry' });
  await sync();
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.evaluate(() => { location.hash = '#/journal'; });
  await waitText(page, 'article.md', 'Morning entry');
  await page.setOfflineMode(true);
  await typeInto(page, '#journal-add', 'Written offline');
  await page.keyboard.press('Enter');
  await waitText(page, '#status', 'will sync');
  await waitText(page, 'article.md', 'Written offline (not synced yet)');
  await waitText(page, '#queue', '1 change waiting');
  await page.reload({ waitUntil: 'domcontentloaded' });
  await waitText(page, '#queue', '1 change waiting');
  await waitText(page, '#banner', 'offline — as of');
  await waitText(page, 'h1', `Journal ${day}`);
  await waitText(page, 'article.md', 'Written offline (not synced yet)');
  log('journal offline: queued, kept across a reload');

  let dropped = 0;
  await client.send('Fetch.enable', { patterns: [{ urlPattern: '*/rpc', requestStage: 'Response' }] });
  client.on('Fetch.requestPaused', async (ev) => {
    const keyed = Object.keys(ev.request.headers).some((k) => k.toLowerCase() === 'idempotency-key');
    try {
      if (keyed && dropped === 0) {
        dropped++;
        await client.send('Fetch.failRequest', { requestId: ev.requestId, errorReason: 'ConnectionReset' });
      } else {
        await client.send('Fetch.continueResponse', { requestId: ev.requestId });
      }
    } catch (e) {
      log(`interception: ${e.message}`);
    }
  });
  await page.setOfflineMode(false);
  await queueEmpty(page, 60000);
  await client.send('Fetch.disable');
  assert.equal(dropped, 1, 'the reply to the replayed entry was dropped');
  await sync();
  const j = await call('journal.get', {});
  assert.equal(j.date, day);
  const times = j.node.body.split('Written offline').length - 1;
  assert.equal(times, 1, `the entry is in the journal ${times} times:\n${j.node.body}`);
  assert.doesNotMatch(j.node.body, /not synced yet/);
  assert.match(j.node.body, /Morning entry[\s\S]*Written offline/);
  await page.waitForFunction(() => {
    const t = document.querySelector('article.md')?.textContent || '';
    return t.split('Written offline').length === 2 && !t.includes('not synced yet');
  }, { timeout: 15000 });
  log('journal offline: on the hub exactly once, despite a lost reply');
}

const browser = await launch();
try {
  await call('task.create', { title: 'Before the cut', attention: 'red' });
  await sync();
  const page = await browser.newPage();
  await page.setViewport({ width: 360, height: 740 });
  watch(page, problems);
  const client = await page.createCDPSession();
  await signIn(page, process.env.HEPH_SUBJECT);
  await reconnectStep(page);
  await journalOfflineStep(page, client);
  assert.deepEqual(problems, [], 'no CSP violations or page errors');
  log('all steps passed');
} catch (e) {
  console.log(`e2e: FAILED: ${e.stack || e}`);
  for (const p of await browser.pages()) console.log(`e2e: page ${p.url()}: ${JSON.stringify(await p.evaluate(() => document.body.innerText).catch((x) => x.message))}`);
  process.exitCode = 1;
} finally {
  await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5000))]);
}
process.exit();
