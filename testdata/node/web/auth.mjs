// Sign-in lifecycle in headless Chromium: two tabs share one sign-in; the
// access token is refreshed before it expires, one tab at a time (the
// provider sees no refresh token reused); no token appears in a URL; sign
// out revokes the refresh token. Driven by web_e2e_test.go
// (TestWebAppSignInLifecycle) with a provider whose access tokens live 70 s.
import assert from 'node:assert/strict';
import { HUB, ask, log, launch, watch, signIn } from './lib.mjs';

const problems = [];
const browser = await launch();
const urls = [];
try {
  await ask({ op: 'call', method: 'task.create', params: { title: 'Stay signed in', attention: 'red' } });
  await ask({ op: 'sync' });
  const a = await browser.newPage();
  watch(a, problems);
  a.on('framenavigated', (f) => urls.push(f.url()));
  await signIn(a, process.env.HEPH_SUBJECT);
  await a.waitForSelector('li.task');
  const b = await browser.newPage();
  watch(b, problems);
  b.on('framenavigated', (f) => urls.push(f.url()));
  await b.goto(`${HUB}/#/next`);
  await b.waitForSelector('li.task');
  log('two tabs signed in');

  // Access tokens live 70 s and are refreshed a minute before expiry: wait
  // through two refresh rounds with both tabs open.
  await new Promise((r) => setTimeout(r, 25000));
  for (const p of [a, b]) {
    await p.bringToFront();
    await p.evaluate(() => { location.hash = '#/views'; });
    await p.evaluate(() => { location.hash = '#/next'; });
    await p.waitForSelector('li.task');
  }
  const g = await ask({ op: 'grants', method: 'refresh_token' });
  log(`refresh grants: ${g.ok} ok, ${g.failed} failed`);
  assert.ok(g.ok >= 2, 'the access token was refreshed before expiry');
  assert.equal(g.failed, 0, 'no refresh token was used twice (single flight across tabs)');
  for (const u of urls) assert.doesNotMatch(u, /access_token|refresh_token|id_token/, `a token in a URL: ${u}`);
  assert.ok(!urls.some((u) => u.startsWith(HUB) && /[?&]code=/.test(u) && !u.startsWith(`${HUB}/callback`)), 'the code stays on /callback');
  assert.equal(new URL(a.url()).search, '', 'the code is gone from the address bar');

  await a.bringToFront();
  const rt = await a.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('heph');
    req.onsuccess = () => {
      const get = req.result.transaction('auth').objectStore('auth').get('refresh');
      get.onsuccess = () => resolve(get.result);
      get.onerror = () => reject(get.error);
    };
  }));
  assert.ok(rt, 'the refresh token is kept in IndexedDB');
  await a.click('#signout');
  await a.waitForSelector('.login button.primary');
  await b.waitForSelector('.login button.primary', { timeout: 10000 });
  const cfg = await (await fetch(`${HUB}/config`)).json();
  const disco = await (await fetch(`${cfg.issuer}/.well-known/openid-configuration`)).json();
  const resp = await fetch(disco.token_endpoint, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: cfg.web_client_id }) });
  const body = await resp.json();
  assert.equal(body.error, 'invalid_grant', `the refresh token still works after sign out: ${JSON.stringify(body)}`);
  log('sign out revoked the refresh token; both tabs show the sign-in page');
  assert.deepEqual(problems, []);
  log('all steps passed');
} catch (e) {
  console.log(`e2e: FAILED: ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await Promise.race([browser.close(), new Promise((r) => setTimeout(r, 5000))]);
}
process.exit();
