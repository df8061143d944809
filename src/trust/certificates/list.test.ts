import 'reflect-metadata';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { type CertificateAuthority, createCa } from '../../kit/pki/certificates.ts';
import type { Store } from '../../kit/store/store.ts';
import { backends } from '../../kit/testing/backends.ts';
import { authMigrations } from '../auth/migrations.ts';
import { registerMigrations } from '../register/migrations.ts';
import { registerParticipant, setParticipantStatus } from '../register/participants.ts';
import { issueFromCsr, revokeCertificate } from './lifecycle.ts';
import { listCertificates, parseCertificateListQuery } from './list.ts';

// The operator's certificate list: paging, filters by holder and status, strict query parsing.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

async function csr(): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=x', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } })).toString('pem');
}

describe('certificate list query', () => {
  it('takes ura, status and paging; refuses anything else with 400', () => {
    assert.deepEqual(parseCertificateListQuery({}), { ura: undefined, status: undefined, count: 50, offset: 0 });
    assert.deepEqual(parseCertificateListQuery({ ura: '90000101', status: 'revoked', _count: '2', _offset: '4' }), { ura: '90000101', status: 'revoked', count: 2, offset: 4 });
    for (const bad of [{ ura: '123' }, { status: 'lost' }, { _count: '0' }, { _count: '201' }, { _offset: '-1' }, { other: '1' }, { ura: ['90000101', '90000102'] }]) {
      assert.throws(() => parseCertificateListQuery(bad), (e) => e instanceof HttpError && e.status === 400, JSON.stringify(bad));
    }
  });

  it('never throws anything but a 400 (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('ura', 'status', '_count', '_offset', 'x'), fc.oneof(fc.string(), fc.array(fc.string()))), (q) => {
        try {
          parseCertificateListQuery(q);
        } catch (e) {
          assert.ok(e instanceof HttpError && e.status === 400);
        }
      }),
      { numRuns: 300 },
    );
  });
});

for (const backend of await backends()) {
  describe(`certificate list on ${backend.name}`, () => {
    let store: Store;
    let ca: CertificateAuthority;
    before(async () => {
      store = await backend.open('certlist', [...registerMigrations, ...authMigrations]);
      ca = await createCa('List Test CA');
    });
    after(() => store.close());

    it('pages newest first and filters by holder and status', async () => {
      for (const ura of ['90000401', '90000402']) {
        await registerParticipant(store, { ura, name: `Zorg ${ura}`, organizationType: 'V4' }, 'op');
        await setParticipantStatus(store, ura, 'admitted', '', 'op');
      }
      const a1 = await issueFromCsr(store, ca, { csrPem: await csr(), ura: '90000401' });
      await issueFromCsr(store, ca, { csrPem: await csr(), ura: '90000401' });
      await issueFromCsr(store, ca, { csrPem: await csr(), ura: '90000402' });
      await revokeCertificate(store, a1.serial, 'key compromise');

      const all = await listCertificates(store, { count: 2, offset: 0 });
      assert.equal(all.total, 3);
      assert.equal(all.certificates.length, 2);
      const rest = await listCertificates(store, { count: 2, offset: 2 });
      assert.equal(rest.certificates.length, 1);
      assert.equal(new Set([...all.certificates, ...rest.certificates].map((c) => c.serial)).size, 3);

      const leiden = await listCertificates(store, { ura: '90000401', count: 50, offset: 0 });
      assert.deepEqual(leiden.certificates.map((c) => c.ura), ['90000401', '90000401']);
      const revoked = await listCertificates(store, { status: 'revoked', count: 50, offset: 0 });
      assert.deepEqual(revoked.certificates.map((c) => c.serial), [a1.serial]);
      assert.ok(revoked.certificates[0].revokedAt);
      assert.equal((await listCertificates(store, { status: 'valid', count: 50, offset: 0 })).total, 2);
      // Valid but past its notAfter: expired.
      const later = new Date(Date.now() + 3 * 365 * 86400_000);
      assert.equal((await listCertificates(store, { status: 'expired', count: 50, offset: 0 }, later)).total, 2);
    });
  });
}
