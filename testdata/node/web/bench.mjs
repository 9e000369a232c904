// Cold first load of the web app: sign in once, then RUNS times forget the
// HTTP cache and the service worker (keeping the sign-in in IndexedDB) and
// time navigation start → the first task of Next on screen, summing the
// bytes on the wire. VERBOSE=1 prints every run's breakdown, not only the
// last one's. Driven by web_bench_test.go (bench/web_first_load.sh).
import { HUB, log, launch, signIn, waitText } from './lib.mjs';

const runs = Number(process.env.RUNS || 5);
const browser = await launch();
try {
  let page = await browser.newPage();
  await page.setViewport({ width: 360, height: 740 });
  await signIn(page, process.env.HEPH_SUBJECT);
  await page.waitForSelector('li.task', { timeout: 60000 });
  const times = [];
  const sizes = [];
  for (let i = 0; i < runs; i++) {
    // Let the last load's after-work (the service worker's install, the
    // other modules, live updates) finish first, so it does not run into
    // the next cold load; then forget the service worker and its cache.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await new Promise((r) => setTimeout(r, 1000));
    await page.evaluate(async () => {
      for (const r of await navigator.serviceWorker.getRegistrations()) await r.unregister();
      for (const k of await caches.keys()) await caches.delete(k);
    });
    await page.close();
    page = await browser.newPage();
    await page.setViewport({ width: 360, height: 740 });
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    let bytes = 0;
    cdp.on('Network.loadingFinished', (e) => { bytes += e.encodedDataLength; });
    await page.evaluateOnNewDocument(() => {
      new MutationObserver((_, obs) => {
        if (document.querySelector('li.task')) { window.__firstTask = performance.now(); obs.disconnect(); }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(`${HUB}/#/next`);
    await page.waitForFunction(() => window.__firstTask, { timeout: 60000 });
    await waitText(page, 'li.task', '');
    times.push(await page.evaluate(() => window.__firstTask));
    if (i === runs - 1 || process.env.VERBOSE) {
      const entries = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => `${Math.round(e.startTime)}+${Math.round(e.duration)} ${e.name.replace(location.origin, '').replace(/^\/v\/[^/]+\//, '')}`));
      const nav = await page.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0];
        const marks = performance.getEntriesByType('mark').filter((m) => m.name.startsWith('heph:')).map((m) => `${m.name} ${Math.round(m.startTime)}`);
        return ['requestStart', 'responseStart', 'responseEnd', 'domInteractive'].map((k) => `${k} ${Math.round(n[k])}`).concat(marks).join(', ');
      });
      log(`last run: first task at ${Math.round(times[times.length - 1])} ms; document: ${nav}; ${entries.join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 300));
    sizes.push(bytes);
  }
  times.sort((a, b) => a - b);
  sizes.sort((a, b) => a - b);
  const med = (a) => a[Math.floor(a.length / 2)];
  console.log(JSON.stringify({ bench: 'web-first-load', runs, median_ms: Math.round(med(times)), min_ms: Math.round(times[0]), max_ms: Math.round(times[times.length - 1]), median_bytes: med(sizes) }).replace(/^/, 'e2e: result '));
} finally {
  await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5000))]);
}
process.exit();
