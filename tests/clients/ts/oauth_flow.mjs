// Headless OAuth 2.1 + MCP client built on the official MCP TypeScript SDK.
//
// Proves that an unmodified SDK client can: get a 401 from the MCP endpoint, discover the
// protected resource metadata (RFC 9728) and the authorization server metadata (RFC 8414),
// register itself (RFC 7591), run the authorization-code flow with PKCE S256 through a
// headless "browser" (sign-in and consent forms submitted in code), redeem the code, call
// initialize + tools/list, refresh its token through the SDK's own auth() and list tools
// again with the refreshed token.
//
// Env: MCP_URL (required), TOOLGATE_USER (required), CLIENT_NAME (optional).
// stdout: one JSON line on success. stderr: progress. Exit non-zero on any failure.
// Tokens, codes and secrets are never printed.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { randomBytes } from 'node:crypto';

const MCP_URL = process.env.MCP_URL;
const USER = process.env.TOOLGATE_USER;
const CLIENT_NAME = process.env.CLIENT_NAME || 'toolgate ts sdk test';
// Nothing listens here: the walk stops at the redirect to this URI and reads its query.
const REDIRECT_URI = 'http://127.0.0.1:8976/callback';
const MAX_HOPS = 15;
const HTTP_TIMEOUT_MS = 20000;
const OVERALL_TIMEOUT_MS = 120000;

const log = (...args) => console.error('[ts-oauth]', ...args);

class FlowError extends Error {}

function fail(message) {
  throw new FlowError(message);
}

// ---------------------------------------------------------------------------------------
// Tiny headless browser: cookie jar + manual redirects + HTML form submission.
// ---------------------------------------------------------------------------------------

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

// Cookies keyed by name only. `Secure`, `Domain` and the port are deliberately ignored: the
// server sets `__Host-` cookies with `Secure` over plain http on loopback, which a real
// browser accepts (loopback counts as a secure context) but fetch has no jar for anyway.
class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  store(response) {
    const lines = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : [];
    for (const line of lines) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'max-age' && Number(v.trim()) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v.trim()) <= Date.now()) expired = true;
      }
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(url) {
    if (!LOOPBACK.has(url.hostname) || this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function decodeEntities(s) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (m, ent) => {
    if (ent[0] === '#') {
      const cp = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return Number.isFinite(cp) ? String.fromCodePoint(cp) : m;
    }
    return Object.hasOwn(named, ent.toLowerCase()) ? named[ent.toLowerCase()] : m;
  });
}

// Attributes of one start tag, in any order; values double- or single-quoted (or bare).
function attrsOf(tag) {
  const out = {};
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  const inner = tag.replace(/^<\s*[a-zA-Z]+/, '').replace(/\/?>$/, '');
  let m;
  while ((m = re.exec(inner)) !== null) {
    out[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

function pageSummary(html) {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const text = html.replace(/\s+/g, ' ').slice(0, 300);
  return `title=${JSON.stringify(title ? decodeEntities(title[1].trim()) : null)} body=${JSON.stringify(text)}`;
}

// Decides how to submit the first form of a page: sign in as `user`, or approve consent.
function formSubmission(html, pageUrl, user) {
  const formMatch = /<form\b[^>]*>([\s\S]*?)<\/form\s*>/i.exec(html);
  if (!formMatch) fail(`page ${pageUrl.pathname} has no <form>: ${pageSummary(html)}`);
  const formTag = /<form\b[^>]*>/i.exec(formMatch[0])[0];
  const form = attrsOf(formTag);
  const body = formMatch[1];
  const fields = new URLSearchParams();
  for (const tag of body.match(/<input\b[^>]*>/gi) ?? []) {
    const a = attrsOf(tag);
    if ((a.type ?? 'text').toLowerCase() === 'hidden' && a.name) fields.append(a.name, a.value ?? '');
  }
  const buttons = (body.match(/<button\b[^>]*>/gi) ?? []).map(attrsOf);
  let kind;
  if (buttons.some((b) => b.name === 'username')) {
    if (!buttons.some((b) => b.name === 'username' && b.value === user)) {
      const offered = buttons.filter((b) => b.name === 'username').map((b) => b.value);
      fail(`sign-in page offers no button for user ${JSON.stringify(user)} (offers ${JSON.stringify(offered)})`);
    }
    fields.append('username', user);
    kind = 'sign-in';
  } else if (buttons.some((b) => b.name === 'decision' && b.value === 'approve')) {
    fields.append('decision', 'approve');
    kind = 'consent';
  } else {
    fail(`unrecognised form on ${pageUrl.pathname}: ${pageSummary(html)}`);
  }
  const action = new URL(form.action || pageUrl.href, pageUrl);
  const method = (form.method || 'get').toUpperCase();
  return { kind, action, method, fields };
}

function isRedirectUri(url) {
  const target = new URL(REDIRECT_URI);
  return url.origin === target.origin && url.pathname === target.pathname;
}

// Walks from the authorization URL to the redirect back to REDIRECT_URI and returns its
// query parameters. Never fetches REDIRECT_URI itself.
async function headlessAuthorize(authorizationUrl, user) {
  const jar = new CookieJar();
  let url = new URL(authorizationUrl);
  let method = 'GET';
  let body;
  const steps = [];
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    if (isRedirectUri(url)) {
      log(`walk: ${steps.join(' -> ')} -> client redirect URI`);
      const q = url.searchParams;
      if (q.get('error')) {
        fail(`authorization failed: error=${q.get('error')}` +
          (q.get('error_description') ? ` (${q.get('error_description')})` : ''));
      }
      if (!q.get('code')) fail('authorization redirect carried neither code nor error');
      return { code: q.get('code'), state: q.get('state'), iss: q.get('iss') };
    }
    const headers = {};
    const cookie = jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
    jar.store(response);
    steps.push(`${method} ${url.pathname} ${response.status}`);
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (!location) fail(`${response.status} from ${url.pathname} without Location`);
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
      continue;
    }
    const text = await response.text();
    const ctype = response.headers.get('content-type') || '';
    if (response.status !== 200 || !ctype.includes('html')) {
      fail(`unexpected ${response.status} (${ctype}) from ${method} ${url.pathname}: ${pageSummary(text)}`);
    }
    const sub = formSubmission(text, url, user);
    steps[steps.length - 1] += ` [${sub.kind} form]`;
    if (sub.method === 'POST') {
      url = sub.action;
      method = 'POST';
      body = sub.fields.toString();
    } else {
      url = sub.action;
      for (const [k, v] of sub.fields) url.searchParams.append(k, v);
      method = 'GET';
      body = undefined;
    }
  }
  fail(`authorization walk exceeded ${MAX_HOPS} hops: ${steps.join(' -> ')}`);
}

// ---------------------------------------------------------------------------------------
// OAuthClientProvider with in-memory storage.
// ---------------------------------------------------------------------------------------

class InMemoryOAuthProvider {
  constructor(user) {
    this.user = user;
    this._clientInformation = undefined;
    this._tokens = undefined;
    this._codeVerifier = undefined;
    this._discoveryState = undefined;
    this._state = undefined;
    this.allowInteractive = true;
    this.authorizationResult = undefined;
    this.authorizationRequest = undefined;
  }

  get redirectUrl() {
    return REDIRECT_URI;
  }

  get clientMetadata() {
    return {
      client_name: CLIENT_NAME,
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state() {
    this._state = randomBytes(24).toString('base64url');
    return this._state;
  }

  clientInformation() {
    return this._clientInformation;
  }

  saveClientInformation(info) {
    this._clientInformation = info;
  }

  tokens() {
    return this._tokens;
  }

  saveTokens(tokens) {
    this._tokens = tokens;
  }

  saveCodeVerifier(verifier) {
    this._codeVerifier = verifier;
  }

  codeVerifier() {
    if (!this._codeVerifier) throw new Error('no code verifier saved');
    return this._codeVerifier;
  }

  saveDiscoveryState(state) {
    this._discoveryState = state;
  }

  discoveryState() {
    return this._discoveryState;
  }

  invalidateCredentials(scope) {
    if (scope === 'all' || scope === 'client') this._clientInformation = undefined;
    if (scope === 'all' || scope === 'tokens') this._tokens = undefined;
    if (scope === 'all' || scope === 'verifier') this._codeVerifier = undefined;
    if (scope === 'all' || scope === 'discovery') this._discoveryState = undefined;
  }

  async redirectToAuthorization(authorizationUrl) {
    if (!this.allowInteractive) {
      fail('the SDK asked for a new interactive authorization where a token refresh was expected');
    }
    const q = authorizationUrl.searchParams;
    this.authorizationRequest = {
      scope: q.get('scope'),
      resource: q.get('resource'),
      code_challenge_method: q.get('code_challenge_method'),
    };
    log(`SDK redirects to ${authorizationUrl.origin}${authorizationUrl.pathname} ` +
      `(scope=${JSON.stringify(q.get('scope'))}, resource=${JSON.stringify(q.get('resource'))}, ` +
      `code_challenge_method=${q.get('code_challenge_method')})`);
    this.authorizationResult = await headlessAuthorize(authorizationUrl, this.user);
  }
}

// ---------------------------------------------------------------------------------------
// fetch wrapper handed to the SDK: records which token grants were used and which bearer
// each MCP request carried (kept in memory only, never printed).
// ---------------------------------------------------------------------------------------

const record = { tokenGrants: [], mcpBearers: [] };

function bodyParam(body, name) {
  if (body instanceof URLSearchParams) return body.get(name);
  if (typeof body === 'string') {
    try {
      return new URLSearchParams(body).get(name);
    } catch {
      return null;
    }
  }
  return null;
}

async function recordingFetch(input, init) {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const method = (init?.method || (input instanceof Request ? input.method : 'GET')).toUpperCase();
  if (method === 'POST' && init?.body !== undefined) {
    const grant = bodyParam(init.body, 'grant_type');
    if (grant) record.tokenGrants.push({ endpoint: `${url.origin}${url.pathname}`, grant, resource: bodyParam(init.body, 'resource') });
    if (url.href === new URL(MCP_URL).href && typeof init.body === 'string') {
      let rpcMethod = null;
      try {
        rpcMethod = JSON.parse(init.body).method ?? null;
      } catch {
        // not JSON
      }
      const h = new Headers(init.headers);
      record.mcpBearers.push({ method: rpcMethod, bearer: (h.get('authorization') || '').replace(/^Bearer\s+/i, '') });
    }
  }
  return fetch(input, init);
}

// ---------------------------------------------------------------------------------------

async function listToolNames(client) {
  const names = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : undefined);
    names.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  return names.sort();
}

function newClient() {
  return new Client({ name: 'toolgate-ts-oauth-test', version: '1.0.0' }, { capabilities: {} });
}

async function main() {
  if (!MCP_URL) fail('MCP_URL is not set');
  if (!USER) fail('TOOLGATE_USER is not set');
  const serverUrl = new URL(MCP_URL);
  const provider = new InMemoryOAuthProvider(USER);

  // 1. Unauthenticated connect: 401 -> discovery -> DCR -> redirectToAuthorization (headless walk).
  log(`connecting to ${serverUrl.href} without a token`);
  const firstTransport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider, fetch: recordingFetch });
  const firstClient = newClient();
  try {
    await firstClient.connect(firstTransport);
    fail('the MCP endpoint accepted a connection without a token (expected 401)');
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  } finally {
    await firstClient.close().catch(() => {});
  }
  const clientInfo = provider.clientInformation();
  if (!clientInfo?.client_id) fail('the SDK did not register a client');
  const authResult = provider.authorizationResult;
  if (!authResult) fail('the SDK never asked for authorization');
  log(`registered client ${clientInfo.client_id}; authorization code received`);

  if (provider._state && authResult.state !== provider._state) fail('state mismatch on the authorization redirect');
  const asMetadata = provider.discoveryState()?.authorizationServerMetadata;
  if (!asMetadata) fail('no authorization server metadata was discovered');
  let issChecked = false;
  if (authResult.iss !== null && authResult.iss !== undefined) {
    if (authResult.iss !== asMetadata.issuer) {
      fail(`authorization response iss ${JSON.stringify(authResult.iss)} != metadata issuer ${JSON.stringify(asMetadata.issuer)}`);
    }
    issChecked = true;
  } else if (asMetadata.authorization_response_iss_parameter_supported === true) {
    // RFC 9207 §2.4: a client MUST reject a response without iss from a server that advertises it.
    fail('authorization response carried no iss although the metadata advertises authorization_response_iss_parameter_supported');
  } else {
    log('authorization response carried no iss parameter');
  }

  // 2. Code -> tokens (authorization_code + PKCE), by the SDK.
  await firstTransport.finishAuth(authResult.code);
  const firstTokens = provider.tokens();
  if (!firstTokens?.access_token) fail('no access token after finishAuth');
  if (!firstTokens.refresh_token) fail('the token response carried no refresh_token');
  if (!record.tokenGrants.some((g) => g.grant === 'authorization_code')) fail('no authorization_code grant was recorded');
  log('tokens obtained (authorization_code + PKCE)');

  // 3. Authenticated MCP session: initialize + tools/list.
  const transport = new StreamableHTTPClientTransport(serverUrl, { authProvider: provider, fetch: recordingFetch });
  const client = newClient();
  await client.connect(transport);
  log(`initialized: server ${JSON.stringify(client.getServerVersion()?.name)} session ${transport.sessionId ? 'assigned' : 'none'}`);
  const tools = await listToolNames(client);
  log(`tools/list: ${tools.length} tools`);

  // 4. Refresh through the SDK: auth() with stored tokens carrying a refresh_token runs the
  // refresh_token grant (no interactive step allowed from here on).
  provider.allowInteractive = false;
  const grantsBefore = record.tokenGrants.length;
  const result = await auth(provider, { serverUrl, fetchFn: recordingFetch });
  if (result !== 'AUTHORIZED') fail(`auth() returned ${result} instead of AUTHORIZED on refresh`);
  const refreshGrants = record.tokenGrants.slice(grantsBefore).filter((g) => g.grant === 'refresh_token');
  const refreshed = refreshGrants.length > 0;
  if (!refreshed) fail('auth() did not use the refresh_token grant');
  const secondTokens = provider.tokens();
  const tokenChanged = Boolean(secondTokens?.access_token) && secondTokens.access_token !== firstTokens.access_token;
  if (!tokenChanged) fail('the access token did not change after the refresh');
  log(`refreshed via ${refreshGrants[0].endpoint} (resource=${JSON.stringify(refreshGrants[0].resource)})`);

  // 5. tools/list again; it must go out with the refreshed token.
  const bearersBefore = record.mcpBearers.length;
  const toolsAfter = await listToolNames(client);
  const listCalls = record.mcpBearers.slice(bearersBefore).filter((r) => r.method === 'tools/list');
  if (listCalls.length === 0 || listCalls.some((r) => r.bearer !== secondTokens.access_token)) {
    fail('tools/list after the refresh was not sent with the refreshed access token');
  }
  log(`tools/list after refresh: ${toolsAfter.length} tools`);
  await transport.terminateSession().catch(() => {});
  await client.close().catch(() => {});

  process.stdout.write(JSON.stringify({
    client_id: clientInfo.client_id,
    tools,
    tools_after_refresh: toolsAfter,
    refreshed,
    token_changed: tokenChanged,
    iss_checked: issChecked,
  }) + '\n');
}

const timer = setTimeout(() => {
  log(`FAILED: timed out after ${OVERALL_TIMEOUT_MS} ms`);
  process.exit(3);
}, OVERALL_TIMEOUT_MS);
timer.unref();

try {
  await main();
  process.exit(0);
} catch (error) {
  const detail = error instanceof FlowError ? error.message : `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
  log(`FAILED: ${detail}`);
  if (error?.cause) log(`  cause: ${error.cause?.message ?? error.cause}`);
  process.exit(1);
}
