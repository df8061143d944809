import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type MatrixCase, send, type TokenSpec, type World } from './harness.ts';

// Fuzzing the handlers over real HTTPS (issue 15): random methods, paths built from the parts'
// routes with hostile segments, random query parameters and bodies, with and without a valid
// token. Whatever arrives, no part answers 5xx, no answer shows internals, and every error
// body is JSON (an OperationOutcome, or OAuth JSON at a token endpoint), or at a login form an
// HTML page (the OpenID library's own 404s are one plain word).

const SEGMENTS = ['', '%00', '..', '%2e%2e%2f', '%E0%A4%A', '*', 'x'.repeat(300), '900010010', '-1', 'null', '[]', '%7B%7D', 'Patient', '%20', '%C0%AF'];
const ROUTES: Array<{ target: string; paths: string[]; token?: TokenSpec }> = [
  { target: 'trust', paths: ['/participants', '/participants/{id}', '/participants/{id}/status', '/certificates/{id}', '/certificates/{id}/revoke', '/agreements', '/status-list', '/oauth/token', '/oauth/introspect', '/vendors/{id}/status'] },
  { target: 'directory', paths: ['/Organization', '/Endpoint/{id}', '/{id}', '/Organization/_history', '/'], token: { scope: 'directory:read' } },
  { target: 'prs', paths: ['/oprf/eval', '/recipients/{id}/key', '/recipients/90000101/key'], token: { scope: 'prs:eval' } },
  { target: 'nvi', paths: ['/List', '/List/{id}', '/'], token: { scope: 'nvi:read' } },
  { target: 'consent', paths: ['/Consent', '/Consent/{id}', '/Consent/{id}/_history/{id}', '/$closed-question', '/Subscription', '/Subscription/{id}'], token: { scope: 'consent:read' } },
  { target: 'transparency', paths: ['/AuditEvent', '/tree-head', '/proof/inclusion', '/proof/consistency'], token: { scope: 'transparency:write' } },
  { target: 'node:leiden', paths: ['/fhir/{id}', '/fhir', '/fhir/AllergyIntolerance', '/fhir/Patient/$overview', '/citizen/$everything'], token: { scope: 'acute-zorg', user: '900001011' } },
  { target: 'identity', paths: ['/login/{id}', '/token', '/userinfo', '/authorize', '/status/v1/verklaring/{id}'] },
  { target: 'portal', paths: ['/citizen/', '/citizen/consent', '/citizen/consent/{id}', '/operator/login', '/operator/participants/{id}/status', '/citizen/callback'] },
];

// Hostile but valid on the wire: the listed segments as they are, anything else percent-encoded.
const encoded = fc.oneof(fc.constantFrom(...SEGMENTS), fc.string({ maxLength: 40 }).map(encodeURIComponent));
const queryString = fc.array(fc.tuple(encoded, encoded), { maxLength: 6 }).map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));
const body = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ raw: JSON.stringify(v), type: 'application/fhir+json' })),
  fc.record({ resourceType: fc.constantFrom('Bundle', 'Consent', 'Subscription', 'List', 'AuditEvent', 'Organization'), type: fc.constantFrom('batch', 'transaction'), entry: fc.anything({ maxDepth: 3 }) }).map((v) => ({ raw: JSON.stringify(v), type: 'application/json' })),
  fc
    .tuple(fc.string({ maxLength: 200 }), fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml'))
    .map(([raw, type]) => ({ raw, type })),
);

const request = fc.record({
  route: fc.integer({ min: 0, max: ROUTES.length - 1 }),
  path: fc.nat(),
  segment: encoded,
  query: queryString,
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
  body,
  authorised: fc.boolean(),
});

/** Runs `runs` random requests; returns how many it sent. */
export async function fuzzHandlers(world: World, runs: number): Promise<number> {
  let sent = 0;
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const route = ROUTES[r.route];
      const path = route.paths[r.path % route.paths.length].replaceAll('{id}', r.segment) + r.query;
      const c: MatrixCase = {
        name: `fuzz ${r.method} ${route.target}${path}`.slice(0, 200),
        target: route.target,
        method: r.method,
        path,
        as: route.target === 'portal' || route.target === 'identity' ? 'none' : 'veluwe',
        ...(r.body && r.method !== 'GET' ? { raw: r.body.raw, contentType: r.body.type } : {}),
        ...(r.authorised && route.token ? { bearer: route.token } : {}),
        expect: 0,
      };
      if (process.env.LDN_FUZZ_TRACE) console.log(c.name, c.raw?.slice(0, 80));
      const a = await send(world, c);
      sent++;
      assert.ok(a.status < 500, `${c.name}: ${a.status} ${a.text.slice(0, 300)}`);
      if (a.status >= 400 && a.text) {
        const type = String(a.headers['content-type'] ?? '');
        assert.doesNotMatch(a.text, /\bat [\w$.<>]+ \(.*:\d+:\d+\)/, `${c.name}: internals in the answer`);
        // The OpenID library answers its own routes' 404s in a word of plain text; all else is JSON.
        if (type.includes('json')) assert.doesNotThrow(() => JSON.parse(a.text), `${c.name}: error body is not JSON: ${a.text.slice(0, 200)}`);
        else assert.ok(type.includes('html') || (route.target === 'identity' && a.text.length < 100), `${c.name}: ${type} ${a.text.slice(0, 200)}`);
      }
    }),
    { numRuns: runs },
  );
  return sent;
}
