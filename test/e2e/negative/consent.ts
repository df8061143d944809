import type { MatrixCase } from './harness.ts';

// The consent registry: a citizen writes and reads only her own consents; a care provider asks
// the closed question only for itself, and records on a citizen's behalf only with a professional.

const C = 'consent';
const read = { scope: 'consent:read' };
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';

export const consentCases: MatrixCase[] = [
  { name: 'consent: no certificate', target: C, method: 'POST', path: '/$closed-question', as: 'none', body: {}, expect: 401, code: 'security' },
  { name: 'consent: closed question without a token', target: C, method: 'POST', path: '/$closed-question', body: {}, expect: 401 },
  { name: 'consent: closed question with a directory token', target: C, method: 'POST', path: '/$closed-question', bearer: { scope: 'directory:read', audience: 'directory' }, body: {}, expect: 401 },
  { name: 'consent: closed question that is empty', target: C, method: 'POST', path: '/$closed-question', bearer: read, body: {}, expect: 400 },
  { name: 'consent: closed question for another holder', target: C, method: 'POST', path: '/$closed-question', bearer: read, body: { bsn: '900010010', holderUra: '90000102', holderType: 'V4', requesterUra: '90000101', requesterType: 'V4', requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002' }, expect: 403 },
  { name: 'consent: closed question with a BSN failing the 11-test', target: C, method: 'POST', path: '/$closed-question', bearer: read, body: { ...{ bsn: '900010010', holderUra: '90000102', holderType: 'V4', requesterUra: '90000101', requesterType: 'V4', requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002' }, holderUra: '90000101', bsn: '123456789' }, expect: 400 },
  { name: 'consent: closed question with a number where text belongs', target: C, method: 'POST', path: '/$closed-question', bearer: read, body: { ...{ bsn: '900010010', holderUra: '90000102', holderType: 'V4', requesterUra: '90000101', requesterType: 'V4', requesterRole: '01.045', requesterId: '900001011', purposeOfUse: 'TREAT', eventCode: 'GGC002' }, holderUra: '90000101', exchange: 5 }, expect: 400 },
  { name: 'consent: record without citizen or professional', target: C, method: 'POST', path: '/Consent', body: { resourceType: 'Consent' }, expect: 401 },
  { name: 'consent: record with a token that names no professional', target: C, method: 'POST', path: '/Consent', bearer: read, body: { resourceType: 'Consent' }, expect: 403 },
  { name: 'consent: read a consent without being the citizen', target: C, path: '/Consent/1', bearer: read, expect: 401 },
  { name: 'consent: search without being the citizen', target: C, path: `/Consent?patient:identifier=${BSN}%7C900010010`, bearer: read, expect: 401 },
  { name: 'consent: citizen id_token that is forged', target: C, path: '/Consent', bearer: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiI5MDAwMTAwMTAifQ.', expect: 401 },
  { name: 'consent: unknown search parameter', target: C, path: '/Consent?name=x', bearer: read, expect: 400 },
  { name: 'consent: history version that is no number', target: C, path: '/Consent/1/_history/abc', bearer: read, expect: 400 },
  { name: 'consent: NUL in a Subscription (JSON)', target: C, method: 'POST', path: '/Subscription', bearer: read, body: { resourceType: 'Subscription', criteria: 'Consent?\u0000', status: 'requested' }, expect: 400, code: 'invalid' },
  { name: "consent: subscription to another organisation's endpoint", target: C, method: 'POST', path: '/Subscription', bearer: read, body: { resourceType: 'Subscription', status: 'requested', reason: 'x', criteria: 'Consent?patient=900010010', channel: { type: 'rest-hook', endpoint: 'https://evil.example/hook', payload: 'application/fhir+json' } }, expect: 422, code: 'processing' },
  { name: 'consent: DELETE of a subscription that does not exist', target: C, method: 'DELETE', path: '/Subscription/does-not-exist', bearer: read, expect: 404 },
];
