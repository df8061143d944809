import type { MatrixCase } from './harness.ts';

// The care-services directory (mCSD): reads need directory:read, writes directory:write for
// one's own organisation; every search value reaches SQL, so NUL and junk must stop at the edge.

const D = 'directory';
const read = { scope: 'directory:read' };
const write = { scope: 'directory:write' };

export const directoryCases: MatrixCase[] = [
  { name: 'directory: no certificate', target: D, path: '/Organization', as: 'none', expect: 401, code: 'security' },
  { name: 'directory: certificate of another CA', target: D, path: '/Organization', as: 'foreign', expect: 401, code: 'security' },
  { name: 'directory: no token', target: D, path: '/Organization', expect: 401 },
  { name: 'directory: Basic instead of Bearer', target: D, path: '/Organization', bearer: 'Basic dXNlcjpwYXNz', expect: 401 },
  { name: 'directory: garbage bearer', target: D, path: '/Organization', bearer: 'Bearer not.a.token', expect: 401 },
  { name: 'directory: token with alg none', target: D, path: '/Organization', bearer: { ...read, spoil: 'alg-none' }, expect: 401 },
  { name: 'directory: token with a forged signature', target: D, path: '/Organization', bearer: { ...read, spoil: 'signature' }, expect: 401 },
  { name: 'directory: token with widened claims', target: D, path: '/Organization', bearer: { ...read, spoil: 'payload' }, expect: 401 },
  { name: 'directory: truncated token', target: D, path: '/Organization', bearer: { ...read, spoil: 'truncated' }, expect: 401 },
  { name: 'directory: token for another audience (NVI)', target: D, path: '/Organization', bearer: { scope: 'nvi:read', audience: 'nvi' }, expect: 401 },
  { name: "directory: another participant's token (bound to its certificate)", target: D, path: '/Organization', bearer: { ...read, of: 'leiden' }, expect: 401 },
  { name: 'directory: oversized bearer token', target: D, path: '/Organization', bearer: `Bearer ${'a'.repeat(5000)}.${'b'.repeat(5000)}.c`, expect: 401 },
  { name: 'directory: read token used to write', target: D, method: 'POST', path: '/Organization', bearer: read, body: { resourceType: 'Organization', name: 'X' }, expect: 403 },
  { name: 'directory: NUL in identifier search', target: D, path: '/Organization?identifier=abc%00def', bearer: read, expect: 400, code: 'invalid' },
  { name: 'directory: NUL in _id', target: D, path: '/Organization?_id=%00', bearer: read, expect: 400, code: 'invalid' },
  { name: 'directory: NUL in _after', target: D, path: '/Organization/_history?_after=a%00b', bearer: read, expect: 400, code: 'invalid' },
  { name: 'directory: NUL as a resource id', target: D, path: '/Organization/%00', bearer: read, expect: 400, code: 'invalid' },
  { name: 'directory: unknown search parameter', target: D, path: '/Organization?name:contains=x', bearer: read, expect: 400 },
  { name: 'directory: repeated _count', target: D, path: '/Organization?_count=1&_count=2', bearer: read, expect: 400 },
  { name: 'directory: negative _count', target: D, path: '/Organization?_count=-5', bearer: read, expect: 400 },
  { name: 'directory: bad _lastUpdated', target: D, path: '/Organization?_lastUpdated=yesterday', bearer: read, expect: 400 },
  { name: 'directory: unknown resource type', target: D, path: '/Patient', bearer: read, expect: 404 },
  { name: 'directory: path traversal', target: D, path: '/Organization/..%2F..%2Ftrust', bearer: read, expect: 404 },
  { name: 'directory: broken percent-encoding', target: D, path: '/Organization/%E0%A4%A', bearer: read, expect: 400 },
  { name: 'directory: write of an Organization without its custodian identifier', target: D, method: 'PUT', path: '/Organization/x', bearer: write, body: { resourceType: 'Organization', id: 'x', name: 'X' }, expect: 422, code: 'required' },
  { name: 'directory: NUL in a written resource', target: D, method: 'POST', path: '/Organization', bearer: write, body: { resourceType: 'Organization', name: 'X\u0000Y' }, expect: 400, code: 'invalid' },
];
