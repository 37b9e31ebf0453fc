// A real OpenID Connect provider (the oidc-provider package) for the portal's single sign-on
// tests. Started by the pytest fixture in tests/oidc/harness.py; prints one JSON line with its
// issuer once it listens on a free port of 127.0.0.1.
//
// Besides the provider's own endpoints (discovery, authorization, token, JWKS, dynamic client
// registration) it answers:
//   GET  /interaction/:uid         the sign-in page: an address and "Sign in" / "Cancel"
//   POST /interaction/:uid/login   sign in as the account with that address
//   POST /interaction/:uid/abort   cancel (the portal gets error=access_denied)
// and, for the tests only:
//   POST /test/accounts            add an account {sub, email, email_verified, name}
//   POST /test/next-id-token       make the next token response carry an ID token changed by
//                                  {claims: {...}, unset: [...], key: "provider"|"foreign",
//                                  kid: "..."}, signed with the provider's own key (or a
//                                  foreign one), so that the portal's checks refuse it
//   GET  /test/stats               how often the discovery document and the keys were fetched
// Consent is granted at once (first-party clients): the grant is made when none exists.

import crypto from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, decodeJwt } from 'jose';
import Provider from 'oidc-provider';

const accounts = new Map();
function addAccount({ sub, email, email_verified = true, name = '' }) {
  accounts.set(sub, { sub, email, email_verified, name });
}
for (const account of [
  { sub: 'amy', email: 'amy.chan@harbour-it.test', name: 'Amy Chan' },
  { sub: 'new-joiner', email: 'nina.ho@harbour-it.test', name: 'Nina Ho' },
  { sub: 'unverified', email: 'una.lee@harbour-it.test', email_verified: false, name: 'Una Lee' },
  { sub: 'outsider', email: 'oscar.wu@elsewhere.test', name: 'Oscar Wu' },
]) addAccount(account);

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const providerJwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const { privateKey: foreignKey } = await generateKeyPair('RS256', { extractable: true });

let nextIdToken = null;
const stats = { discovery: 0, jwks: 0, token: 0 };

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  jwks: { keys: [providerJwk] },
  cookies: { keys: [crypto.randomBytes(16).toString('hex')] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The ID token carries the claims of the scopes asked for, as most providers' do.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true },
  },
  pkce: { required: () => true },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: account.email, email_verified: account.email_verified, name: account.name };
      },
    };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
});

// Replace the ID token of the next token response when the test asked for it.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || ctx.status !== 200 || !nextIdToken || !ctx.body?.id_token) return;
  const change = nextIdToken;
  nextIdToken = null;
  const claims = { ...decodeJwt(ctx.body.id_token), ...(change.claims || {}) };
  for (const name of change.unset || []) delete claims[name];
  const key = change.key === 'foreign' ? foreignKey : privateKey;
  const kid = change.kid || providerJwk.kid;
  ctx.body = {
    ...ctx.body,
    id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key),
  };
});

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString();
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'End-User aborted interaction',
    }, { mergeWithLastSubmission: false });
  }
  if (action === 'login') {
    const form = new URLSearchParams(await readBody(req));
    const email = (form.get('email') || '').trim().toLowerCase();
    const account = [...accounts.values()].find((a) => a.email === email);
    if (account) {
      return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, {
        mergeWithLastSubmission: false,
      });
    }
  }
  const hint = details.params.login_hint || '';
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Test identity provider</h1>
<form method="post" action="/interaction/${uid}/login">
<label for="email">Company e-mail</label> <input id="email" name="email" value="${escape(hint)}">
<button type="submit">Sign in</button></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Cancel</button></form>
</main></body></html>`);
  return undefined;
}

async function testControl(req, res, path) {
  res.setHeader('Content-Type', 'application/json');
  if (req.method === 'GET' && path === '/test/stats') return res.end(JSON.stringify(stats));
  const body = JSON.parse((await readBody(req)) || '{}');
  if (path === '/test/accounts') addAccount(body);
  else if (path === '/test/next-id-token') nextIdToken = body;
  else { res.statusCode = 404; return res.end('{}'); }
  return res.end('{"ok": true}');
}

const callback = provider.callback();
server.on('request', async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  try {
    if (pathname === '/.well-known/openid-configuration') stats.discovery += 1;
    if (pathname === '/jwks') stats.jwks += 1;
    if (pathname === '/token') stats.token += 1;
    if (pathname.startsWith('/test/')) return await testControl(req, res, pathname);
    const match = pathname.match(/^\/interaction\/([^/]+)(?:\/(login|abort))?$/);
    if (match) return await interaction(req, res, match[1], req.method === 'POST' ? match[2] : null);
    return callback(req, res);
  } catch (error) {
    res.statusCode = 500;
    return res.end(String(error));
  }
});

// Gone with the test process that started it: its end of the pipe on standard input closes.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
