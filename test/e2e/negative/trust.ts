import type { MatrixCase } from './harness.ts';

// The trust part: the register (operator writes), certificates, agreements and the token endpoint.

const T = 'trust';
const FORM = 'application/x-www-form-urlencoded';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

export const trustCases: MatrixCase[] = [
  // certificates
  { name: 'trust: operator API without a certificate', target: T, path: '/participants', as: 'none', expect: 401, code: 'security', errorCode: 'ERR_KIT_CERTIFICATE_REQUIRED' },
  { name: 'trust: operator API with a certificate of another CA', target: T, path: '/participants', as: 'foreign', expect: 401, code: 'security' },
  { name: 'trust: participant writes the register', target: T, method: 'POST', path: '/participants', as: 'veluwe', body: { ura: '90009999', name: 'X', type: 'V4' }, expect: 403 },
  { name: 'trust: participant suspends another', target: T, method: 'POST', path: '/participants/90000102/status', as: 'veluwe', body: { status: 'suspended' }, expect: 403 },
  { name: 'trust: participant revokes a certificate', target: T, method: 'POST', path: '/certificates/{serial:leiden}/revoke', as: 'veluwe', body: { reason: 'x' }, expect: 403 },
  { name: 'trust: participant revokes an unknown certificate', target: T, method: 'POST', path: '/certificates/01/revoke', as: 'veluwe', body: { reason: 'x' }, expect: 404, code: 'not-found' },
  { name: 'trust: participant replaces the agreements', target: T, method: 'POST', path: '/agreements', as: 'leiden', body: { version: 999 }, expect: 403 },
  // input
  { name: 'trust: NUL in a participant path', target: T, path: '/participants/%00', as: 'operator', expect: 400, code: 'invalid' },
  { name: 'trust: NUL in a certificate path', target: T, path: '/certificates/%00', as: 'operator', expect: 400, code: 'invalid' },
  { name: 'trust: NUL in a JSON string (operator POST /participants)', target: T, method: 'POST', path: '/participants', as: 'operator', body: { ura: '9000\u00009999', name: 'X\u0000', type: 'V4' }, expect: 400, code: 'invalid' },
  { name: 'trust: broken percent-encoding', target: T, path: '/participants/%E0%A4%A', as: 'operator', expect: 400 },
  { name: 'trust: path traversal', target: T, path: '/participants/..%2f..%2fetc%2fpasswd', as: 'operator', expect: 404 },
  { name: 'trust: text/plain body', target: T, method: 'POST', path: '/participants', as: 'operator', raw: 'ura=1', contentType: 'text/plain', expect: 415 },
  { name: 'trust: malformed JSON', target: T, method: 'POST', path: '/participants', as: 'operator', raw: '{"ura":', expect: 400, code: 'structure' },
  { name: 'trust: JSON nested 100 deep', target: T, method: 'POST', path: '/participants', as: 'operator', raw: `${'{"a":'.repeat(100)}1${'}'.repeat(100)}`, expect: 400 },
  { name: 'trust: unknown participant', target: T, path: '/participants/12345678', as: 'operator', expect: 404, code: 'not-found' },
  { name: 'trust: unknown endpoint', target: T, path: '/no-such-thing', as: 'operator', expect: 404, code: 'not-found' },
  { name: 'trust: oversized header', target: T, path: '/participants', as: 'operator', headers: { 'x-pad': 'a'.repeat(20_000) }, expect: 431 },
  // token endpoint (RFC 6749 errors)
  { name: 'trust token: no certificate', target: T, method: 'POST', path: '/oauth/token', as: 'none', raw: form({ grant_type: 'client_credentials' }), contentType: FORM, expect: 401, oauth: true, code: 'invalid_client' },
  { name: 'trust token: JSON instead of a form', target: T, method: 'POST', path: '/oauth/token', body: { grant_type: 'client_credentials' }, expect: 400, oauth: true, code: 'invalid_request' },
  { name: 'trust token: unsupported grant type', target: T, method: 'POST', path: '/oauth/token', raw: form({ grant_type: 'password', username: 'a', password: 'b' }), contentType: FORM, expect: 400, oauth: true, code: 'unsupported_grant_type' },
  { name: 'trust token: no client assertion', target: T, method: 'POST', path: '/oauth/token', raw: form({ grant_type: 'client_credentials', scope: 'nvi:read' }), contentType: FORM, expect: 401, oauth: true, code: 'invalid_client' },
  { name: 'trust token: assertion that is no JWS', target: T, method: 'POST', path: '/oauth/token', raw: form({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: 'not-a-jwt', scope: 'nvi:read' }), contentType: FORM, expect: 401, oauth: true, code: 'invalid_client' },
  { name: 'trust token: alg none assertion', target: T, method: 'POST', path: '/oauth/token', raw: form({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"90000101","sub":"90000101"}').toString('base64url')}.`, scope: 'nvi:read' }), contentType: FORM, expect: 401, oauth: true, code: 'invalid_client' },
  { name: 'trust token: 1.5 MB client assertion', target: T, method: 'POST', path: '/oauth/token', raw: form({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: `${'a'.repeat(1_500_000)}.b.c` }), contentType: FORM, expect: 400, oauth: true },
  { name: 'trust token: 20 kB client assertion', target: T, method: 'POST', path: '/oauth/token', raw: form({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: `${'a'.repeat(20_000)}.b.c` }), contentType: FORM, expect: 401, oauth: true, code: 'invalid_client' },
  { name: 'trust token: repeated parameter', target: T, method: 'POST', path: '/oauth/token', raw: 'grant_type=client_credentials&grant_type=client_credentials', contentType: FORM, expect: 400, oauth: true, code: 'invalid_request' },
  { name: 'trust token: NUL in a form field', target: T, method: 'POST', path: '/oauth/token', raw: 'grant_type=client_credentials%00', contentType: FORM, expect: 400 },
  { name: 'trust: introspection without a certificate', target: T, method: 'POST', path: '/oauth/introspect', as: 'none', raw: form({ token: 'x' }), contentType: FORM, expect: 401 },
];
