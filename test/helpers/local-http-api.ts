/**
 * A template's HTTP API (API Gateway v2) in front of a local deployment's functions: a request is matched against
 * the API's routes (`METHOD /path`, `{proxy+}` greedy), refused with 401 before any function when its route has a
 * JWT authorizer and the caller brings no token's claims (API Gateway's answer to a missing or invalid token; which
 * claims a valid token of the authorizer's issuer and audience carries is the caller's to say), and handed to the
 * route's integration as payload format 2.0, with the claims as API Gateway passes them (strings; a list as
 * `[a b]`) — provided the template lets apigateway.amazonaws.com invoke that function from that route.
 */
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { z } from 'zod';
import type { DeployedFunction, LocalDeployment } from './local-deployment';
import { resolveIntrinsics, resourcesOfType } from './template';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const STAGE = '$default';

const routeProps = z.looseObject({
  ApiId: z.string(),
  RouteKey: z.string().regex(/^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) \/\S*$/),
  AuthorizationType: z.enum(['NONE', 'JWT', 'AWS_IAM', 'CUSTOM']).default('NONE'),
  Target: z.string().regex(/^integrations\//),
});
const integrationProps = z.looseObject({ ApiId: z.string(), IntegrationType: z.literal('AWS_PROXY'), IntegrationUri: z.string(), PayloadFormatVersion: z.literal('2.0') });
const permissionProps = z.looseObject({ Action: z.string(), FunctionName: z.string(), Principal: z.string(), SourceArn: z.string().optional() });

/** Claims a token carries; a list claim (e.g. `cognito:groups`) is given as a list and passed on as API Gateway writes it. */
export type Claims = Readonly<Record<string, string | readonly string[]>>;

export interface HttpApiRequest {
  readonly method: 'GET' | 'POST';
  /** The path and query string, e.g. `/transients?status=blocked`. */
  readonly path: string;
  readonly body?: unknown;
  /** The claims of the caller's valid token; none: no token (or one the authorizer refuses). */
  readonly claims?: Claims;
}

export interface HttpApiResponse {
  readonly status: number;
  readonly body: unknown;
  /** The function that answered; none when API Gateway answered itself. */
  readonly fn?: DeployedFunction;
}

interface Route {
  readonly apiId: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly routePath: string;
  readonly jwt: boolean;
  readonly fn: DeployedFunction;
  readonly sourceArn: string;
}

const wildcard = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** `/a/{name}/{proxy+}` as a regular expression over request paths. */
const pathPattern = (routePath: string) =>
  new RegExp(`^${routePath.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\{[^}/]+\+\}/g, '.+').replace(/\{[^}/]+\}/g, '[^/]+')}$`);

export class LocalHttpApi {
  private constructor(private readonly routes: readonly Route[]) {}

  /** The template's HTTP API (its one `AWS::ApiGatewayV2::Api`) over the deployment's functions. */
  static of(deployment: LocalDeployment): LocalHttpApi {
    const { template, resolver } = deployment;
    const [api, ...more] = resourcesOfType(template, 'AWS::ApiGatewayV2::Api');
    if (!api || more.length > 0) throw new Error(`the template has ${more.length + (api ? 1 : 0)} HTTP APIs, not one`);
    const apiId = resolver.ref(api[0]);
    const integrations = new Map(
      resourcesOfType(template, 'AWS::ApiGatewayV2::Integration').map(([id, resource]) => [resolver.ref(id), integrationProps.parse(resolveIntrinsics(resource.Properties, resolver))]),
    );
    const permissions = resourcesOfType(template, 'AWS::Lambda::Permission').map(([, resource]) => permissionProps.parse(resolveIntrinsics(resource.Properties, resolver)));
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([id, resource]): Route => {
      const route = routeProps.parse(resolveIntrinsics(resource.Properties, resolver));
      if (route.ApiId !== apiId) throw new Error(`route ${id} belongs to another API`);
      if (route.AuthorizationType !== 'NONE' && route.AuthorizationType !== 'JWT') throw new Error(`route ${id}: ${route.AuthorizationType} authorization is not emulated`);
      const integration = integrations.get(route.Target.slice('integrations/'.length));
      if (!integration) throw new Error(`route ${id} targets ${route.Target}, which is no integration of the template`);
      const [method = '', routePath = ''] = route.RouteKey.split(' ');
      return {
        apiId,
        method,
        routePath,
        pattern: pathPattern(routePath),
        jwt: route.AuthorizationType === 'JWT',
        fn: deployment.functionNamed(integration.IntegrationUri),
        // What API Gateway names as the invocation's source (an HTTP API route: the route's own path).
        sourceArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:${apiId}/${STAGE}/${method}/${routePath.replace(/^\//, '')}`,
      };
    });
    for (const route of routes) {
      const allowed = permissions.some(
        (permission) =>
          permission.Action === 'lambda:InvokeFunction' &&
          permission.Principal === 'apigateway.amazonaws.com' &&
          (permission.FunctionName === route.fn.arn || permission.FunctionName === route.fn.name) &&
          (permission.SourceArn === undefined || wildcard(permission.SourceArn).test(route.sourceArn)),
      );
      if (!allowed) throw new Error(`the template does not let API Gateway invoke ${route.fn.name} from ${route.sourceArn}`);
    }
    return new LocalHttpApi(routes);
  }

  /** The functions the API's routes invoke. */
  get functions(): DeployedFunction[] {
    return [...new Set(this.routes.map((route) => route.fn))];
  }

  async request(request: HttpApiRequest): Promise<HttpApiResponse> {
    const url = new URL(request.path, 'https://api.invalid');
    const route = this.routes.find((candidate) => (candidate.method === request.method || candidate.method === 'ANY') && candidate.pattern.test(url.pathname));
    if (!route) return { status: 404, body: { message: 'Not Found' } };
    if (route.jwt && !request.claims) return { status: 401, body: { message: 'Unauthorized' } };
    const claims = Object.fromEntries(Object.entries(request.claims ?? {}).map(([key, value]) => [key, typeof value === 'string' ? value : `[${value.join(' ')}]`]));
    const now = Date.now();
    const rawQueryString = url.search.slice(1);
    const event: APIGatewayProxyEventV2WithJWTAuthorizer = {
      version: '2.0',
      routeKey: `${route.method} ${route.routePath}`,
      rawPath: url.pathname,
      rawQueryString,
      headers: { 'content-type': 'application/json', host: 'api.invalid' },
      ...(rawQueryString ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
      ...(route.routePath.includes('{proxy+}') ? { pathParameters: { proxy: url.pathname.slice(1) } } : {}),
      requestContext: {
        accountId: ACCOUNT,
        apiId: route.apiId,
        domainName: 'api.invalid',
        domainPrefix: 'api',
        http: { method: request.method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
        requestId: `r${now.toString(36)}`,
        routeKey: `${route.method} ${route.routePath}`,
        stage: STAGE,
        time: new Date(now).toUTCString(),
        timeEpoch: now,
        authorizer: { principalId: '', integrationLatency: 0, jwt: { claims, scopes: [] } },
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      isBase64Encoded: false,
    };
    const result = z
      .looseObject({ statusCode: z.number().int(), body: z.string().optional() })
      .parse((await route.fn.host.invoke(event, route.fn.timeoutMs)) as APIGatewayProxyStructuredResultV2);
    return { status: result.statusCode, body: result.body ? (JSON.parse(result.body) as unknown) : undefined, fn: route.fn };
  }
}
