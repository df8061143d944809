import { openApiDocument } from '../kit/openapi.ts';

// The consent part's closed question (plain JSON with the Mitz attribute set, not a FHIR
// operation); its FHIR side (Consent, Subscription) is in the CapabilityStatement at /metadata.

export function consentOpenApi(baseUrl: string, tokenUrl: string): Record<string, unknown> {
  const attribute = { type: 'string', minLength: 1 };
  return openApiDocument({
    title: 'LDN consent registry: the closed question',
    description: 'May this holder release data about this patient to this requester, for this purpose? Answered permit or deny with the rule that decided.',
    baseUrl,
    tokenUrl,
    scopes: { 'consent:read': 'Ask the closed question; subscribe to consent changes' },
    paths: {
      '/$closed-question': {
        post: {
          summary: 'The closed question (Mitz-like)',
          description: 'The caller is the holder (its certificate\'s URA must be holderUra).',
          scope: 'consent:read',
          requestBody: {
            schema: {
              type: 'object',
              required: ['bsn', 'holderUra', 'holderType', 'requesterUra', 'requesterType', 'requesterRole', 'requesterId', 'purposeOfUse', 'eventCode'],
              properties: {
                bsn: attribute,
                holderUra: attribute,
                holderType: attribute,
                requesterUra: attribute,
                requesterType: attribute,
                requesterRole: attribute,
                requesterId: attribute,
                purposeOfUse: attribute,
                eventCode: attribute,
                dataCategory: attribute,
                exchange: attribute,
              },
            },
          },
          responses: {
            '200': {
              description: 'The decision',
              schema: { type: 'object', required: ['decision', 'mode'], properties: { decision: { enum: ['permit', 'deny'] }, mode: { enum: ['opt-in', 'opt-out'] }, agreementsVersion: { type: 'integer' } } },
            },
          },
        },
      },
    },
  });
}
