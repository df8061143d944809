import type { MatrixCase } from './harness.ts';

// The pseudonym service (PRS): OPRF evaluation needs prs:eval; recipients register only their own key.

const P = 'prs';
const evalScope = { scope: 'prs:eval' };

export const pseudonymCases: MatrixCase[] = [
  { name: 'prs: no certificate', target: P, method: 'POST', path: '/oprf/eval', as: 'none', body: {}, expect: 401, code: 'security' },
  { name: 'prs: no token', target: P, method: 'POST', path: '/oprf/eval', body: {}, expect: 401 },
  { name: 'prs: token of another scope', target: P, method: 'POST', path: '/oprf/eval', bearer: { scope: 'directory:read', audience: 'directory' }, body: {}, expect: 401 },
  { name: 'prs: empty evaluation request', target: P, method: 'POST', path: '/oprf/eval', bearer: evalScope, body: {}, expect: 400 },
  { name: 'prs: blinded element that is no point', target: P, method: 'POST', path: '/oprf/eval', bearer: evalScope, body: { blindedInput: 'AAAA', recipientOrganization: 'ura:90000101', recipientScope: 'nvi' }, expect: 400 },
  { name: 'prs: array body', target: P, method: 'POST', path: '/oprf/eval', bearer: evalScope, body: [1, 2, 3], expect: 400 },
  { name: 'prs: NUL in the body', target: P, method: 'POST', path: '/oprf/eval', bearer: evalScope, body: { blindedInput: 'a\u0000' }, expect: 400, code: 'invalid' },
  { name: 'prs: register a key for another URA', target: P, method: 'PUT', path: '/recipients/90000102/key', body: { scope: 'nvi', jwk: {} }, expect: 403 },
  { name: 'prs: malformed URA', target: P, method: 'PUT', path: '/recipients/abc/key', body: { scope: 'nvi', jwk: {} }, expect: 400 },
  { name: 'prs: own key that is no key', target: P, method: 'PUT', path: '/recipients/90000101/key', body: { scope: 'nvi', jwk: { kty: 'oct', k: 'AAAA' } }, expect: 400 },
  { name: 'prs: own key with a bad scope', target: P, method: 'PUT', path: '/recipients/90000101/key', body: { scope: 'NVI; DROP TABLE', jwk: {} }, expect: 400 },
  { name: 'prs: GET on the evaluation endpoint (POST only: 405)', target: P, path: '/oprf/eval', bearer: evalScope, expect: 405 },
];
