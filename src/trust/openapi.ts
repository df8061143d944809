import { openApiDocument } from '../kit/openapi.ts';

// The trust part's non-FHIR API: the authorisation server, the signed documents, and the
// operator's register (participants, vendors, certificates, agreements).

const body = { type: 'object' };
const operator = (summary: string, status = '200') => ({ summary, description: 'Operator certificate only.', requestBody: { schema: body }, responses: { [status]: 'Done' } });

export function trustOpenApi(baseUrl: string, scopes: Record<string, string> = {}): Record<string, unknown> {
  return openApiDocument({
    title: 'LDN trust framework (afsprakenstelsel)',
    description: 'Participant register, network CA, signed agreements and status list, and the OAuth 2 authorisation server of the central parts.',
    baseUrl,
    tokenUrl: `${baseUrl}/oauth/token`,
    scopes,
    paths: {
      '/oauth/token': {
        post: {
          summary: 'Issue an access token (client_credentials, or jwt-bearer with a Dezi verklaring)',
          description: 'Client authentication by private_key_jwt over mutual TLS; the token is bound to the certificate (RFC 8705). Errors are OAuth JSON (RFC 6749 §5.2).',
          public: true,
          requestBody: { contentType: 'application/x-www-form-urlencoded', schema: { type: 'object', required: ['grant_type', 'client_assertion', 'client_assertion_type'] } },
          responses: { '200': { description: 'Access token', schema: { type: 'object', required: ['access_token', 'token_type', 'expires_in'] } }, '400': 'OAuth error', '401': 'OAuth error' },
        },
      },
      '/oauth/introspect': { post: { summary: 'Token introspection (RFC 7662), for resource servers', requestBody: { contentType: 'application/x-www-form-urlencoded', schema: body }, responses: { '200': 'Introspection response' } } },
      '/.well-known/oauth-authorization-server': { get: { summary: 'Authorisation server metadata (RFC 8414)', public: true, responses: { '200': { description: 'Metadata', schema: body } } } },
      '/.well-known/jwks.json': { get: { summary: 'Keys of the tokens and of the signed documents', public: true, responses: { '200': { description: 'JWK set', schema: body } } } },
      '/agreements': {
        get: { summary: 'The agreements document (JWS), exchanges, scopes and policies as data', public: true, responses: { '200': 'Signed agreements' } },
        post: operator('Publish a new agreements version', '201'),
      },
      '/agreements/network': { post: operator('Change the network settings (consent mode, status max age)', '201') },
      '/status-list': { get: { summary: 'Signed status list of participants, vendors and revoked certificates', public: true, responses: { '200': 'Signed status list' } } },
      '/participants': { get: { summary: 'All participants', responses: { '200': 'Participants' } }, post: operator('Admit a participant', '201') },
      '/participants/{ura}': { get: { summary: 'One participant', responses: { '200': 'Participant', '404': 'Unknown' } } },
      '/participants/{ura}/history': { get: { summary: 'Status history of a participant', responses: { '200': 'History' } } },
      '/participants/{ura}/status': { post: operator('Suspend, revoke or readmit a participant') },
      '/participants/{ura}/qualifications': { post: operator('Grant a qualification (exchange or generic function)') },
      '/participants/{ura}/qualifications/{qualification}/withdraw': { post: operator('Withdraw a qualification') },
      '/vendors': { post: operator('Admit a vendor (KvK) and the participants it hosts', '201') },
      '/vendors/{kvk}': { get: { summary: 'One vendor', responses: { '200': 'Vendor', '404': 'Unknown' } } },
      '/vendors/{kvk}/status': { post: operator('Change a vendor\'s status') },
      '/certificates': { post: { summary: 'Sign a CSR (operator for a holder; a participant to renew its own)', requestBody: { schema: body }, responses: { '201': 'Certificate' } } },
      '/certificates/{serial}': { get: { summary: 'One certificate', responses: { '200': 'Certificate', '404': 'Unknown' } } },
      '/certificates/{serial}/revoke': { post: { summary: 'Revoke a certificate (operator or holder)', requestBody: { schema: body }, responses: { '200': 'Revoked' } } },
    },
  });
}
