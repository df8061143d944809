// OpenAPI 3.1 documents for the parts' non-FHIR APIs (FHIR APIs describe themselves with a
// CapabilityStatement at /metadata). Small builders so each part states only its own paths; the
// security schemes (mutual TLS, certificate-bound bearer tokens) and the error body are shared.

export type JsonSchema = Record<string, unknown>;

export interface OperationSpec {
  summary: string;
  description?: string;
  /** Scope the access token must carry; absent = mutual TLS only (or public, see `public`). */
  scope?: string;
  /** Reachable without a client certificate. */
  public?: boolean;
  /** Path parameters are taken from the template; query parameters here. */
  query?: Array<{ name: string; required?: boolean; description?: string; schema?: JsonSchema }>;
  requestBody?: { contentType?: string; schema: JsonSchema; description?: string };
  /** Status → description (+ optional schema of a JSON answer). */
  responses: Record<string, string | { description: string; schema?: JsonSchema; contentType?: string }>;
}

export type PathsSpec = Record<string, Partial<Record<'get' | 'post' | 'put' | 'delete', OperationSpec>>>;

const OUTCOME_REF = { $ref: '#/components/schemas/OperationOutcome' };

function operation(path: string, method: string, spec: OperationSpec): Record<string, unknown> {
  const pathParams = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  const queryParams = (spec.query ?? []).map((q) => ({
    name: q.name,
    in: 'query',
    required: q.required ?? false,
    ...(q.description ? { description: q.description } : {}),
    schema: q.schema ?? { type: 'string' },
  }));
  const responses: Record<string, unknown> = {};
  for (const [status, r] of Object.entries(spec.responses)) {
    const { description, schema, contentType } = typeof r === 'string' ? { description: r, schema: undefined, contentType: undefined } : r;
    responses[status] = { description, ...(schema ? { content: { [contentType ?? 'application/json']: { schema } } } : {}) };
  }
  // Every refusal is an OperationOutcome (the token endpoint answers in OAuth JSON instead).
  responses.default ??= { description: 'Refusal or failure', content: { 'application/fhir+json': { schema: OUTCOME_REF } } };
  return {
    operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    ...(pathParams.length || queryParams.length ? { parameters: [...pathParams, ...queryParams] } : {}),
    ...(spec.requestBody
      ? {
          requestBody: {
            required: true,
            ...(spec.requestBody.description ? { description: spec.requestBody.description } : {}),
            content: { [spec.requestBody.contentType ?? 'application/json']: { schema: spec.requestBody.schema } },
          },
        }
      : {}),
    responses,
    security: spec.public ? [{}] : spec.scope ? [{ mutualTLS: [], bearer: [spec.scope] }] : [{ mutualTLS: [] }],
  };
}

export function openApiDocument(o: {
  title: string;
  description: string;
  baseUrl: string;
  tokenUrl: string;
  scopes: Record<string, string>;
  paths: PathsSpec;
  schemas?: Record<string, JsonSchema>;
}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, methods] of Object.entries(o.paths)) {
    paths[path] = {};
    for (const [method, spec] of Object.entries(methods)) if (spec) paths[path][method] = operation(path, method, spec);
  }
  return {
    openapi: '3.1.0',
    info: { title: o.title, version: '0.1.0', description: o.description, license: { name: 'EUPL-1.2', identifier: 'EUPL-1.2' } },
    servers: [{ url: o.baseUrl }],
    paths,
    components: {
      securitySchemes: {
        mutualTLS: { type: 'mutualTLS', description: 'A network (UZI-style) client certificate chained to the network CA' },
        bearer: {
          type: 'oauth2',
          description: 'Access token bound to the client certificate (RFC 8705), client_credentials or jwt-bearer with private_key_jwt',
          flows: { clientCredentials: { tokenUrl: o.tokenUrl, scopes: o.scopes } },
        },
      },
      schemas: {
        OperationOutcome: {
          type: 'object',
          required: ['resourceType', 'issue'],
          properties: { resourceType: { const: 'OperationOutcome' }, issue: { type: 'array', items: { type: 'object' } } },
        },
        ...(o.schemas ?? {}),
      },
    },
  };
}
