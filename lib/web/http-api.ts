/**
 * API Gateway's HTTP API (payload format 2.0) with a JWT authorizer, adapted to the web view's API: the request
 * as a WebApiRequest (operator: the token's `cognito:groups` claim holds the operators' group), the answer as the
 * structured result API Gateway expects.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { OPERATORS_GROUP } from '../settings/web-view';
import type { WebApi, WebApiRequest, WebApiResponse } from './contract';

/**
 * The groups of a `cognito:groups` claim. API Gateway hands JWT claims over as strings, an array claim as
 * `[a b]`; a JSON array is taken too.
 */
export const groupsOf = (claim: unknown): string[] => {
  if (Array.isArray(claim)) return claim.filter((group): group is string => typeof group === 'string');
  if (typeof claim !== 'string') return [];
  return claim
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((group) => group.replace(/^"|"$/g, ''))
    .filter((group) => group.length > 0);
};

export const requestFromHttpApi = (event: APIGatewayProxyEventV2WithJWTAuthorizer): WebApiRequest => {
  const { stage, http } = event.requestContext;
  // A named stage's path starts with it; the $default stage's does not.
  const path = stage && stage !== '$default' && event.rawPath.startsWith(`/${stage}/`) ? event.rawPath.slice(stage.length + 1) : event.rawPath;
  const claims = event.requestContext.authorizer?.jwt?.claims ?? {};
  const query = Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).flatMap(([key, value]) => (value === undefined ? [] : [[key, value]])));
  const body = event.body === undefined ? undefined : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const name = claims['cognito:username'] ?? claims.username ?? claims.sub;
  return {
    method: http.method,
    path,
    query,
    ...(body === undefined ? {} : { body }),
    caller: { operator: groupsOf(claims['cognito:groups']).includes(OPERATORS_GROUP), ...(typeof name === 'string' ? { name } : {}) },
  };
};

export const resultForHttpApi = (response: WebApiResponse): APIGatewayProxyStructuredResultV2 => ({
  statusCode: response.status,
  headers: { ...response.headers },
  body: response.body,
});

/** A Lambda handler for an HTTP API over the web view's API. */
export const httpApiHandler =
  (api: WebApi) =>
  async (event: APIGatewayProxyEventV2WithJWTAuthorizer): Promise<APIGatewayProxyStructuredResultV2> =>
    resultForHttpApi(await api(requestFromHttpApi(event)));
