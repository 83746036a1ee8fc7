/**
 * The page's sign-in (web/src/auth.ts): PKCE as RFC 7636 defines it, the hosted UI's URLs, and authorizedFetch's
 * flow against a stand-in of the Cognito hosted UI's token endpoint that checks what Cognito checks (the code was
 * issued for this client and redirect URI, and the verifier hashes to the challenge it was issued for), and a
 * stand-in API that accepts only the access tokens the endpoint issued.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import type { WebConfig } from '../../lib/web/contract';
import { type Browser, SCOPES, StorageKey, authorizeUrl, authorizedFetch, base64Url, codeChallenge, codeVerifier, redirectUri, tokenRequest } from '../../web/src/auth';

const auth = { region: 'eu-west-1', userPoolId: 'eu-west-1_Abc', clientId: 'client123', domain: 'blast-123456789012.auth.eu-west-1.amazoncognito.com' };
const SITE = 'https://d111111abcdef8.cloudfront.net';
const API = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
const deployed: WebConfig = { apiUrl: API, auth };
const local: WebConfig = { apiUrl: 'http://127.0.0.1:8787' };

/** The hosted UI and its token endpoint, and the API behind the JWT authorizer, as far as the page sees them. */
class CognitoStandIn {
  readonly codes = new Map<string, { challenge: string; redirectUri: string }>();
  readonly accessTokens = new Set<string>();
  readonly refreshTokens = new Set<string>();
  readonly calls: string[] = [];

  /** What the hosted UI does after the user signs in: back to the redirect URI with a code for the challenge. */
  signIn(authorize: string): string {
    const url = new URL(authorize);
    const params = url.searchParams;
    expect(`${url.origin}${url.pathname}`).toBe(`https://${auth.domain}/oauth2/authorize`);
    expect(params.get('code_challenge_method')).toBe('S256');
    const code = randomBytes(8).toString('hex');
    this.codes.set(code, { challenge: params.get('code_challenge') ?? '', redirectUri: params.get('redirect_uri') ?? '' });
    return `${params.get('redirect_uri')}?code=${code}&state=${encodeURIComponent(params.get('state') ?? '')}`;
  }

  readonly fetch = async (input: string, init: RequestInit = {}): Promise<Response> => {
    if (input === `https://${auth.domain}/oauth2/token`) return this.token(new URLSearchParams(String(init.body)), new Headers(init.headers));
    const bearer = new Headers(init.headers).get('authorization');
    this.calls.push(`${init.method ?? 'GET'} ${input} ${bearer ?? 'no token'}`);
    if (input.startsWith(API) && !(bearer?.startsWith('Bearer ') && this.accessTokens.has(bearer.slice('Bearer '.length)))) return new Response('{"message":"Unauthorized"}', { status: 401 });
    return Response.json({ ok: true });
  };

  private token(form: URLSearchParams, headers: Headers): Response {
    expect(headers.get('content-type')).toBe('application/x-www-form-urlencoded');
    if (form.get('client_id') !== auth.clientId) return Response.json({ error: 'invalid_client' }, { status: 400 });
    if (form.get('grant_type') === 'refresh_token') {
      if (!this.refreshTokens.has(form.get('refresh_token') ?? '')) return Response.json({ error: 'invalid_grant' }, { status: 400 });
      return Response.json({ access_token: this.issue(), expires_in: 3600, token_type: 'Bearer' });
    }
    const issued = this.codes.get(form.get('code') ?? '');
    this.codes.delete(form.get('code') ?? '');
    const verifier = form.get('code_verifier') ?? '';
    const hashed = createHash('sha256').update(verifier).digest('base64url');
    if (form.get('grant_type') !== 'authorization_code' || !issued || issued.challenge !== hashed || issued.redirectUri !== form.get('redirect_uri')) {
      return Response.json({ error: 'invalid_grant' }, { status: 400 });
    }
    const refresh = randomBytes(8).toString('hex');
    this.refreshTokens.add(refresh);
    return Response.json({ access_token: this.issue(), id_token: 'id', refresh_token: refresh, expires_in: 3600, token_type: 'Bearer' });
  }

  private issue(): string {
    const token = randomBytes(8).toString('hex');
    this.accessTokens.add(token);
    return token;
  }
}

/**
 * A browser tab: its sessionStorage and clock outlive each page load; each load (the first, the hosted UI's
 * redirect back) is a new page, with its own address and a fresh copy of the script, as in a browser.
 */
class Tab {
  readonly stored = new Map<string, string>();
  /** Where the page sent the tab (the hosted UI). */
  readonly visited: string[] = [];
  page: Browser & { href: string };
  private now = Date.parse('2026-12-03T12:00:00Z');

  constructor(
    private readonly cognito: CognitoStandIn,
    href = `${SITE}/#/transients/2010H`,
  ) {
    this.page = this.load(href);
  }

  load(href: string): Browser & { href: string } {
    const page: Browser & { href: string } = {
      href,
      location: {
        get href() {
          return page.href;
        },
        assign: (url: string) => {
          this.visited.push(url);
        },
      },
      history: {
        replaceState: (_data: unknown, _unused: string, url: string) => {
          page.href = new URL(url, page.href).toString();
        },
      },
      storage: { getItem: (key) => this.stored.get(key) ?? null, setItem: (key, value) => void this.stored.set(key, value), removeItem: (key) => void this.stored.delete(key) },
      fetch: this.cognito.fetch,
      crypto: globalThis.crypto,
      now: () => this.now,
    };
    this.page = page;
    return page;
  }

  later(ms: number): void {
    this.now += ms;
  }
}

/** Until the tab has left for the hosted UI `count` times (the redirect follows an asynchronous digest). */
const leftFor = (visited: readonly string[], count: number) => vi.waitFor(() => expect(visited).toHaveLength(count), { timeout: 5_000 });

/** A tab that has signed in through the hosted UI and made one call with its tokens. */
const signedIn = async () => {
  const cognito = new CognitoStandIn();
  const tab = new Tab(cognito);
  const { visited } = tab;
  void authorizedFetch(deployed, `${API}/transients`, {}, tab.page);
  await leftFor(visited, 1);
  const page = tab.load(cognito.signIn(visited[0] ?? ''));
  await authorizedFetch(deployed, `${API}/transients`, {}, page);
  return { cognito, tab, visited, page };
};

describe('Web sign-in: PKCE', () => {
  it('computes the S256 challenge as base64url(SHA-256(verifier)), without padding, as an independent digest does', async () => {
    // The pair was checked with `printf %s "$verifier" | openssl dgst -sha256 -binary | base64 | tr "+/" "-_" | tr -d "="`.
    const verifier = 'dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk';
    await expect(codeChallenge(verifier, globalThis.crypto)).resolves.toBe('ngF5GsXcbwljx6u133FFr3Xht9xooA_DuaX_3QwODtc');
    const other = codeVerifier(globalThis.crypto);
    await expect(codeChallenge(other, globalThis.crypto)).resolves.toBe(createHash('sha256').update(other).digest('base64url'));
  });

  it('makes verifiers of 43 base64url characters, a new one each time', () => {
    const verifiers = Array.from({ length: 20 }, () => codeVerifier(globalThis.crypto));
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(verifiers).size).toBe(verifiers.length);
    expect(base64Url(new Uint8Array([251, 255, 191]))).toBe('-_-_');
  });
});

describe('Web sign-in: the hosted UI\'s URLs', () => {
  it('asks the hosted UI for a code for the site\'s client, back to the site\'s root, with the challenge', () => {
    const url = new URL(authorizeUrl(auth, { redirectUri: redirectUri(`${SITE}/#/runners`), state: 's1', challenge: 'c1' }));
    expect(`${url.origin}${url.pathname}`).toBe(`https://${auth.domain}/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: auth.clientId,
      redirect_uri: `${SITE}/`,
      scope: SCOPES.join(' '),
      state: 's1',
      code_challenge: 'c1',
      code_challenge_method: 'S256',
    });
  });

  it('trades a code with its verifier, or a refresh token, at the token endpoint, without a client secret', () => {
    const code = tokenRequest(auth, { code: 'k', verifier: 'v', redirectUri: `${SITE}/` });
    expect(code.url).toBe(`https://${auth.domain}/oauth2/token`);
    expect(code.init.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(String(code.init.body)))).toEqual({
      grant_type: 'authorization_code',
      client_id: auth.clientId,
      code: 'k',
      redirect_uri: `${SITE}/`,
      code_verifier: 'v',
    });
    expect(Object.fromEntries(new URLSearchParams(String(tokenRequest(auth, { refreshToken: 'r' }).init.body)))).toEqual({
      grant_type: 'refresh_token',
      client_id: auth.clientId,
      refresh_token: 'r',
    });
  });
});

describe('Web sign-in: authorizedFetch', () => {
  it('is a plain fetch, with no token, when config.json has no auth (local)', async () => {
    const cognito = new CognitoStandIn();
    const { page, visited } = new Tab(cognito, 'http://127.0.0.1:8787/');
    const response = await authorizedFetch(local, `${local.apiUrl}/transients`, {}, page);
    expect(response.status).toBe(200);
    expect(cognito.calls).toEqual([`GET ${local.apiUrl}/transients no token`]);
    expect(visited).toEqual([]);
  });

  it('signs in through the hosted UI, trades the code with its verifier, and calls the API with the access token', async () => {
    // Prepare: a tab with no tokens
    const cognito = new CognitoStandIn();
    const tab = new Tab(cognito);
    const { stored, visited } = tab;

    // Act 1: the first call leaves for the hosted UI
    void authorizedFetch(deployed, `${API}/transients`, {}, tab.page);
    await leftFor(visited, 1);

    // Assess 1: no call reached the API; the verifier and state wait in sessionStorage
    expect(cognito.calls).toEqual([]);
    expect(stored.has(StorageKey.SignIn)).toBe(true);

    // Act 2: the hosted UI sends the tab back with a code; the page loads again and calls
    const page = tab.load(cognito.signIn(visited[0] ?? ''));
    const [first, second] = await Promise.all([authorizedFetch(deployed, `${API}/transients`, {}, page), authorizedFetch(deployed, `${API}/runners`, {}, page)]);

    // Assess 2: one exchange served both calls, the code left the address bar, the tokens are kept for the tab
    expect([first?.status, second?.status]).toEqual([200, 200]);
    expect(cognito.calls).toHaveLength(2);
    for (const call of cognito.calls) expect(call).toMatch(/ Bearer [0-9a-f]{16}$/);
    expect(page.href).toBe(`${SITE}/#/transients/2010H`);
    expect(stored.has(StorageKey.SignIn)).toBe(false);
    expect(JSON.parse(stored.get(StorageKey.Tokens) ?? '{}')).toEqual(expect.objectContaining({ accessToken: expect.any(String), refreshToken: expect.any(String) }));
  });

  it('refuses to trade a code whose state is not the one this tab sent, and signs in again', async () => {
    // Prepare: a sign-in under way, and a return with someone else's state
    const cognito = new CognitoStandIn();
    const tab = new Tab(cognito);
    const { visited } = tab;
    void authorizedFetch(deployed, `${API}/transients`, {}, tab.page);
    await leftFor(visited, 1);
    const back = new URL(cognito.signIn(visited[0] ?? ''));
    back.searchParams.set('state', 'forged');

    // Act
    void authorizedFetch(deployed, `${API}/transients`, {}, tab.load(back.toString()));
    await leftFor(visited, 2);

    // Assess: the code was not traded (it is still unused) and the tab went to sign in again
    expect(cognito.codes.size).toBe(1);
    expect(cognito.calls).toEqual([]);
  });

  it('refreshes the tokens when the API refuses the access token, and retries once', async () => {
    // Prepare: signed in
    const { cognito, visited, page } = await signedIn();
    cognito.accessTokens.clear(); // e.g. revoked, or the clocks disagree

    // Act
    const response = await authorizedFetch(deployed, `${API}/transients/2010H/retrigger`, { method: 'POST' }, page);

    // Assess
    expect(response.status).toBe(200);
    expect(cognito.calls.slice(1).map((call) => call.split(' ').slice(0, 2).join(' '))).toEqual([`POST ${API}/transients/2010H/retrigger`, `POST ${API}/transients/2010H/retrigger`]);
    expect(visited).toHaveLength(1);
  });

  it('refreshes an access token near its expiry before using it, and signs in again when the refresh is refused', async () => {
    // Prepare: signed in, then an hour later
    const { cognito, tab, visited, page } = await signedIn();
    tab.later(3_600_000);

    // Act + Assess: refreshed without a 401
    await authorizedFetch(deployed, `${API}/runners`, {}, page);
    expect(cognito.calls.filter((call) => call.includes('/runners'))).toHaveLength(1);

    // Act + Assess: the refresh token no longer accepted → back to the hosted UI
    cognito.refreshTokens.clear();
    tab.later(3_600_000);
    void authorizedFetch(deployed, `${API}/runners`, {}, page);
    await leftFor(visited, 2);
  });
});
