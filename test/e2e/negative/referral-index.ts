import type { MatrixCase } from './harness.ts';

// The referral index (NVI): lookups by pseudonym token only, writes only for one's own referrals.

const N = 'nvi';
const read = { scope: 'nvi:read' };
const write = { scope: 'nvi:write' };

export const referralIndexCases: MatrixCase[] = [
  { name: 'nvi: no certificate', target: N, path: '/List?subject:identifier=x', as: 'none', expect: 401, code: 'security' },
  { name: 'nvi: no token', target: N, path: '/List?subject:identifier=x', expect: 401 },
  { name: 'nvi: write token used to read', target: N, path: '/List?subject:identifier=x', bearer: write, expect: 403 },
  { name: 'nvi: read token used to write', target: N, method: 'POST', path: '/List', bearer: read, body: { resourceType: 'List' }, expect: 403 },
  { name: 'nvi: search without a subject or source', target: N, path: '/List', bearer: read, expect: 400 },
  { name: 'nvi: search by a bare BSN', target: N, path: '/List?subject:identifier=http://fhir.nl/fhir/NamingSystem/bsn%7C900010010', bearer: read, expect: 400 },
  { name: 'nvi: lookup that names no exchange', target: N, path: '/List?subject:identifier=abc', bearer: read, expect: 403, code: 'forbidden' },
  { name: 'nvi: subject that is no pseudonym token', target: N, path: '/List?subject:identifier=abc', bearer: read, headers: { 'x-ldn-exchange': 'acute-zorg' }, expect: 400, errorCode: 'ERR_NVI_SUBJECT_REFUSED' },
  { name: 'nvi: both subject and source', target: N, path: '/List?subject:identifier=a&source:identifier=b', bearer: read, expect: 400 },
  { name: 'nvi: repeated subject', target: N, path: '/List?subject:identifier=a&subject:identifier=b', bearer: read, expect: 400 },
  { name: 'nvi: unknown parameter', target: N, path: '/List?subject=a', bearer: read, expect: 400 },
  { name: 'nvi: NUL in the subject', target: N, path: '/List?subject:identifier=a%00b', bearer: read, expect: 400, code: 'invalid' },
  { name: "nvi: another custodian's referral", target: N, path: '/List/00000000-0000-0000-0000-000000000000', bearer: read, expect: 404 },
  { name: 'nvi: transaction that is no Bundle', target: N, method: 'POST', path: '/', bearer: write, body: { resourceType: 'List' }, expect: 400 },
  { name: 'nvi: transaction with null entries', target: N, method: 'POST', path: '/', bearer: write, body: { resourceType: 'Bundle', type: 'transaction', entry: [null] }, expect: 400 },
  { name: 'nvi: referral List that is empty', target: N, method: 'POST', path: '/List', bearer: write, body: { resourceType: 'List' }, expect: 422 },
];
