// A real OpenID Provider (npm oidc-provider) on loopback for heph's OIDC and
// sync tests. Test-only: dev interactions, in-memory storage.
//
// Usage: node test/oidc/provider.mjs [--port N] [--audience AUD] [--client-id ID]
//        [--access-ttl SECONDS] [--web-client-id ID --web-redirect URI]
//
// With --web-redirect a second public client (default id heph-web) is
// registered for the hub's web app: authorization code + PKCE (S256, which
// oidc-provider requires of every public client) and refresh tokens,
// redirecting only to URI (the hub's <URL>/callback); CORS on the token and
// revocation endpoints follows from that redirect URI's origin.
//
// Prints one JSON line on stdout once listening:
//   {"issuer":"http://127.0.0.1:PORT","client_id":"heph-cli","audience":"urn:heph:hub","kid":"..."}
// then reads commands on stdin, one per line, answering each with one JSON line:
//   rotate  -> generate a new signing key, publish it first (old keys stay
//              published, so tokens they signed keep verifying) and sign with it
//   retire  -> stop publishing every key but the newest
//   stats   -> counts of token endpoint grants by grant_type, plus errors
// The process exits when stdin closes.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import Provider, { errors } from 'oidc-provider';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
}

const audience = arg('audience', 'urn:heph:hub');
const clientId = arg('client-id', 'heph-cli');
const accessTTL = Number(arg('access-ttl', '600'));
const port = Number(arg('port', '0'));
const webClientId = arg('web-client-id', 'heph-web');
const webRedirect = arg('web-redirect', '');

function newSigningKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

// An EC key is published too, so verifiers meet a mixed key set.
function newECKey() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' };
}

let keys = [newSigningKey(), newECKey()];
const stats = { grants: {}, errors: {} };

const server = createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const configuration = {
  clients: [{
    client_id: clientId,
    client_name: 'heph',
    token_endpoint_auth_method: 'none',
    grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  }, ...(webRedirect ? [{
    client_id: webClientId,
    client_name: 'heph web',
    application_type: 'web',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [webRedirect],
    post_logout_redirect_uris: [new URL('/', webRedirect).href],
  }] : [])],
  jwks: { keys },
  cookies: { keys: [randomUUID()] },
  scopes: ['openid', 'offline_access'],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => audience,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator !== audience) throw new errors.InvalidTarget();
        return {
          scope: 'openid offline_access',
          audience,
          accessTokenTTL: accessTTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  rotateRefreshToken: true,
  issueRefreshToken: (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  // The login form's value becomes the subject.
  findAccount: (_ctx, id) => ({ accountId: id, claims: () => ({ sub: id }) }),
  ttl: { AccessToken: accessTTL, DeviceCode: 600, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600, Session: 3600, Interaction: 600 },
};

const provider = new Provider(issuer, configuration);
provider.on('grant.success', (ctx) => {
  const g = ctx.oidc.params.grant_type;
  stats.grants[g] = (stats.grants[g] || 0) + 1;
});
provider.on('grant.error', (ctx, err) => {
  const g = `${ctx.oidc.params?.grant_type}:${err.error}`;
  stats.errors[g] = (stats.errors[g] || 0) + 1;
});
server.on('request', provider.callback());

// Rotation swaps the provider's key set in place, the way a restart with a
// new configuration would, but keeps its sessions, grants and tokens.
const { default: initializeKeystore } = await import(new URL('./helpers/initialize_keystore.js', import.meta.resolve('oidc-provider')));
function setKeys(next) {
  keys = next;
  initializeKeystore.call(provider, { keys });
}

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
out({ issuer, client_id: clientId, audience, kid: keys[0].kid, ...(webRedirect ? { web_client_id: webClientId } : {}) });

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  try {
    switch (line.trim()) {
      case 'rotate': setKeys([newSigningKey(), ...keys]); out({ rotated: keys[0].kid, published: keys.map((k) => k.kid) }); break;
      case 'retire': setKeys([keys[0]]); out({ published: keys.map((k) => k.kid) }); break;
      case 'stats': out(stats); break;
      case '': break;
      default: out({ error: `unknown command ${line}` });
    }
  } catch (err) {
    out({ error: String(err) });
  }
});
rl.on('close', () => process.exit(0));
