/** One request to the web view's API, as the local server and the Lambda adapter both hand it over. */
export interface WebApiRequest {
  readonly method: string;
  /** The path below the API's base, e.g. `/transients`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Who calls: only an operator may use the controls (retrigger, reprocess, redrive, pause, resume). */
  readonly caller: { readonly operator: boolean; readonly name?: string };
}

export interface WebApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type WebApi = (request: WebApiRequest) => Promise<WebApiResponse>;

/** config.json, next to index.html: where the page's API is and, when deployed, how to sign in. */
export interface WebConfig {
  readonly apiUrl: string;
  readonly auth?: { readonly region: string; readonly userPoolId: string; readonly clientId: string; readonly domain: string };
}
