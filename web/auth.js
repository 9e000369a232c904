// auth.js: logging in to the hub's OIDC issuer as a public client (authorization code + PKCE S256), refresh, logout.
//
// Where tokens live, and why:
// - The access token lives only in this module's memory (and is handed to
//   other open tabs over a BroadcastChannel). It is short-lived; a reload
//   gets a new one with the refresh token.
// - The refresh token lives in IndexedDB (store.js, 'auth'), so the app
//   stays logged in across reloads, offline restarts and the phone killing
//   it. IndexedDB is readable by any script on this origin: the strict CSP
//   (script-src 'self', no inline script, no eval, nothing from another
//   origin) and rendering that never turns stored text into HTML are what
//   keep foreign script off this origin. Refresh tokens rotate on every use.
// - Tokens are never put in a URL, never logged, never given to the service
//   worker. The authorization code arrives in /callback's query and is
//   removed from the address bar before it is used.
// - The ID token is verified by this app (issuer, audience, nonce, expiry;
//   it comes straight from the issuer's token endpoint over the connection
//   the app opened, so its signature is not checked again, as OIDC Core
//   3.1.3.7 allows). The hub verifies every access token's signature,
//   issuer and audience itself, exactly as it does the CLI's.
import { auth } from './store.js';

export class LoginRequired extends Error {
  constructor(msg = 'sign in to continue') { super(msg); }
}
// OfflineError: the hub or the issuer could not be reached: try again later.
export class OfflineError extends Error {}

const SKEW_MS = 60_000;
let access = null;
let accessExp = 0;
let refreshTimer = 0;
const channel = 'BroadcastChannel' in self ? new BroadcastChannel('heph-auth') : null;
if (channel) {
  channel.onmessage = (e) => {
    if (e.data?.type === 'token') setAccess(e.data.access, e.data.exp, false);
    if (e.data?.type === 'logout') { access = null; location.assign('/'); }
  };
}

function setAccess(token, exp, tell) {
  access = token;
  accessExp = exp;
  clearTimeout(refreshTimer);
  // Refresh a minute before expiry, so requests never meet an expired token.
  refreshTimer = setTimeout(() => refresh().catch(() => {}), Math.max(5_000, exp - Date.now() - SKEW_MS));
  if (tell && channel) channel.postMessage({ type: 'token', access: token, exp });
}

// config is the hub's /config, cached in IndexedDB: a start with a cached
// copy uses it at once and refreshes it in the background.
let configP = null;
export function config() {
  configP ||= auth.get('config').then((c) => {
    const fresh = fetchConfig();
    if (c) { fresh.catch(() => {}); return c; }
    return fresh;
  }).catch((e) => { configP = null; throw e; });
  return configP;
}

async function fetchConfig() {
  try {
    const resp = await fetch('/config', { cache: 'no-store' });
    if (!resp.ok) throw new Error(`/config: ${resp.status}`);
    const c = await resp.json();
    await auth.put('config', c);
    return c;
  } catch (e) {
    const c = await auth.get('config');
    if (c) return c;
    throw e;
  }
}

async function discovery(cfg) {
  const cached = await auth.get('disco');
  if (cached && cached.issuer === cfg.issuer) return cached;
  const resp = await fetch(`${cfg.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`, { cache: 'no-store' });
  if (!resp.ok) throw new Error(`the issuer's metadata: ${resp.status}`);
  const d = await resp.json();
  if (d.issuer !== cfg.issuer) throw new Error(`the issuer's metadata names ${d.issuer}, not ${cfg.issuer}`);
  await auth.put('disco', d);
  return d;
}

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

export async function signedIn() {
  return !!(await auth.get('refresh')) || !!access;
}

// login sends the browser to the issuer's authorization endpoint.
export async function login(returnTo = location.hash) {
  const cfg = await config();
  const d = await discovery(cfg);
  const verifier = random(32);
  const state = random(16);
  const nonce = random(16);
  await auth.put(`pending:${state}`, { verifier, nonce, returnTo, at: Date.now() });
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const u = new URL(d.authorization_endpoint);
  const q = {
    response_type: 'code', client_id: cfg.web_client_id || cfg.client_id, redirect_uri: `${location.origin}/callback`,
    scope: 'openid offline_access', state, nonce, code_challenge: challenge, code_challenge_method: 'S256',
    prompt: 'consent', resource: cfg.audience,
  };
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, v);
  location.assign(u.href);
}

async function tokenRequest(d, form) {
  let resp;
  try {
    resp = await fetch(d.token_endpoint, { method: 'POST', body: new URLSearchParams(form), cache: 'no-store' });
  } catch {
    throw new OfflineError('the sign-in server cannot be reached');
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(`the sign-in server said ${body.error || resp.status}${body.error_description ? `: ${body.error_description}` : ''}`);
    err.oauth = body.error || String(resp.status);
    throw err;
  }
  return body;
}

function claims(jwt) {
  const part = jwt.split('.')[1] || '';
  return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
}

// verifyIDToken checks the ID token the token endpoint returned.
function verifyIDToken(idToken, cfg, clientId, nonce) {
  const c = claims(idToken);
  const aud = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (c.iss !== cfg.issuer) throw new Error(`ID token from ${c.iss}, not ${cfg.issuer}`);
  if (!aud.includes(clientId)) throw new Error('ID token is for another client');
  if (aud.length > 1 && c.azp !== clientId) throw new Error('ID token azp is not this client');
  if (c.nonce !== nonce) throw new Error('ID token nonce does not match this sign-in');
  if (!(c.exp * 1000 > Date.now() - SKEW_MS)) throw new Error('ID token expired');
  return c;
}

// keep makes body's access token the one in use at once and resolves
// once its refresh token is saved.
function keep(body) {
  const saved = body.refresh_token ? auth.put('refresh', body.refresh_token) : Promise.resolve();
  setAccess(body.access_token, Date.now() + (body.expires_in || 300) * 1000, true);
  return saved;
}

// handleCallback finishes a sign-in at /callback and returns the hash to go to.
export async function handleCallback() {
  const q = new URLSearchParams(location.search);
  history.replaceState(null, '', '/');
  if (q.get('error')) throw new Error(`sign-in failed: ${q.get('error')}${q.get('error_description') ? ` (${q.get('error_description')})` : ''}`);
  const state = q.get('state') || '';
  const pending = await auth.get(`pending:${state}`);
  await auth.del(`pending:${state}`);
  if (!pending || Date.now() - pending.at > 15 * 60_000) throw new Error('this sign-in was not started here (state mismatch): sign in again');
  const cfg = await config();
  const d = await discovery(cfg);
  if (q.get('iss') && q.get('iss') !== cfg.issuer) throw new Error('the answer came from another issuer');
  const clientId = cfg.web_client_id || cfg.client_id;
  const body = await tokenRequest(d, {
    grant_type: 'authorization_code', code: q.get('code') || '', redirect_uri: `${location.origin}/callback`,
    client_id: clientId, code_verifier: pending.verifier, resource: cfg.audience,
  });
  verifyIDToken(body.id_token || '', cfg, clientId, pending.nonce);
  await keep(body);
  return pending.returnTo || '';
}

// accessToken returns a usable access token, refreshing first when needed.
export async function accessToken() {
  if (access && Date.now() < accessExp - SKEW_MS) return access;
  await refresh();
  return access;
}

// refreshAfter401: the hub refused token; refresh unless another tab or
// call already did.
export async function refreshAfter401(token) {
  if (access === token) accessExp = 0;
  await refresh();
}

// refresh trades the refresh token for new tokens. One tab at a time (Web
// Locks): the rotated refresh token is saved before the lock is let go,
// and a tab that waited finds the fresh access token its neighbour
// broadcast. Callers may use the new access token while it is being saved.
function refresh() {
  return new Promise((resolve, reject) => {
    const run = async () => {
      if (access && Date.now() < accessExp - SKEW_MS) return resolve();
      const [rt, cfg, d] = await Promise.all([auth.get('refresh'), config(), config().then(discovery)]);
      if (!rt) throw new LoginRequired();
      let saved;
      try {
        saved = keep(await tokenRequest(d, { grant_type: 'refresh_token', refresh_token: rt, client_id: cfg.web_client_id || cfg.client_id }));
      } catch (e) {
        if (e.oauth === 'invalid_grant' || e.oauth === 'invalid_client') {
          await auth.del('refresh');
          throw new LoginRequired('your sign-in has ended: sign in again');
        }
        throw e;
      }
      resolve();
      await saved;
    };
    (navigator.locks ? navigator.locks.request('heph-refresh', run) : run()).then(resolve, reject);
  });
}

// logout revokes the refresh token at the issuer, forgets every token and
// the cached data, and tells the other tabs.
export async function logout() {
  const rt = await auth.get('refresh');
  try {
    const cfg = await config();
    const d = await discovery(cfg);
    if (rt && d.revocation_endpoint) {
      await fetch(d.revocation_endpoint, {
        method: 'POST', cache: 'no-store',
        body: new URLSearchParams({ token: rt, token_type_hint: 'refresh_token', client_id: cfg.web_client_id || cfg.client_id }),
      });
    }
  } finally {
    await auth.del('refresh');
    access = null;
    accessExp = 0;
    if (channel) channel.postMessage({ type: 'logout' });
  }
}
