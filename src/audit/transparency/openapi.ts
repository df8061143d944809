import { openApiDocument } from '../../kit/openapi.ts';

// The transparency log's verifiable-log API (not FHIR): signed tree heads and Merkle proofs,
// and the keys to check them. Appending and the citizen's search are FHIR AuditEvent (/metadata).

export function transparencyOpenApi(baseUrl: string, tokenUrl: string): Record<string, unknown> {
  const integer = { type: 'integer', minimum: 0 };
  return openApiDocument({
    title: 'LDN access transparency log',
    description: 'An append-only Merkle tree (RFC 6962 style) of access events with signed tree heads; anyone in the network can check that the log only grows.',
    baseUrl,
    tokenUrl,
    scopes: { 'transparency:write': 'Append access events' },
    paths: {
      '/tree-head': { get: { summary: 'The newest signed tree head', responses: { '200': { description: 'Signed tree head', schema: { type: 'object' } } } } },
      '/proof/inclusion': {
        get: {
          summary: 'Inclusion proof of one event (by id or leaf index) in a tree of a given size',
          query: [{ name: 'id' }, { name: 'index', schema: integer }, { name: 'size', schema: integer }],
          responses: { '200': { description: 'Audit path', schema: { type: 'object' } }, '404': 'No such event' },
        },
      },
      '/proof/consistency': {
        get: {
          summary: 'Consistency proof between two tree sizes',
          query: [{ name: 'first', required: true, schema: integer }, { name: 'second', required: true, schema: integer }],
          responses: { '200': { description: 'Consistency path', schema: { type: 'object' } } },
        },
      },
      '/.well-known/jwks.json': { get: { summary: 'The tree-head signing key', responses: { '200': { description: 'JWK set', schema: { type: 'object' } } } } },
      '/.well-known/pseudonym-recipient': { get: { summary: 'This part as a PRS recipient (organisation and scope)', responses: { '200': { description: 'Recipient', schema: { type: 'object' } } } } },
    },
  });
}
