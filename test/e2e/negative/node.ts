import type { MatrixCase } from './harness.ts';

// A participant node: the holder's open interface (token bound to the certificate, exchange
// scope, allow-list, one patient), the overview (own organisation, professional, verklaring)
// and the node's token endpoint.

const L = 'node:leiden';
const V = 'node:veluwe';
const BSN = 'http://fhir.nl/fhir/NamingSystem/bsn';
const P = `patient:identifier=${encodeURIComponent(`${BSN}|900010010`)}`;
const acute = { scope: 'acute-zorg', user: '900001011' };
const FORM = 'application/x-www-form-urlencoded';
const batch = (...urls: unknown[]) => ({ resourceType: 'Bundle', type: 'batch', entry: urls.map((url) => ({ request: { method: 'GET', url } })) });

export const nodeCases: MatrixCase[] = [
  // certificates and tokens
  { name: 'node: no certificate', target: L, path: `/fhir/AllergyIntolerance?${P}`, as: 'none', expect: 401, code: 'security' },
  { name: 'node: certificate of another CA', target: L, path: `/fhir/AllergyIntolerance?${P}`, as: 'foreign', expect: 401, code: 'security' },
  { name: 'node: no token', target: L, path: `/fhir/AllergyIntolerance?${P}`, expect: 401 },
  { name: 'node: trust-issued token (wrong issuer and audience)', target: L, path: `/fhir/AllergyIntolerance?${P}`, bearer: { scope: 'directory:read', audience: 'directory' }, expect: 401 },
  { name: "node: token for another tenant's base", target: L, path: `/fhir/AllergyIntolerance?${P}`, bearer: { ...acute, audience: V }, expect: 401 },
  { name: "node: another participant's token on this certificate", target: L, path: `/fhir/AllergyIntolerance?${P}`, as: 'pharmacy', bearer: { ...acute, of: 'veluwe' }, expect: 401 },
  { name: 'node: token with alg none', target: L, path: `/fhir/AllergyIntolerance?${P}`, bearer: { ...acute, spoil: 'alg-none' }, expect: 401 },
  { name: 'node: token with a forged signature', target: L, path: `/fhir/AllergyIntolerance?${P}`, bearer: { ...acute, spoil: 'signature' }, expect: 401 },
  { name: 'node: token with widened claims', target: L, path: `/fhir/AllergyIntolerance?${P}`, bearer: { ...acute, spoil: 'payload' }, expect: 401 },
  // authorisation
  { name: 'node: type outside the exchange allow-list', target: L, path: `/fhir/Encounter?${P}`, bearer: acute, expect: 403 },
  { name: 'node: unlisted parameter value', target: L, path: `/fhir/Observation?${P}&category=social-history`, bearer: acute, expect: 403 },
  { name: 'node: wildcard include', target: L, path: `/fhir/MedicationStatement?${P}&_include=*`, bearer: acute, expect: 403 },
  { name: 'node: search not restricted to a patient', target: L, path: '/fhir/AllergyIntolerance', bearer: acute, expect: 400 },
  { name: 'node: patient named by a local id', target: L, path: '/fhir/AllergyIntolerance?patient=123', bearer: acute, expect: 400 },
  { name: 'node: BSN failing the 11-test', target: L, path: `/fhir/AllergyIntolerance?patient:identifier=${encodeURIComponent(`${BSN}|123456789`)}`, bearer: acute, expect: 400 },
  { name: 'node: patient named in another system', target: L, path: `/fhir/AllergyIntolerance?patient:identifier=${encodeURIComponent('urn:x|900010010')}`, bearer: acute, expect: 400 },
  { name: 'node: two patients in one search', target: L, path: `/fhir/AllergyIntolerance?${P}&subject:identifier=${encodeURIComponent(`${BSN}|900020003`)}`, bearer: acute, expect: 403 },
  { name: 'node: batch naming two patients (cross-patient)', target: L, method: 'POST', path: '/fhir', bearer: acute, body: batch(`AllergyIntolerance?${P}`, `AllergyIntolerance?patient:identifier=${encodeURIComponent(`${BSN}|900020003`)}`), expect: 400 },
  { name: 'node: unknown tenant', target: 'nodehost:leiden', path: `/org/99999999/fhir/AllergyIntolerance?${P}`, bearer: { ...acute, audience: L }, expect: 404 },
  { name: 'node: emergency reason that is no percent-encoding', target: L, path: `/fhir/AllergyIntolerance?${P}`, bearer: acute, headers: { 'ldn-emergency-reason': '%E0%A4%A' }, expect: 400 },
  // input
  { name: 'node: clinical-status=bogus', target: L, path: `/fhir/AllergyIntolerance?${P}&clinical-status=bogus`, bearer: acute, expect: 400, code: 'invalid' },
  { name: 'node: date=notadate', target: L, path: `/fhir/Observation?${P}&category=laboratory&date=notadate`, bearer: acute, expect: 400, code: 'invalid' },
  { name: 'node: 50 repeated values', target: L, path: `/fhir/AllergyIntolerance?${P}${'&clinical-status=active'.repeat(50)}`, bearer: acute, expect: 400, code: 'invalid' },
  { name: 'node: NUL in a search value', target: L, path: `/fhir/AllergyIntolerance?${P}&clinical-status=a%00`, bearer: acute, expect: 400, code: 'invalid' },
  { name: 'node: lowercase resource type', target: L, path: `/fhir/allergyintolerance?${P}`, bearer: acute, expect: 404 },
  { name: 'node: batch entry null', target: L, method: 'POST', path: '/fhir', bearer: acute, body: { resourceType: 'Bundle', type: 'batch', entry: [null] }, expect: 400 },
  { name: 'node: batch entry url is a number', target: L, method: 'POST', path: '/fhir', bearer: acute, body: batch(5), expect: 400 },
  { name: 'node: batch of type transaction', target: L, method: 'POST', path: '/fhir', bearer: acute, body: { resourceType: 'Bundle', type: 'transaction', entry: [] }, expect: 400 },
  { name: 'node: batch with a write entry', target: L, method: 'POST', path: '/fhir', bearer: acute, body: { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'DELETE', url: 'Patient/1' } }] }, expect: 400 },
  { name: 'node: batch of 41 searches', target: L, method: 'POST', path: '/fhir', bearer: acute, body: batch(...Array.from({ length: 41 }, () => `AllergyIntolerance?${P}`)), expect: 400 },
  { name: 'node: batch entry with path traversal', target: L, method: 'POST', path: '/fhir', bearer: acute, body: batch(`../../admin?${P}`), expect: 400 },
  { name: 'node: batch as text/plain', target: L, method: 'POST', path: '/fhir', bearer: acute, raw: '{}', contentType: 'text/plain', expect: 415 },
  // the overview (the organisation's own systems only)
  { name: "node: overview asked with another organisation's certificate", target: V, path: `/fhir/Patient/$overview?identifier=${encodeURIComponent(`${BSN}|900010010`)}`, as: 'leiden', expect: 403 },
  { name: 'node: overview without a token', target: V, path: `/fhir/Patient/$overview?identifier=${encodeURIComponent(`${BSN}|900010010`)}`, expect: 401 },
  { name: 'node: overview without a verklaring', target: V, path: `/fhir/Patient/$overview?identifier=${encodeURIComponent(`${BSN}|900010010`)}`, bearer: acute, expect: 400 },
  { name: "node: overview with another professional's verklaring", target: V, path: `/fhir/Patient/$overview?identifier=${encodeURIComponent(`${BSN}|900010010`)}`, bearer: acute, verklaring: '900001012', expect: 403 },
  { name: 'node: overview with a BSN in another system', target: V, path: `/fhir/Patient/$overview?identifier=${encodeURIComponent('urn:x|900010010')}`, bearer: acute, verklaring: '900001011', expect: 400 },
  { name: 'node: overview with an invalid BSN', target: V, path: `/fhir/Patient/$overview?identifier=${encodeURIComponent(`${BSN}|123456789`)}`, bearer: acute, verklaring: '900001011', expect: 400 },
  { name: 'node: overview with a too short emergency reason', target: V, path: `/fhir/Patient/$overview?identifier=${encodeURIComponent(`${BSN}|900010010`)}`, bearer: acute, verklaring: '900001011', headers: { 'ldn-emergency-reason': 'ab' }, expect: 400 },
  { name: "node: overview as a role the exchange does not admit (nurse in bgz)", target: V, path: `/fhir/Patient/$overview?identifier=${encodeURIComponent(`${BSN}|900010010`)}&exchange=unknown-exchange`, bearer: acute, verklaring: '900001011', expect: 403 },
  // the node's token endpoint
  { name: 'node token: no certificate', target: 'nodehost:leiden', method: 'POST', path: '/oauth/token', as: 'none', raw: 'grant_type=client_credentials', contentType: FORM, expect: 401, oauth: true, code: 'invalid_client' },
  { name: 'node token: resource of a tenant it does not serve', target: 'nodehost:leiden', method: 'POST', path: '/oauth/token', raw: 'grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c', contentType: FORM, expect: 401, oauth: true, code: 'invalid_client' },
  { name: 'node token: 20 kB verklaring assertion', target: 'nodehost:leiden', method: 'POST', path: '/oauth/token', raw: `grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=${'a'.repeat(20_000)}`, contentType: FORM, expect: 401, oauth: true },
];
