import type { MatrixCase } from './harness.ts';

// The transparency (access-log) part: appends need transparency:write; proofs need sane input.

const X = 'transparency';
const write = { scope: 'transparency:write' };

export const transparencyCases: MatrixCase[] = [
  { name: 'transparency: append without a certificate', target: X, method: 'POST', path: '/AuditEvent', as: 'none', body: { resourceType: 'AuditEvent' }, expect: 401, code: 'security' },
  { name: 'transparency: append without a token', target: X, method: 'POST', path: '/AuditEvent', body: { resourceType: 'AuditEvent' }, expect: 401 },
  { name: 'transparency: append with a directory token', target: X, method: 'POST', path: '/AuditEvent', bearer: { scope: 'directory:read', audience: 'directory' }, body: { resourceType: 'AuditEvent' }, expect: 401 },
  { name: 'transparency: append that is no AuditEvent', target: X, method: 'POST', path: '/AuditEvent', bearer: write, body: { resourceType: 'Patient' }, expect: 400 },
  { name: 'transparency: append with NUL', target: X, method: 'POST', path: '/AuditEvent', bearer: write, body: { resourceType: 'AuditEvent', id: 'a\u0000' }, expect: 400, code: 'invalid' },
  { name: 'transparency: inclusion proof without parameters', target: X, path: '/proof/inclusion', expect: 400 },
  { name: 'transparency: inclusion proof with a negative index', target: X, path: '/proof/inclusion?index=-1&size=10', expect: 400 },
  { name: 'transparency: consistency proof with junk', target: X, path: '/proof/consistency?first=abc&second=def', expect: 400 },
  { name: "transparency: a participant reads a citizen's log", target: X, path: '/AuditEvent?patient=x', expect: 403 },
];
