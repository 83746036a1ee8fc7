/**
 * The web view's settings that the stack deploys and the code reads: the Cognito group whose members may use the
 * controls, the API function's size, and the Content-Security-Policy the page is served with (CloudFront's
 * response headers policy on AWS; the local server may send the same one).
 */

/** The Cognito user-pool group whose members may use the controls; the API reads it from the `cognito:groups` claim. */
export const OPERATORS_GROUP = 'operators';

/** The API's function: API Gateway's HTTP API waits at most 30 s for an integration, so the function stops before. */
export const webApiSettings = { timeoutSeconds: 29, memorySize: 512 } as const;

/** Requests per second the API accepts, on average and in a burst, before API Gateway answers 429. */
export const webApiThrottle = { rateLimit: 50, burstLimit: 100 } as const;

export interface PageOrigins {
  /** Where the page's API is, as a CSP source: an origin (`https://api.example.org`) or a host pattern. */
  readonly api: string;
  /** The Cognito hosted UI's origin, whose token endpoint the page calls. @default none (local: no sign-in) */
  readonly signIn?: string;
}

/**
 * The page's Content-Security-Policy: its own scripts, styles, images and fonts only, no plugins, no framing, no
 * inline script, and calls only to itself, its API and the sign-in's token endpoint.
 */
export const contentSecurityPolicy = (origins: PageOrigins): string =>
  [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "manifest-src 'self'",
    `connect-src ${["'self'", origins.api, ...(origins.signIn ? [origins.signIn] : [])].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
