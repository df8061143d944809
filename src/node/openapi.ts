import { openApiDocument } from '../kit/openapi.ts';
import { AUDIT_CHECKPOINT_JWKS_PATH } from './audit-retention.ts';
import { NOTIFY_PATH } from './consent-notifications.ts';

// The node's non-FHIR API: its authorisation server, the consent part's change notifications,
// the citizen's own-data request, the operator's metrics and the audit checkpoint key. Each
// organisation's FHIR interface describes itself at /org/<URA>/fhir/metadata.

export function nodeOpenApi(baseUrl: string, scopes: Record<string, string>): Record<string, unknown> {
  return openApiDocument({
    title: 'LDN participant node',
    description: 'The node next to one or more organisations\' EHRs. FHIR interface per organisation at /org/{ura}/fhir (CapabilityStatement at /org/{ura}/fhir/metadata).',
    baseUrl,
    tokenUrl: `${baseUrl}/oauth/token`,
    scopes,
    paths: {
      '/oauth/token': {
        post: {
          summary: 'Access token for an organisation\'s open interface (resource = its /org/{ura} base)',
          public: true,
          requestBody: {
            contentType: 'application/x-www-form-urlencoded',
            schema: {
              type: 'object',
              required: ['grant_type', 'resource'],
              properties: {
                authorization_details: {
                  type: 'string',
                  description:
                    'RFC 9396, for a notified pull: a JSON array with one entry {"type":"https://ldn.example.nl/authorization-details/workflow-task","identifier":"Task/<id>","locations":["<resource>"]} naming the workflow Task the pull is based on; granted only to the Task\'s owner, and carried into the token',
                },
              },
            },
          },
          responses: { '200': { description: 'Access token', schema: { type: 'object' } }, '400': 'OAuth error (invalid_authorization_details when the Task is not addressed to the caller)', '401': 'OAuth error' },
        },
      },
      '/.well-known/oauth-authorization-server': { get: { summary: 'Authorisation server metadata (RFC 8414)', public: true, responses: { '200': 'Metadata' } } },
      '/.well-known/jwks.json': { get: { summary: 'Token signing keys', public: true, responses: { '200': 'JWK set' } } },
      [AUDIT_CHECKPOINT_JWKS_PATH]: { get: { summary: 'Public key of the audit-log checkpoints (ldn audit verify --checkpoint-key)', public: true, responses: { '200': 'JWK set' } } },
      [`/org/{ura}/${NOTIFY_PATH}`]: {
        post: { summary: 'Consent change notification (the consent part\'s certificate only)', requestBody: { contentType: 'application/fhir+json', schema: { type: 'object' } }, responses: { '200': 'Received' } },
      },
      '/org/{ura}/citizen/$everything': {
        post: { summary: 'A citizen\'s own data, asked by the operator\'s portal on her behalf', requestBody: { contentType: 'application/fhir+json', schema: { type: 'object' } }, responses: { '200': 'Bundle' } },
      },
      '/metrics': { get: { summary: 'Exchange volumes (operator certificate only)', responses: { '200': { description: 'Counts per exchange', schema: { type: 'object' } } } } },
    },
  });
}
