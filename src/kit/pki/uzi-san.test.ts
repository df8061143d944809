import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createCa, issueCertificate, readCertificateIdentity } from './certificates.ts';
import { formatKvkUri, formatUziOtherName, parseKvkUri, parseUziOtherName } from './uzi-san.ts';

const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^\\d{${min},${max}}$`));

describe('UZI SAN otherName', () => {
  it('round-trips every well-formed name', () => {
    fc.assert(
      fc.property(digits(1, 9), digits(8, 8), digits(8, 8), (systemNumber, ura, agb) => {
        assert.deepEqual(parseUziOtherName(formatUziOtherName({ systemNumber, ura, agb })), { systemNumber, ura, agb });
      }),
    );
  });

  it('never throws on arbitrary text and accepts only the exact shape', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const parsed = parseUziOtherName(s);
        if (parsed) assert.equal(formatUziOtherName(parsed), s);
        const kvk = parseKvkUri(s);
        if (kvk) assert.equal(formatKvkUri(kvk), s);
      }),
    );
    assert.equal(parseUziOtherName('2.16.528.1.1007.99.2110-1-1-S-90000101-00.000-x'), null);
  });

  it('is carried in an issued certificate and read back', async () => {
    const ca = await createCa('t');
    const leaf = await issueCertificate(ca, { commonName: 'Apotheek', uzi: { ura: '90000104', systemNumber: '7', agb: '02010104' } });
    const id = readCertificateIdentity(leaf.certPem);
    assert.equal(id.ura, '90000104');
    assert.equal(id.systemNumber, '7');
    const vendor = await issueCertificate(ca, { commonName: 'Vendor', kvk: '12345678' });
    assert.equal(readCertificateIdentity(vendor.certPem).kvk, '12345678');
    const none = await issueCertificate(ca, { commonName: 'Nobody' });
    assert.throws(() => readCertificateIdentity(none.certPem), /no UZI otherName/);
  });
});
