// Shared by the browser scripts: launching Chromium, talking to the Go
// test (one JSON line each way), signing in through the provider's pages,
// and watching for CSP violations.
import puppeteer from 'puppeteer-core';
import { createInterface } from 'node:readline';

export const HUB = process.env.HUB_URL;

const waiting = [];
createInterface({ input: process.stdin }).on('line', (l) => waiting.shift()?.(JSON.parse(l)));

// ask sends a request to the Go test and resolves its result.
export function ask(req) {
  return new Promise((resolve) => {
    waiting.push(resolve);
    process.stdout.write(`${JSON.stringify(req)}\n`);
  }).then((r) => {
    if (r.error) {
      const e = new Error(r.error);
      e.code = r.code;
      throw e;
    }
    return r.result;
  });
}

export const log = (...a) => console.log('e2e:', ...a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))));

export async function launch() {
  return puppeteer.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    userDataDir: process.env.PROFILE_DIR,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// watch records console CSP violations and page errors on the hub's pages.
export function watch(page, problems) {
  page.on('console', (m) => {
    const text = m.text();
    if (/Content[- ]Security[- ]Policy/i.test(text) && page.url().startsWith(HUB)) problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (e) => { if (page.url().startsWith(HUB)) problems.push(`page error: ${e.message}`); });
}

// signIn goes through the provider's login and consent pages as subject.
export async function signIn(page, subject) {
  await page.goto(HUB, { waitUntil: 'networkidle0' });
  const btn = await page.waitForSelector('button.primary');
  await Promise.all([page.waitForNavigation(), btn.click()]);
  for (let step = 0; step < 6 && !page.url().startsWith(HUB); step++) {
    if (await page.$('input[name=login]')) {
      await page.type('input[name=login]', subject);
      await page.type('input[name=password]', 'test');
    }
    const submit = await page.waitForSelector('button[type=submit]', { timeout: 10000 });
    await Promise.all([page.waitForNavigation(), submit.click()]);
  }
  if (!page.url().startsWith(HUB)) throw new Error(`sign-in did not come back to the hub: ${page.url()}`);
}

export async function waitText(page, selector, text, timeout = 10000) {
  await page.waitForFunction((s, t) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(t)), { timeout }, selector, text);
}

// hubHas tells whether the hub knows method (not -32601).
export async function hubHas(method, params = {}) {
  try {
    await ask({ op: 'hubcall', method, params });
    return true;
  } catch (e) {
    return e.code !== -32601;
  }
}

// queueEmpty waits until the app has nothing waiting to sync.
export async function queueEmpty(page, timeout = 20000) {
  await page.waitForFunction(() => !document.querySelector('#queue .waiting'), { timeout });
}

// tap clicks the element matching selector inside the page in one step,
// so a re-render between finding and clicking cannot detach it.
export async function tap(page, selector) {
  await page.waitForSelector(selector);
  await page.$eval(selector, (e) => e.click());
}
