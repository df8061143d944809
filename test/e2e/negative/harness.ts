import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { Agent } from 'undici';
import { errorCodeOf } from '../../../src/kit/errors.ts';
import type { TlsIdentity } from '../../../src/kit/part.ts';
import { createTestPki } from '../../../src/kit/testing/test-pki.ts';
import type { Manifest } from '../../../src/sandbox/manifest.ts';
import { clinicianVerklaring } from '../../../src/sandbox/clinician-login.ts';
import type { Sandbox } from '../../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../../src/trust/auth/token-provider.ts';

// The negative matrix: table-driven hostile requests against every part of a running sandbox,
// each with the status it must get and, for every 4xx/5xx, an OperationOutcome body (OAuth JSON
// on the token endpoints, which RFC 6749 prescribes). One table per part (files beside this
// one); negative-matrix.test.ts runs them all against one sandbox.

/** Who sends the request: a participant by short name, the operator, a certificate from another CA, or nobody. */
export type Who = 'veluwe' | 'leiden' | 'zuid-gp' | 'pharmacy' | 'physio' | 'vendor' | 'operator' | 'foreign' | 'none';

export const URA: Record<string, string> = {
  veluwe: '90000101',
  leiden: '90000102',
  'zuid-gp': '90000103',
  pharmacy: '90000104',
  physio: '90000106',
};

export interface TokenSpec {
  scope: string;
  /** Whose token (default: the sender). */
  of?: Who;
  /** The token's audience: a target as in MatrixCase.target (default: the case's target). */
  audience?: string;
  /** Dezi number of the professional behind it (jwt-bearer grant). */
  user?: string;
  /** Spoil it after issuance. */
  spoil?: 'alg-none' | 'signature' | 'payload' | 'truncated';
}

export interface MatrixCase {
  name: string;
  /** A manifest service name, `node:<short>` (the tenant's base URL), or `nodehost:<short>` (the node's origin). */
  target: string;
  method?: string;
  /** Sent as is (no URL normalisation): traversal and broken escapes reach the server. */
  path: string;
  as?: Who;
  headers?: Record<string, string>;
  /** JSON body (sent as application/fhir+json unless contentType says otherwise). */
  body?: unknown;
  /** A raw body, with contentType. */
  raw?: string;
  contentType?: string;
  bearer?: TokenSpec | string;
  /** A clinician's verklaring in the Dezi-Verklaring header. */
  verklaring?: string;
  /** Send the cookies of a logged-in citizen (portal). */
  session?: 'citizen';
  expect: number;
  /** Expected OperationOutcome issue code (or OAuth error with oauth). */
  code?: string;
  /** Expected stable error code (kit/errors.ts) in the OperationOutcome's details. */
  errorCode?: string;
  /** The endpoint answers RFC 6749 JSON errors, not OperationOutcomes. */
  oauth?: boolean;
  /** For redirects: where it may point. */
  location?: RegExp;
  /**
   * A page for a person's browser (login forms), which answers in HTML whatever the Accept
   * header: the body must be an HTML page that shows no internals.
   */
  html?: boolean;
}

export interface World {
  manifest: Manifest;
  identity(who: Who): TlsIdentity | undefined;
  url(target: string): string;
  token(spec: TokenSpec, sender: Who, target: string): Promise<string>;
  verklaring(dezi: string): Promise<string>;
  citizenCookie(url: string): Promise<string | undefined>;
  close(): Promise<void>;
}

const read = (path: string) => readFileSync(path, 'utf8');

/** The world a matrix runs in, from the sandbox (its manifest, and a certificate from a CA the network does not trust). */
export async function worldOf(sandbox: Sandbox, citizenLogin: () => Promise<{ cookieHeader(url: string): string | undefined }>): Promise<World> {
  const m = sandbox.manifest;
  const ca = read(m.ca.cert);
  const ids = new Map<Who, TlsIdentity>();
  for (const [who, ura] of Object.entries(URA)) {
    const p = m.participants.find((x) => x.ura === ura)!;
    ids.set(who as Who, { cert: read(p.cert), key: read(p.key), ca });
  }
  ids.set('operator', sandbox.identities.operator);
  const vendor = m.vendors[0];
  if (vendor) ids.set('vendor', { cert: read(vendor.cert), key: read(vendor.key), ca });
  const foreignPki = await createTestPki();
  const foreign = await foreignPki.identity('90000101', { name: 'impostor' });
  ids.set('foreign', { ...foreign, ca });

  const providers = new Map<string, TrustTokenProvider>();
  const verklaringen = new Map<string, Promise<string>>();
  let citizen: Promise<{ cookieHeader(url: string): string | undefined }> | undefined;

  const url = (target: string): string => {
    const [kind, short] = target.split(':');
    if (kind === 'node' || kind === 'nodehost') {
      const nodeUrl = m.participants.find((p) => p.ura === URA[short])!.nodeUrl!;
      return kind === 'node' ? nodeUrl : new URL(nodeUrl).origin;
    }
    const service = m.services[target]?.url;
    if (!service) throw new Error(`no service ${target}`);
    return service.replace(/\/$/, '');
  };

  const world: World = {
    manifest: m,
    identity: (who) => (who === 'none' ? undefined : ids.get(who)),
    url,
    verklaring(dezi) {
      let v = verklaringen.get(dezi);
      if (!v) {
        v = clinicianVerklaring(sandbox, dezi);
        verklaringen.set(dezi, v);
      }
      return v;
    },
    async token(spec, sender, target) {
      const of = spec.of ?? sender;
      const identity = ids.get(of);
      if (!identity) throw new Error(`no identity ${of} for a token`);
      const audience = url(spec.audience ?? target);
      const nodeToken = (spec.audience ?? target).startsWith('node');
      const endpoint = nodeToken ? `${new URL(audience).origin}/oauth/token` : `${url('trust')}/oauth/token`;
      const key = `${of} ${endpoint}`;
      let provider = providers.get(key);
      if (!provider) {
        provider = new TrustTokenProvider({ tls: identity, ura: URA[of] ?? m.operator.ura, tokenEndpoint: endpoint });
        providers.set(key, provider);
      }
      const userAssertion = spec.user ? await world.verklaring(spec.user) : undefined;
      const token = await provider.token(audience, spec.scope, userAssertion ? { userAssertion } : undefined);
      return spoil(token, spec.spoil);
    },
    async citizenCookie(target) {
      citizen ??= citizenLogin();
      return (await citizen).cookieHeader(target);
    },
    async close() {
      for (const p of providers.values()) await p.close?.();
    },
  };
  return world;
}

function spoil(token: string, how: TokenSpec['spoil']): string {
  if (!how) return token;
  const [h, p, s] = token.split('.');
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  switch (how) {
    case 'alg-none':
      return `${b64({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'none' })}.${p}.`;
    case 'signature':
      return `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    case 'payload': {
      const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
      return `${h}.${b64({ ...claims, scope: `${claims.scope} nvi:write prs:eval`, exp: claims.exp + 86_400 })}.${s}`;
    }
    case 'truncated':
      return token.slice(0, token.length - 10);
  }
}

const agents = new Map<string, Agent>();
function agentFor(world: World, who: Who): Agent {
  let a = agents.get(who);
  if (!a) {
    const id = world.identity(who);
    const ca = world.identity('veluwe')!.ca;
    a = new Agent({ connect: id ? { cert: id.cert, key: id.key, ca } : { ca }, connections: 4 });
    agents.set(who, a);
  }
  return a;
}

export async function closeAgents(): Promise<void> {
  for (const a of agents.values()) await a.close();
  agents.clear();
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Sends one case as written (path not normalised). */
export async function send(world: World, c: MatrixCase): Promise<Answer> {
  const base = new URL(world.url(c.target));
  // {serial:<who>}: the serial number of that participant's certificate.
  const filled = c.path.replace(/\{serial:([a-z-]+)\}/g, (_m, who: string) => new X509Certificate(world.identity(who as Who)!.cert).serialNumber.toLowerCase());
  const path = `${base.pathname.replace(/\/$/, '')}${filled}`;
  const headers: Record<string, string> = { accept: 'application/fhir+json', ...(c.headers ?? {}) };
  let body: string | undefined;
  if (c.raw !== undefined) {
    body = c.raw;
    headers['content-type'] = c.contentType ?? 'application/fhir+json';
  } else if (c.body !== undefined) {
    body = JSON.stringify(c.body);
    headers['content-type'] = c.contentType ?? 'application/fhir+json';
  }
  const sender = c.as ?? 'veluwe';
  if (typeof c.bearer === 'string') headers.authorization = c.bearer;
  else if (c.bearer) headers.authorization = `Bearer ${await world.token(c.bearer, sender, c.target)}`;
  if (c.verklaring) headers['dezi-verklaring'] = await world.verklaring(c.verklaring);
  if (c.session === 'citizen') {
    const cookie = await world.citizenCookie(`${base.origin}${path}`);
    if (cookie) headers.cookie = cookie;
  }
  const r = await agentFor(world, sender).request({ origin: base.origin, path, method: (c.method ?? (body !== undefined ? 'POST' : 'GET')) as 'GET', headers, body });
  return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
}

/** The case's assertions: its status, and the error body every part owes the caller. */
export function check(c: MatrixCase, a: Answer): void {
  const where = `${c.name}: ${a.status} ${a.text.slice(0, 300)}`;
  assert.equal(a.status, c.expect, where);
  if (c.location) assert.match(String(a.headers.location ?? ''), c.location, where);
  if (a.status < 400) return;
  if (c.html) {
    assert.match(a.text, /^<!doctype html>/i, where);
    assert.doesNotMatch(a.text, /\bat [\w$.<>]+ \(.*:\d+:\d+\)|Error:/, where);
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    assert.fail(`${where}: the error body is not JSON`);
  }
  if (c.oauth) {
    assert.equal(typeof (body as { error?: unknown }).error, 'string', where);
    if (c.code) assert.equal((body as { error: string }).error, c.code, where);
    return;
  }
  const oo = body as OperationOutcome;
  assert.equal(oo.resourceType, 'OperationOutcome', where);
  assert.ok(Array.isArray(oo.issue) && oo.issue.length > 0, where);
  if (c.code) assert.equal(oo.issue[0].code, c.code, where);
  if (c.errorCode) assert.equal(errorCodeOf(oo), c.errorCode, where);
  // Never the internals: no stack trace in what the caller sees.
  assert.doesNotMatch(a.text, /\bat [\w$.<>]+ \(.*:\d+:\d+\)/, where);
}
