/**
 * The page's sign-in (docs/security.md: The web view). Locally, config.json has no `auth` and every call is a plain
 * fetch. Deployed, it signs in with the Cognito hosted UI's authorization code flow with PKCE (RFC 7636): the page
 * goes to the hosted UI with the SHA-256 of a random verifier, comes back with a code, and trades code and verifier
 * at `https://<domain>/oauth2/token` for tokens, which it keeps in sessionStorage (gone with the tab). Every call
 * then carries `Authorization: Bearer <access token>`, which the API's JWT authorizer checks (issuer the pool,
 * client the site's); a refused one (401) is retried once with refreshed tokens, else the page signs in again.
 * Nothing but the browser's own fetch, storage and crypto.subtle.
 */
import type { WebConfig } from '../../lib/web/contract';

export type AuthSettings = NonNullable<WebConfig['auth']>;

/** What the sign-in uses of the browser (the page passes nothing: browser() is the default). */
export interface Browser {
  readonly location: { readonly href: string; assign(url: string): void };
  readonly history: { replaceState(data: unknown, unused: string, url: string): void };
  readonly storage: { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void };
  readonly fetch: (input: string, init?: RequestInit) => Promise<Response>;
  readonly crypto: { getRandomValues(array: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer>; readonly subtle: { digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> } };
  readonly now: () => number;
}

/** The scopes the site's app client allows (lib/constructs/web-console.ts). */
export const SCOPES = ['openid', 'email', 'profile'] as const;
/** sessionStorage keys: the tokens, and the PKCE verifier and state of a sign-in under way. */
export const StorageKey = { Tokens: 'blast.auth.tokens', SignIn: 'blast.auth.sign-in' } as const;
/** A token this close to its expiry is refreshed before use. */
const EXPIRY_MARGIN_MS = 60_000;

export interface Tokens {
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

interface SignIn {
  readonly verifier: string;
  readonly state: string;
  /** Where the page was when sign-in began, to return to. */
  readonly returnTo: string;
}

export const base64Url = (bytes: Uint8Array): string => {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** A PKCE code verifier: 32 random bytes, 43 characters of base64url (RFC 7636 §4.1). */
export const codeVerifier = (crypto: Browser['crypto']): string => base64Url(crypto.getRandomValues(new Uint8Array(32)));

/** The S256 code challenge of a verifier: base64url(SHA-256(verifier)) (RFC 7636 §4.2). */
export const codeChallenge = async (verifier: string, crypto: Browser['crypto']): Promise<string> =>
  base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));

/** Where the hosted UI sends the page back: its own root, as the app client's callback URL says. */
export const redirectUri = (href: string): string => `${new URL(href).origin}/`;

/** The hosted UI's authorize URL for this sign-in. */
export const authorizeUrl = (auth: AuthSettings, params: { readonly redirectUri: string; readonly state: string; readonly challenge: string }): string => {
  const url = new URL(`https://${auth.domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: params.redirectUri,
    scope: SCOPES.join(' '),
    state: params.state,
    code_challenge: params.challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
};

/** The token endpoint's request: trading a code and its verifier, or a refresh token, for tokens (a public client: no secret). */
export const tokenRequest = (
  auth: AuthSettings,
  grant: { readonly code: string; readonly verifier: string; readonly redirectUri: string } | { readonly refreshToken: string },
): { url: string; init: RequestInit } => ({
  url: `https://${auth.domain}/oauth2/token`,
  init: {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(
      'code' in grant
        ? { grant_type: 'authorization_code', client_id: auth.clientId, code: grant.code, redirect_uri: grant.redirectUri, code_verifier: grant.verifier }
        : { grant_type: 'refresh_token', client_id: auth.clientId, refresh_token: grant.refreshToken },
    ).toString(),
  },
});

/** The browser the page runs in. */
export const browser = (): Browser => {
  const page = globalThis as unknown as { location: Browser['location']; history: Browser['history']; sessionStorage: Browser['storage'] };
  return {
    location: page.location,
    history: page.history,
    storage: page.sessionStorage,
    fetch: (input, init) => globalThis.fetch(input, init),
    crypto: globalThis.crypto,
    now: () => Date.now(),
  };
};

const readJson = <T>(storage: Browser['storage'], key: string, valid: (value: Record<string, unknown>) => boolean): T | undefined => {
  const text = storage.getItem(key);
  if (text === null) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && valid(value as Record<string, unknown>)) return value as T;
  } catch {
    // Unreadable: dropped below, as if absent.
  }
  storage.removeItem(key);
  return undefined;
};

export class SignInError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SignInError';
  }
}

/** One tab's sign-in with one app client: its tokens, and at most one exchange or refresh at a time. */
export class Session {
  private pending?: Promise<string>;

  constructor(
    private readonly auth: AuthSettings,
    private readonly page: Browser,
  ) {}

  /** A valid access token, after finishing a sign-in the page came back from or refreshing; otherwise the page leaves to sign in. */
  token(): Promise<string> {
    this.pending ??= this.obtain().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Drops the access token the API refused, keeping the refresh token: the next token() refreshes. */
  refused(): void {
    const tokens = this.tokens();
    if (tokens?.refreshToken) this.store({ accessToken: '', refreshToken: tokens.refreshToken, expiresAt: 0 });
    else this.page.storage.removeItem(StorageKey.Tokens);
  }

  /** Forgets the tokens and goes to the hosted UI to sign in; the returned promise never settles, as the page leaves. */
  async signIn(): Promise<never> {
    this.page.storage.removeItem(StorageKey.Tokens);
    const verifier = codeVerifier(this.page.crypto);
    const state = codeVerifier(this.page.crypto);
    const signIn: SignIn = { verifier, state, returnTo: this.page.location.href };
    this.page.storage.setItem(StorageKey.SignIn, JSON.stringify(signIn));
    const url = authorizeUrl(this.auth, { redirectUri: redirectUri(this.page.location.href), state, challenge: await codeChallenge(verifier, this.page.crypto) });
    this.page.location.assign(url);
    return new Promise<never>(() => undefined);
  }

  private async obtain(): Promise<string> {
    const returned = new URL(this.page.location.href).searchParams;
    const code = returned.get('code');
    if (code !== null) return this.finishSignIn(code, returned.get('state'));
    const tokens = this.tokens();
    if (tokens && tokens.accessToken && tokens.expiresAt - EXPIRY_MARGIN_MS > this.page.now()) return tokens.accessToken;
    if (tokens?.refreshToken) {
      const refreshed = await this.exchange({ refreshToken: tokens.refreshToken }).catch(() => undefined);
      if (refreshed) return refreshed;
    }
    return this.signIn();
  }

  private async finishSignIn(code: string, state: string | null): Promise<string> {
    const signIn = readJson<SignIn>(this.page.storage, StorageKey.SignIn, (value) => typeof value.verifier === 'string' && typeof value.state === 'string' && typeof value.returnTo === 'string');
    this.page.storage.removeItem(StorageKey.SignIn);
    // The code leaves the address bar (and the history) whatever happens next.
    const returnTo = signIn?.returnTo ?? redirectUri(this.page.location.href);
    this.page.history.replaceState(null, '', returnTo);
    // A code this tab did not ask for (no sign-in under way, or another state) is never traded.
    if (!signIn || state !== signIn.state) return this.signIn();
    const token = await this.exchange({ code, verifier: signIn.verifier, redirectUri: redirectUri(returnTo) }).catch((cause: unknown) => {
      throw new SignInError('the sign-in\'s code was not accepted', { cause });
    });
    return token;
  }

  /** Trades a code or a refresh token at the token endpoint and keeps the tokens; returns the access token. */
  private async exchange(grant: Parameters<typeof tokenRequest>[1]): Promise<string> {
    const { url, init } = tokenRequest(this.auth, grant);
    const response = await this.page.fetch(url, init);
    if (!response.ok) throw new SignInError(`the token endpoint answered ${response.status}`);
    const body = (await response.json()) as Record<string, unknown>;
    const { access_token: accessToken, refresh_token: refreshToken, expires_in: expiresIn } = body;
    if (typeof accessToken !== 'string' || typeof expiresIn !== 'number') throw new SignInError('the token endpoint\'s answer has no access token');
    // A refresh answers without a new refresh token: the one used stays valid.
    const kept = typeof refreshToken === 'string' ? refreshToken : 'refreshToken' in grant ? grant.refreshToken : undefined;
    this.store({ accessToken, ...(kept ? { refreshToken: kept } : {}), expiresAt: this.page.now() + expiresIn * 1000 });
    return accessToken;
  }

  private tokens(): Tokens | undefined {
    return readJson<Tokens>(this.page.storage, StorageKey.Tokens, (value) => typeof value.accessToken === 'string' && typeof value.expiresAt === 'number');
  }

  private store(tokens: Tokens): void {
    this.page.storage.setItem(StorageKey.Tokens, JSON.stringify(tokens));
  }
}

/** The page's own browser, made once, so that every call shares one session (one code exchange, one refresh). */
let thisPage: Browser | undefined;
const sessions = new WeakMap<Browser, Map<string, Session>>();
const sessionOf = (auth: AuthSettings, page: Browser): Session => {
  const ofPage = sessions.get(page) ?? new Map<string, Session>();
  sessions.set(page, ofPage);
  const key = `${auth.domain} ${auth.clientId}`;
  let session = ofPage.get(key);
  if (!session) ofPage.set(key, (session = new Session(auth, page)));
  return session;
};

/**
 * fetch for the page's API calls: plain fetch when config.json has no `auth` (local); otherwise with the signed-in
 * user's access token, signing in first when there is none, retried once after a refresh when the API answers 401.
 */
export const authorizedFetch = async (config: WebConfig, input: string, init: RequestInit = {}, page: Browser = (thisPage ??= browser())): Promise<Response> => {
  if (!config.auth) return page.fetch(input, init);
  const session = sessionOf(config.auth, page);
  const send = async () => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${await session.token()}`);
    return page.fetch(input, { ...init, headers });
  };
  const response = await send();
  if (response.status !== 401) return response;
  session.refused();
  const retried = await send();
  if (retried.status !== 401) return retried;
  return session.signIn();
};
