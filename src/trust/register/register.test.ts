import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { createCa, type CertificateAuthority, readCertificateIdentity } from '../../kit/pki/certificates.ts';
import type { Store } from '../../kit/store/store.ts';
import { backends } from '../../kit/testing/backends.ts';
import { CAST_NETWORK } from '../../sandbox/cast.ts';
import { authMigrations } from '../auth/migrations.ts';
import { generateSigningKey } from '../auth/keys.ts';
import { changeNetworkSettings, currentAgreements, publishAgreements } from '../agreements/store.ts';
import { issueFromCsr, parseCsr, revokeCertificate } from '../certificates/lifecycle.ts';
import { buildStatusList, refusalFor, signStatusList, verifyStatusList } from '../certificates/status-list.ts';
import { seedTrust } from '../seed.ts';
import { registerMigrations } from './migrations.ts';
import {
  getParticipant,
  holdsQualification,
  qualify,
  registerParticipant,
  setParticipantStatus,
  statusHistory,
  withdrawQualification,
} from './participants.ts';

// The register, certificate lifecycle, status list and agreements versions over a real store,
// on PGlite and (when reachable) PostgreSQL.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

async function csr(): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=whatever', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } })).toString('pem');
}

const status = (err: unknown, code: number) => err instanceof HttpError && err.status === code;

for (const backend of await backends()) {
  describe(`trust register on ${backend.name}`, () => {
    let store: Store;
    let ca: CertificateAuthority;
    before(async () => {
      store = await backend.open('trustreg', [...registerMigrations, ...authMigrations]);
      ca = await createCa('Register Test CA');
    });
    after(() => store.close());

    it('moves a participant through applied → admitted → suspended → admitted → revoked with history', async () => {
      await registerParticipant(store, { ura: '90000201', name: 'Test Zorg', organizationType: 'V4', address: { city: 'Utrecht' } }, 'op');
      await setParticipantStatus(store, '90000201', 'admitted', 'vetted', 'op');
      await setParticipantStatus(store, '90000201', 'suspended', 'audit finding', 'op');
      await assert.rejects(setParticipantStatus(store, '90000201', 'applied', '', 'op'), (e) => status(e, 409));
      await setParticipantStatus(store, '90000201', 'admitted', 'resolved', 'op');
      const p = await setParticipantStatus(store, '90000201', 'revoked', 'left', 'op');
      assert.equal(p.status, 'revoked');
      await assert.rejects(setParticipantStatus(store, '90000201', 'admitted', '', 'op'), (e) => status(e, 409));
      const h = await statusHistory(store, 'participant', '90000201');
      assert.deepEqual(h.map((x) => x.status), ['applied', 'admitted', 'suspended', 'admitted', 'revoked']);
      assert.equal(h[2].reason, 'audit finding');
    });

    it('validates input', async () => {
      await assert.rejects(registerParticipant(store, { ura: '123', name: 'x', organizationType: 'V4' }, 'op'), (e) => status(e, 400));
      await assert.rejects(registerParticipant(store, { ura: '90000299', name: '', organizationType: 'V4' }, 'op'), (e) => status(e, 400));
      await assert.rejects(setParticipantStatus(store, '90009999', 'admitted', '', 'op'), (e) => status(e, 404));
    });

    it('keeps qualifications with validity periods', async () => {
      await registerParticipant(store, { ura: '90000202', name: 'Q Zorg', organizationType: 'Z3' }, 'op');
      const future = new Date(Date.now() + 86400_000).toISOString();
      await qualify(store, '90000202', { qualification: 'bgz' }, 'op');
      let p = await qualify(store, '90000202', { qualification: 'ips', validFrom: future }, 'op');
      assert.equal(holdsQualification(p, 'bgz'), true);
      assert.equal(holdsQualification(p, 'ips'), false, 'not yet valid');
      assert.equal(holdsQualification(p, 'ips', new Date(Date.now() + 2 * 86400_000)), true);
      p = await withdrawQualification(store, '90000202', 'bgz');
      assert.equal(holdsQualification(p, 'bgz', new Date(Date.now() + 1000)), false);
      await assert.rejects(qualify(store, '90000202', { qualification: 'bgz', validFrom: future, validUntil: new Date().toISOString() }, 'op'), (e) => status(e, 400));
    });

    it('qualifies only for an exchange or generic function the current agreements name', async () => {
      await registerParticipant(store, { ura: '90000204', name: 'Typo Zorg', organizationType: 'Z3' }, 'op');
      await assert.rejects(
        qualify(store, '90000204', { qualification: 'bgzz' }, 'op'),
        (e) => status(e, 422) && /bgzz/.test((e as Error).message) && /bgz,/.test((e as Error).message),
      );
      await assert.rejects(qualify(store, '90000204', { qualification: 'root-access' }, 'op'), (e) => status(e, 422));
      const p = await qualify(store, '90000204', { qualification: 'localization' }, 'op');
      assert.equal(holdsQualification(await qualify(store, '90000204', { qualification: 'acute-zorg' }, 'op'), 'acute-zorg'), true);
      assert.equal(holdsQualification(p, 'localization'), true);
      assert.equal((await getParticipant(store, '90000204')).qualifications.some((q) => q.qualification === 'bgzz'), false);
    });

    it('signs a CSR only for an admitted participant, from the register identity', async () => {
      await registerParticipant(store, { ura: '90000203', name: 'CSR Zorg', organizationType: 'V4', agb: '06000203' }, 'op');
      await assert.rejects(issueFromCsr(store, ca, { csrPem: await csr(), ura: '90000203' }), (e) => status(e, 403));
      await assert.rejects(issueFromCsr(store, ca, { csrPem: await csr(), ura: '90009998' }), (e) => status(e, 403));
      await setParticipantStatus(store, '90000203', 'admitted', '', 'op');
      const issued = await issueFromCsr(store, ca, { csrPem: await csr(), ura: '90000203' });
      const id = readCertificateIdentity(issued.certPem);
      assert.deepEqual([id.ura, id.agb, id.commonName], ['90000203', '06000203', 'CSR Zorg']);
      const renewed = await issueFromCsr(store, ca, { csrPem: await csr(), ura: '90000203', replaces: issued.serial });
      assert.notEqual(renewed.serial, issued.serial);
      await revokeCertificate(store, issued.serial, 'key compromise');
      const list = await buildStatusList(store, 'https://trust');
      assert.ok(list.revoked.includes(issued.thumbprint));
      assert.ok(!list.revoked.includes(renewed.thumbprint));
      assert.equal(refusalFor(list, { ura: '90000203', thumbprint: issued.thumbprint }), 'certificate revoked');
      assert.equal(refusalFor(list, { ura: '90000203', thumbprint: renewed.thumbprint }), null);
      assert.match(refusalFor(list, { ura: '90009997', thumbprint: 'x' }) ?? '', /not admitted/);
      await setParticipantStatus(store, '90000203', 'suspended', '', 'op');
      assert.match(refusalFor(await buildStatusList(store, 'https://trust'), { ura: '90000203', thumbprint: renewed.thumbprint }) ?? '', /suspended/);
      await setParticipantStatus(store, '90000203', 'revoked', '', 'op');
      assert.ok((await buildStatusList(store, 'https://trust')).revoked.includes(renewed.thumbprint), 'revoking the holder revokes its certificates');
    });

    it('refuses garbage and a CSR whose signature does not verify', async () => {
      await assert.rejects(parseCsr('not a csr'), (e) => status(e, 400));
      const good = await csr();
      const der = Buffer.from(x509.PemConverter.decodeFirst(good));
      der[der.length - 5] ^= 0xff; // inside the signature
      const bad = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
      await assert.rejects(parseCsr(bad), (e) => status(e, 400));
      await fc.assert(
        fc.asyncProperty(fc.string(), async (s) => {
          await assert.rejects(parseCsr(s), (e) => status(e, 400));
        }),
        { numRuns: 50 },
      );
    });

    it('signs the status list and refuses it from another key or issuer', async () => {
      const key = await generateSigningKey();
      const jws = await signStatusList(await buildStatusList(store, 'https://trust'), key);
      assert.equal((await verifyStatusList(jws, key.publicKey, 'https://trust')).iss, 'https://trust');
      await assert.rejects(verifyStatusList(jws, (await generateSigningKey()).publicKey, 'https://trust'));
      await assert.rejects(verifyStatusList(jws, key.publicKey, 'https://elsewhere'));
    });

    it('versions the agreements upward only', async () => {
      const v1 = await currentAgreements(store);
      assert.equal(v1.version, 1);
      const v2 = await changeNetworkSettings(store, { consentMode: 'opt-out' }, 'op');
      assert.deepEqual([v2.version, v2.network.consentMode], [2, 'opt-out']);
      await assert.rejects(publishAgreements(store, { ...v1, version: 2 }, 'op'), (e) => status(e, 409));
      await assert.rejects(publishAgreements(store, { ...v1, scopes: [...v1.scopes, v1.scopes[0]] }, 'op'), (e) => status(e, 400));
      assert.equal((await currentAgreements(store)).network.consentMode, 'opt-out');
    });

    it('seeds the cast idempotently with certificates through the CSR lifecycle', async () => {
      const first = await seedTrust(store, { ca, ...CAST_NETWORK });
      assert.equal(first.participants.size, 7, 'six care organisations and the national contact point');
      assert.equal(readCertificateIdentity(first.participants.get('90000103')!.cert).ura, '90000103');
      assert.equal(readCertificateIdentity(first.vendors.get('12345678')!.cert).kvk, '12345678');
      const gp = await getParticipant(store, '90000103');
      assert.equal(gp.status, 'admitted');
      assert.ok(holdsQualification(gp, 'localization'));
      assert.deepEqual(gp.hostedBy, ['12345678']);
      await seedTrust(store, { ca, issueCertificates: false, ...CAST_NETWORK });
      assert.equal((await getParticipant(store, '90000103')).qualifications.length, gp.qualifications.length);
    });
  });
}
