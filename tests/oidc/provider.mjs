// A real OAuth 2.0 / OpenID Connect server (npm oidc-provider) standing in for Amazon Cognito in
// the template's tests. Test-only: in-memory storage, a fresh RSA key per start, and the
// development login and consent pages that accept any login name.
//
//   node tests/oidc/provider.mjs CONFIG.json [PORT]      (PORT, or $OIDC_PROVIDER_PORT; 0 = any)
//
// Listens on 127.0.0.1 and prints exactly one line of JSON to stdout once it accepts requests:
//   {"issuer": "http://127.0.0.1:PORT", "port": PORT}
// Everything else (oidc-provider's notices, request errors) goes to stderr. SIGTERM or SIGINT
// close the server and exit 0. The configuration file (see tests/oidc_support.py):
//   {
//     "clients": [{"client_id", "client_secret", "redirect_uris", "token_endpoint_auth_method"?,
//                  "grant_types"? (default ["authorization_code", "refresh_token"]), "scope"?, ...}],
//     "scopes": ["openid", "offline_access", "sumar-plugin/invoke", ...],
//     "resource": {"indicator": URL, "audience"? (default indicator), "scope"? (default: the
//                  scopes other than openid and offline_access), "accessTokenTTL"? (s, default 3600)},
//     "resources"?: [more resources like "resource"; the first of all is the default resource],
//     "extraTokenClaims"?: {claims added to every access token, e.g. {"token_use": "access"}},
//     "claims"?: {scope: [claim, ...]} (default {"openid": ["sub"]}),
//     "ttl"?: {oidc-provider ttl values in seconds, e.g. {"AuthorizationCode": 60}}
//   }

import { createHash, generateKeyPair, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { promisify } from 'node:util';

// oidc-provider prints its notices with console.info (stdout): keep stdout for the one JSON line.
console.info = (...args) => console.error(...args);
console.log = (...args) => console.error(...args);

// RS256 signing key, new on every start; kid = its RFC 7638 thumbprint. Generating it takes a few
// hundred ms: it runs on libuv's thread pool while oidc-provider loads and the server binds.
const keyPromise = promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(({ privateKey }) => {
  const jwk = privateKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ e: jwk.e, kty: jwk.kty, n: jwk.n });
  const kid = createHash('sha256').update(canonical).digest('base64url');
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
});

const { default: Provider, errors } = await import('oidc-provider');
const { createMemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');

function fail(message) {
  console.error(`provider.mjs: ${message}`);
  process.exit(2);
}

const [configPath, portArg] = process.argv.slice(2);
if (!configPath) fail('usage: node provider.mjs CONFIG.json [PORT]');

let config;
try {
  config = JSON.parse(readFileSync(configPath, 'utf8'));
} catch (err) {
  fail(`cannot read the configuration ${configPath}: ${err.message}`);
}

const port = Number(portArg ?? process.env.OIDC_PROVIDER_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad port ${portArg}`);

const scopes = config.scopes ?? ['openid', 'offline_access'];
const oidcOnly = new Set(['openid', 'offline_access']);
const resources = [config.resource, ...(config.resources ?? [])].filter(Boolean).map((r) => {
  if (!r.indicator) fail('every resource needs an "indicator" (its URL)');
  return {
    indicator: r.indicator,
    audience: r.audience ?? r.indicator,
    scope: r.scope ?? scopes.filter((s) => !oidcOnly.has(s)).join(' '),
    accessTokenTTL: r.accessTokenTTL ?? 3600,
  };
});
const defaultIndicator = resources[0]?.indicator;

const clients = (config.clients ?? []).map((client) => ({
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  ...client,
}));

const escapeHtml = (value) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function configuration(signingKey) {
  return {
    adapter: createMemoryAdapter(),
    clients,
    scopes,
    claims: config.claims ?? { openid: ['sub'] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [signingKey] },
    ttl: {
      AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 3600,
      ClientCredentials: (ctx, token) => token.resourceServer?.accessTokenTTL ?? 600,
      RefreshToken: 14 * 24 * 60 * 60,
      IdToken: 3600,
      Interaction: 3600,
      Session: 14 * 24 * 60 * 60,
      Grant: 14 * 24 * 60 * 60,
      ...(config.ttl ?? {}),
    },
    pkce: { required: () => false }, // supported (S256), required of nobody: the upstream client is confidential
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // No `resource` on the authorization request: the configured default one.
        // Several candidates at the token endpoint: the default if among them.
        async defaultResource(ctx, client, oneOf) {
          if (oneOf) return oneOf.includes(defaultIndicator) ? defaultIndicator : oneOf[0];
          return defaultIndicator;
        },
        // No `resource` on the token request: the granted one (a JWT for the API, not an
        // opaque token for the userinfo endpoint).
        async useGrantedResource() {
          return true;
        },
        async getResourceServerInfo(ctx, indicator) {
          const found = resources.find((r) => r.indicator === indicator);
          if (!found) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
          return {
            scope: found.scope,
            audience: found.audience,
            accessTokenTTL: found.accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    // A refresh token whenever the client may use one, offline_access or not (like Cognito).
    async issueRefreshToken(ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    async extraTokenClaims() {
      return config.extraTokenClaims ?? undefined;
    },
    // Any login name is an account; its name is the subject.
    async findAccount(ctx, sub) {
      return { accountId: sub, async claims() { return { sub }; } };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = `<!DOCTYPE html><html><head><title>oidc-provider error</title></head><body>
<h1>oidc-provider error</h1>
${Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`).join('\n')}
</body></html>`;
    },
  };
}

const server = createServer();
server.on('error', (err) => fail(`cannot listen on 127.0.0.1:${port}: ${err.message}`));
server.listen(port, '127.0.0.1', async () => {
  const actual = server.address().port;
  const issuer = `http://127.0.0.1:${actual}`;
  let provider;
  try {
    provider = new Provider(issuer, configuration(await keyPromise));
    // oidc-provider checks static clients only when first used: check them now, so that a bad
    // client fails the start with its reason instead of the first authorization request.
    for (const { client_id: id } of clients) {
      try {
        await provider.Client.find(id);
      } catch (err) {
        throw new Error(`client ${id}: ${err.error_description ?? err.message}`);
      }
    }
  } catch (err) {
    fail(`bad configuration: ${err.error_description ?? err.message}`);
  }
  const log = (event) => (ctx, err) => {
    const detail = err?.error_description ? `${err.message}: ${err.error_description}` : err?.message ?? err;
    console.error(`provider.mjs: ${event} ${ctx?.method ?? ''} ${ctx?.path ?? ''}: ${detail}`);
  };
  provider.on('server_error', (ctx, err) => {
    log('server_error')(ctx, err);
    if (err?.stack) console.error(err.stack);
  });
  for (const event of ['authorization.error', 'grant.error', 'introspection.error', 'revocation.error',
    'userinfo.error', 'discovery.error', 'jwks.error', 'end_session.error']) {
    provider.on(event, log(event));
  }
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port: actual })}\n`);
});

function stop() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
