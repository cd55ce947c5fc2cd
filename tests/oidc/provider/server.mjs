// A real OpenID Connect provider for the tests: node-oidc-provider with one static client
// (the Django app), a few synthetic accounts and a login page of its own that checks a
// password. Consent is not asked: the municipality's own IdP grants its first-party app.
//
//   node server.mjs --port 54321 --redirect-uri http://testserver/oidc/callback/
//
// Prints "listening <issuer>" once it accepts connections; stops on SIGTERM.
// Nothing here is a real person or a real secret.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    'redirect-uri': { type: 'string', multiple: true, default: [] },
    'client-id': { type: 'string', default: 'robotfabrik-test' },
    'client-secret': { type: 'string', default: 'robotfabrik-test-secret-0123456789abcdef' },
  },
});
if (!args.port || args['redirect-uri'].length === 0) {
  console.error('usage: node server.mjs --port N --redirect-uri URI [--redirect-uri URI]');
  process.exit(2);
}

// Synthetic accounts (login → password, subject and claims). "okand" is known to the
// provider but to no Robotfabrik account: the app must refuse it.
const ACCOUNTS = {
  anna: { password: 'idp-anna-2026', sub: 'kommun-7f3a-anna', name: 'Anna Andersson' },
  maria: { password: 'idp-maria-2026', sub: 'kommun-22c1-maria', name: 'Maria Berg' },
  okand: { password: 'idp-okand-2026', sub: 'kommun-9999-okand', name: 'Okänd Person' },
};
const BY_SUB = Object.fromEntries(Object.entries(ACCOUNTS).map(([login, a]) => [a.sub, { login, ...a }]));

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

const issuer = `http://${args.host}:${args.port}`;
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      redirect_uris: args['redirect-uri'],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      // auth_time in every ID token: the app records when the person really logged in.
      require_auth_time: true,
    },
  ],
  jwks: { keys: [jwk] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  claims: { openid: ['sub', 'auth_time'], email: ['email'], profile: ['name'] },
  scopes: ['openid', 'email', 'profile'],
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const account = BY_SUB[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, name: account.name, email: `${account.login}@idp.kommun.example` };
      },
    };
  },
  // The first-party app is granted what it asks for: no consent page (see the recipe
  // "skip consent" of node-oidc-provider).
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, AuthorizationCode: 60, IdToken: 600 },
});

function page(title, body) {
  return `<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>${title}</title></head>`
    + `<body><h1>${title}</h1>${body}</body></html>`;
}

function loginForm(uid, error = '') {
  return page('Kommunens e-legitimation', `${error ? `<p role="alert">${error}</p>` : ''}`
    + `<form method="post" action="/interaction/${uid}/login">`
    + '<label>Användarnamn <input name="login" autocomplete="username"></label>'
    + '<label>Lösenord <input name="password" type="password" autocomplete="current-password"></label>'
    + '<button type="submit">Logga in</button></form>');
}

async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// The login interaction: GET shows the form, POST checks the password and finishes.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const [, uid, login] = match;
  ctx.set('cache-control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = page('Inloggningen har gått ut', `<p>${err.message}</p>`);
    return undefined;
  }
  if (details.uid !== uid) {
    ctx.status = 400;
    ctx.body = 'interaction mismatch';
    return undefined;
  }
  if (ctx.method === 'GET' && !login) {
    ctx.type = 'html';
    ctx.body = loginForm(uid);
    return undefined;
  }
  if (ctx.method === 'POST' && login) {
    const form = await formBody(ctx.req);
    const account = ACCOUNTS[form.get('login') || ''];
    if (!account || account.password !== form.get('password')) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginForm(uid, 'Fel användarnamn eller lösenord.');
      return undefined;
    }
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
    return undefined;
  }
  ctx.status = 405;
  return undefined;
});

const server = provider.listen(Number(args.port), args.host, () => {
  console.log(`listening ${issuer}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
