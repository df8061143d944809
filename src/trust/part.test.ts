import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { base64url } from 'jose';
import { PartClient } from '../kit/http/client.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import type { PartDefinition, TlsIdentity } from '../kit/part.ts';
import { peerFromDer } from '../kit/http/peer.ts';
import { pemToDer, readCertificateIdentity } from '../kit/pki/certificates.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../kit/store/pglite.ts';
import { createTestPki, staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { CAST_NETWORK } from '../sandbox/cast.ts';
import { configureTokenVerification, generateSigningKey, requireToken, TokenRequestError, TrustTokenProvider, trustVerification } from './auth/index.ts';
import { AgreementsRefused, fetchAgreements, signAgreements, verifyAgreements } from './agreements/jws.ts';
import { createPeerGuard, type PeerGuard } from './certificates/peer-guard.ts';
import { createTrustPart, seedTrust } from './part.ts';
import { remoteJwks } from './auth/remote-jwks.ts';

// The trust part end to end over mutual TLS, with the sandbox cast seeded through the CSR
// lifecycle and a stand-in central part ("nvi") guarded by the status list and the token guard.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const OPERATOR_URA = '90000001';
const GP = '90000103';
const PHARMACY = '90000104';
const HOMECARE = '90000105';
const PHYSIO = '90000106';
const HOSPITAL = '90000101';
const VENDOR = '12345678';

async function csr(): Promise<{ csr: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const req = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=x', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { csr: req.toString('pem'), key: x509.PemConverter.encode(der, 'PRIVATE KEY') };
}

interface Outcome {
  resourceType: string;
  issue: Array<{ diagnostics: string }>;
}

describe('trust part over mutual TLS', () => {
  let pki: TestPki;
  let trust: RunningService;
  let nvi: RunningService;
  let guard: PeerGuard;
  let operator: TlsIdentity;
  let cast: Awaited<ReturnType<typeof seedTrust>>;
  const clients: PartClient[] = [];
  const client = (tls: TlsIdentity) => {
    const c = new PartClient({ tls, maxRetries: 0 });
    clients.push(c);
    return c;
  };
  const org = (ura: string) => cast.participants.get(ura)!;
  const tokenUrl = () => `${trust.url}/oauth/token`;
  const provider = (tls: TlsIdentity, ura: string) => new TrustTokenProvider({ tls, ura, tokenEndpoint: tokenUrl(), client: client(tls) });
  const refusal = async (p: Promise<unknown>, error: string, why: RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof TokenRequestError && e.error === error && why.test(e.description));

  before(async () => {
    pki = await createTestPki();
    operator = await pki.identity(OPERATOR_URA, { name: 'operator' });
    const network = staticNetwork({});
    const store = await openIsolatedPgliteStore('trust');
    const part = createTrustPart({ ca: pki.ca });
    await migrate(store, part.migrations);
    trust = await createService(part, { tls: await pki.identity(OPERATOR_URA, { name: 'trust' }), network, store });
    network.set('trust', trust.url);
    cast = await seedTrust(trust.store, { ca: pki.ca, ...CAST_NETWORK });

    const nviTls = await pki.identity(OPERATOR_URA, { name: 'nvi' });
    const nviClient = client(nviTls);
    guard = createPeerGuard({ trustUrl: trust.url, client: nviClient, maxAgeSeconds: 30 });
    const nviPart: PartDefinition = {
      name: 'nvi',
      schema: 'nvi',
      migrations: [],
      async register(app, ctx) {
        configureTokenVerification(app, trustVerification({ trustUrl: trust.url, client: nviClient, audience: () => ctx.baseUrl }));
        app.get('/List', { preHandler: requireToken({ scope: 'nvi:read' }) }, async (req) => ({ sub: req.token?.sub }));
      },
    };
    nvi = await createService(nviPart, { tls: nviTls, network, store: await openIsolatedPgliteStore('nvi'), peerGuard: guard });
    network.set('nvi', nvi.url);
  });
  after(async () => {
    for (const c of clients) await c.close();
    await nvi.close();
    await trust.close();
    await nvi.store.close();
    await trust.store.close();
  });

  it('lets a seeded, qualified participant call a central part with a token', async () => {
    const caller = new PartClient({ tls: org(GP), tokens: provider(org(GP), GP), maxRetries: 0 });
    clients.push(caller);
    const r = await caller.call<{ sub: string }>(`${nvi.url}/List`, { scope: 'nvi:read' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.sub, GP);
  });

  it('lets a vendor act for the organisations it hosts, and only those', async () => {
    const vendor = cast.vendors.get(VENDOR)!;
    assert.ok(await provider(vendor, PHARMACY).token(nvi.url, 'nvi:read'));
    await refusal(provider(vendor, HOSPITAL).token(nvi.url, 'nvi:read'), 'invalid_client', /does not host/);
  });

  it('refuses a scope the participant is not qualified for, or for another part', async () => {
    const op = client(operator);
    assert.equal((await op.call(`${trust.url}/participants/${PHYSIO}/qualifications/localization/withdraw`, { method: 'POST', body: {}, headers: { 'content-type': 'application/json' } })).status, 200);
    await refusal(provider(org(PHYSIO), PHYSIO).token(nvi.url, 'nvi:read'), 'invalid_scope', /needs qualification localization/);
    await refusal(provider(org(GP), GP).token(trust.url, 'nvi:read'), 'invalid_scope', /only for the nvi part/);
    await refusal(provider(org(GP), GP).token(nvi.url, 'bgz'), 'invalid_scope', /needs a professional|not in the agreements/);
    await refusal(provider(org(GP), GP).token(nvi.url, 'root:everything'), 'invalid_scope', /not in the agreements/);
  });

  it('refuses a never-admitted participant at the token endpoint and at other parts', async () => {
    const stranger = await pki.identity('90000777');
    await refusal(provider(stranger, '90000777').token(nvi.url, 'nvi:read'), 'invalid_client', /not admitted/);
    const r = await client(stranger).call<Outcome>(`${nvi.url}/List`);
    assert.equal(r.status, 403);
    assert.match(r.body.issue[0].diagnostics, /not admitted/);
    assert.equal((await client(stranger).call(`${trust.url}/participants`)).status, 403);
  });

  it('refuses a suspended participant everywhere once the status list is renewed', async () => {
    const before = await client(org(HOMECARE)).call(`${nvi.url}/List`);
    assert.equal(before.status, 401, 'admitted: gets as far as the token check');
    const op = client(operator);
    const s = await op.call<{ status: string }>(`${trust.url}/participants/${HOMECARE}/status`, { method: 'POST', body: { status: 'suspended', reason: 'test' }, headers: { 'content-type': 'application/json' } });
    assert.equal(s.body.status, 'suspended');
    await refusal(provider(org(HOMECARE), HOMECARE).token(nvi.url, 'nvi:read'), 'invalid_client', /suspended/);
    await guard.refresh(); // what the bounded cache age does by itself
    const r = await client(org(HOMECARE)).call<Outcome>(`${nvi.url}/List`);
    assert.equal(r.status, 403);
    assert.match(r.body.issue[0].diagnostics, /suspended/);
  });

  it('a guard renews the status list by itself within seconds: a suspension reaches it without a refresh', async () => {
    const quick = createPeerGuard({ trustUrl: trust.url, client: client(operator), maxAgeSeconds: 30, renewSeconds: 1 });
    const peer = peerFromDer(pemToDer(org(PHYSIO).cert))!;
    assert.equal(await quick(peer), null, 'admitted');
    const op = client(operator);
    const json = { 'content-type': 'application/json' };
    await op.call(`${trust.url}/participants/${PHYSIO}/status`, { method: 'POST', body: { status: 'suspended', reason: 'renewal test' }, headers: json });
    try {
      let refusal: string | null = null;
      for (let i = 0; i < 40 && !refusal; i++) {
        await new Promise((r) => setTimeout(r, 250));
        refusal = await quick(peer);
      }
      assert.match(refusal ?? 'still admitted', /suspended/);
    } finally {
      await op.call(`${trust.url}/participants/${PHYSIO}/status`, { method: 'POST', body: { status: 'admitted', reason: 'renewal test over' }, headers: json });
    }
  });

  it('refuses a revoked certificate while the participant stays admitted', async () => {
    const serial = readCertificateIdentity(org(PHARMACY).cert).serialNumber;
    const r = await client(operator).call<{ status: string }>(`${trust.url}/certificates/${serial}/revoke`, { method: 'POST', body: { reason: 'key compromise' }, headers: { 'content-type': 'application/json' } });
    assert.equal(r.body.status, 'revoked');
    await refusal(provider(org(PHARMACY), PHARMACY).token(nvi.url, 'nvi:read'), 'invalid_client', /revoked/);
    await guard.refresh();
    assert.equal((await client(org(PHARMACY)).call(`${nvi.url}/List`)).status, 403);
    assert.equal((await client(org(PHARMACY)).call(`${trust.url}/participants`)).status, 403);
  });

  it('refuses a revoked operator certificate on the operator API (the operator exemption covers status only)', async () => {
    const op = client(operator);
    const json = { 'content-type': 'application/json' };
    const key = await csr();
    const issued = await op.call<{ certificate: string; serial: string }>(`${trust.url}/certificates`, {
      method: 'POST',
      body: { csr: key.csr, ura: OPERATOR_URA, systemNumber: '7' },
      headers: json,
    });
    assert.equal(issued.status, 201, issued.text);
    const second = client({ cert: issued.body.certificate, key: key.key, ca: pki.ca.certPem });
    const before = await second.call(`${trust.url}/participants/${PHYSIO}/status`, { method: 'POST', body: { status: 'suspended', reason: 'test' }, headers: json });
    assert.equal(before.status, 200, before.text);
    await op.call(`${trust.url}/participants/${PHYSIO}/status`, { method: 'POST', body: { status: 'admitted', reason: 'test' }, headers: json });
    const revoked = await op.call<{ status: string }>(`${trust.url}/certificates/${issued.body.serial}/revoke`, { method: 'POST', body: { reason: 'key compromise' }, headers: json });
    assert.equal(revoked.body.status, 'revoked');
    const stolen = [
      second.call<Outcome>(`${trust.url}/participants/${PHYSIO}/status`, { method: 'POST', body: { status: 'suspended', reason: 'stolen key' }, headers: json }),
      second.call<Outcome>(`${trust.url}/certificates`, { method: 'POST', body: { csr: (await csr()).csr, ura: OPERATOR_URA }, headers: json }),
      second.call<Outcome>(`${trust.url}/agreements/network`, { method: 'POST', body: { consentMode: 'opt-in' }, headers: json }),
      second.call<Outcome>(`${trust.url}/participants`),
    ];
    for (const r of await Promise.all(stolen)) {
      assert.equal(r.status, 403, r.text);
      assert.match(r.body.issue[0].diagnostics, /certificate revoked/);
    }
    assert.equal((await client(org(PHYSIO)).call<{ status: string }>(`${trust.url}/participants/${PHYSIO}`)).body.status, 'admitted');
    assert.equal((await op.call(`${trust.url}/participants`)).status, 200, 'the operator\'s own certificate still works');
  });

  it('keeps the operator API for the operator', async () => {
    const r = await client(org(GP)).call<Outcome>(`${trust.url}/participants`, { method: 'POST', body: { ura: '90000301', name: 'X', organizationType: 'V4' }, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 403);
    const read = await client(org(GP)).call<{ ura: string; status: string; hostedBy: string[] }>(`${trust.url}/participants/${GP}`);
    assert.deepEqual([read.body.status, read.body.hostedBy], ['admitted', [VENDOR]]);
  });

  it('issues a certificate from a CSR for an admitted participant only, and renews it', async () => {
    const op = client(operator);
    const json = { 'content-type': 'application/json' };
    await op.call(`${trust.url}/participants`, { method: 'POST', body: { ura: '90000301', name: 'Nieuwe Kliniek', organizationType: 'V4' }, headers: json });
    const first = await csr();
    const early = await op.call<Outcome>(`${trust.url}/certificates`, { method: 'POST', body: { csr: first.csr, ura: '90000301' }, headers: json });
    assert.equal(early.status, 403);
    assert.match(early.body.issue[0].diagnostics, /applied/);
    await op.call(`${trust.url}/participants/90000301/status`, { method: 'POST', body: { status: 'admitted' }, headers: json });
    const issued = await op.call<{ certificate: string; serial: string }>(`${trust.url}/certificates`, { method: 'POST', body: { csr: first.csr, ura: '90000301' }, headers: json });
    assert.equal(issued.status, 201, issued.text);
    const holder: TlsIdentity = { cert: issued.body.certificate, key: first.key, ca: pki.ca.certPem };
    const next = await csr();
    const renewed = await client(holder).call<{ certificate: string; serial: string }>(`${trust.url}/certificates`, { method: 'POST', body: { csr: next.csr }, headers: json });
    assert.equal(renewed.status, 201, renewed.text);
    assert.equal(readCertificateIdentity(renewed.body.certificate).ura, '90000301');
    const record = await client(holder).call<{ replaces: string }>(`${trust.url}/certificates/${renewed.body.serial}`);
    assert.equal(record.body.replaces, issued.body.serial);
  });

  it('answers malformed operator bodies with 400 OperationOutcomes, never a 5xx', async () => {
    const op = client(operator);
    const send = (path: string, body?: string) =>
      op.call<Outcome>(`${trust.url}${path}`, { method: 'POST', ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }) });
    // The ones the review found: no body, JSON null, a name that is not a string.
    for (const [path, body] of [
      ['/participants', undefined],
      ['/participants', 'null'],
      ['/participants', '[]'],
      ['/participants', JSON.stringify({ ura: '90000302', name: 42, organizationType: 'V4' })],
      ['/participants', JSON.stringify({ ura: '90000302', name: 'X', organizationType: 'V4', address: 'Kerkrade' })],
      ['/vendors', JSON.stringify({ kvk: '12345679', name: 'V', hosts: [1] })],
      ['/agreements', 'null'],
      ['/agreements/network', JSON.stringify({ statusMaxAgeSeconds: '30' })],
      ['/certificates', JSON.stringify({ csr: 7 })],
    ] as const) {
      const r = await send(path, body);
      assert.equal(r.status, 400, `${path} ${body}: ${r.text}`);
      assert.equal(r.body.resourceType, 'OperationOutcome');
    }
    // Routes on a participant, vendor and certificate that do not exist: random bodies change nothing.
    const routes = [
      '/participants',
      '/participants/90000999/status',
      '/participants/90000999/qualifications',
      '/participants/90000999/qualifications/bgz/withdraw',
      '/vendors',
      '/vendors/99999999/status',
      '/certificates',
      '/certificates/00/revoke',
      '/agreements',
      '/agreements/network',
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), fc.option(fc.jsonValue(), { nil: undefined }), async (path, value) => {
        const r = await send(path, value === undefined ? undefined : JSON.stringify(value));
        assert.ok(r.status < 500, `${path} ${JSON.stringify(value)}: ${r.status} ${r.text}`);
        if (r.status >= 400) assert.equal(r.body.resourceType, 'OperationOutcome');
      }),
      { numRuns: 200 },
    );
  });

  it('serves signed agreements; parts refuse an older, unsigned or foreign-signed one', async () => {
    const bare = client({ cert: '', key: '', ca: pki.ca.certPem });
    const first = await fetchAgreements({ trustUrl: trust.url, client: bare });
    assert.equal(first.document.network.consentMode, 'opt-in');
    const published = await client(operator).call<{ version: number }>(`${trust.url}/agreements/network`, {
      method: 'POST',
      body: { consentMode: 'opt-out' },
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(published.status, 201);
    const second = await fetchAgreements({ trustUrl: trust.url, client: bare, minimumVersion: first.document.version });
    assert.deepEqual([second.document.version, second.document.network.consentMode], [first.document.version + 1, 'opt-out']);
    await assert.rejects(fetchAgreements({ trustUrl: trust.url, client: bare, minimumVersion: second.document.version + 1 }), AgreementsRefused);
    const jwks = remoteJwks(`${trust.url}/.well-known/jwks.json`, bare);
    const payload = base64url.encode(JSON.stringify(second.document));
    const unsigned = `${base64url.encode(JSON.stringify({ alg: 'none', typ: 'ldn-agreements+jws' }))}.${payload}.`;
    await assert.rejects(verifyAgreements(unsigned, jwks), AgreementsRefused);
    const foreign = await signAgreements({ ...second.document, version: 99 }, await generateSigningKey());
    await assert.rejects(verifyAgreements(foreign, jwks), AgreementsRefused);
    const [h, , sig] = second.jws.split('.');
    await assert.rejects(verifyAgreements(`${h}.${base64url.encode(JSON.stringify({ ...second.document, version: 99 }))}.${sig}`, jwks), AgreementsRefused);
  });
});
