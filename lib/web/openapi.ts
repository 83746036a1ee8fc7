/**
 * The OpenAPI document of the web view's API, generated from the routes and their zod schemas (zod's own
 * JSON Schema output, draft 2020-12, which OpenAPI 3.1 uses). docs/web-api.openapi.json holds it; `npm run
 * generate` writes it and a test checks it is current.
 */
import { z } from 'zod';
import { ErrorBody } from './schemas';
import { type RouteSpec, pathParameters, routes } from './routes';

export const OPENAPI_DOC = 'docs/web-api.openapi.json';

type JsonSchema = Record<string, unknown>;

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const converted = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  // The document says its dialect once (OpenAPI 3.1's own); each schema need not.
  delete converted.$schema;
  return converted;
};

const parametersOf = (route: RouteSpec) => {
  const path = pathParameters(route.path).map((name) => ({ name, in: 'path', required: true, schema: { type: 'string', minLength: 1 } }));
  const query = jsonSchema(route.query, 'input');
  const properties = (query.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((query.required ?? []) as string[]);
  const fromQuery = Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return { name, in: 'query', required: required.has(name), ...(typeof description === 'string' ? { description } : {}), schema: rest };
  });
  return [...path, ...fromQuery];
};

const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: json({ $ref: '#/components/schemas/Error' }) });

export const openApiDocument = () => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [id, route] of Object.entries(routes) as [string, RouteSpec][]) {
    const operation = {
      operationId: id,
      summary: route.summary,
      ...(route.operator ? { description: 'A control: only a caller in the operators group may use it (403 otherwise).' } : {}),
      parameters: parametersOf(route),
      ...(route.body ? { requestBody: { required: false, content: json(jsonSchema(route.body, 'input')) } } : {}),
      responses: {
        '200': { description: 'OK', content: json(jsonSchema(route.response, 'output')) },
        '400': errorResponse('the request does not match its schema'),
        ...(route.operator ? { '403': errorResponse('the caller is not an operator') } : {}),
        ...(pathParameters(route.path).length > 0 || id === 'deadLetters' ? { '404': errorResponse('no such transient or runner') } : {}),
      },
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: "Blast task runners' web view API",
      version: '1',
      description:
        'What the web view reads and the controls it offers (lib/web/api.ts). Locally `npm start` serves it under /api on loopback; ' +
        'deployed, behind API Gateway with a Cognito JWT authorizer (docs/web-view.md).',
    },
    paths,
    components: { schemas: { Error: jsonSchema(ErrorBody, 'output') } },
  };
};

/** The document as the file holds it. */
export const renderOpenApi = () => `${JSON.stringify(openApiDocument(), null, 2)}\n`;
