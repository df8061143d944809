import { openApiDocument } from '../kit/openapi.ts';
import { PRS_EVAL_SCOPE } from './part.ts';

// The PRS API (not FHIR): the OPRF evaluation and the recipients' key registration.

export function prsOpenApi(baseUrl: string, tokenUrl: string): Record<string, unknown> {
  return openApiDocument({
    title: 'LDN pseudonym service (PRS)',
    description: 'RFC 9497 OPRF (ristretto255-SHA512): the caller sends a blinded BSN, the PRS evaluates it under the recipient\'s key and seals the result (JWE) to the recipient.',
    baseUrl,
    tokenUrl,
    scopes: { [PRS_EVAL_SCOPE]: 'Obtain a recipient-bound pseudonym' },
    paths: {
      '/oprf/eval': {
        post: {
          summary: 'Evaluate a blinded element for a recipient',
          scope: PRS_EVAL_SCOPE,
          requestBody: {
            schema: {
              type: 'object',
              required: ['encryptedPersonalId', 'recipientOrganization', 'recipientScope'],
              properties: {
                encryptedPersonalId: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'base64url of the 32-byte blinded element' },
                recipientOrganization: { type: 'string', pattern: '^ura:\\d{8}$' },
                recipientScope: { type: 'string' },
              },
            },
          },
          responses: { '200': { description: 'The sealed evaluation (JWE) for the recipient', schema: { type: 'object' } } },
        },
      },
      '/oprf/research-eval': {
        post: {
          summary: 'Evaluate a blinded element in a data permit\'s research pseudonym domain (the holder is its own recipient); the permit must be signed by the HDAB and in force, and the caller a holder (else 403)',
          scope: PRS_EVAL_SCOPE,
          requestBody: {
            schema: {
              type: 'object',
              required: ['encryptedPersonalId', 'permit'],
              properties: {
                encryptedPersonalId: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$', description: 'base64url of the 32-byte blinded element' },
                permit: { type: 'string', description: 'the data permit as the HDAB signed it (compact JWS); its jti is the pseudonym domain' },
              },
            },
          },
          responses: {
            '200': { description: 'The evaluated element (base64url) and key version; only the holder that blinded it can unblind it', schema: { type: 'object' } },
            '403': 'The permit is not signed by the HDAB, expired, or the caller is no holder',
          },
        },
      },
      '/recipients/{ura}/key': {
        put: {
          summary: 'Register the recipient\'s own public key (its certificate\'s URA only)',
          requestBody: { schema: { type: 'object', required: ['scope', 'jwk'], properties: { scope: { type: 'string' }, jwk: { type: 'object' } } } },
          responses: { '200': 'Replaced', '201': 'Registered' },
        },
      },
    },
  });
}
