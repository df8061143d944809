import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { badRequest, forbidden, notFound } from '../../kit/fhir/outcome.ts';
import { thumbprintOf } from '../../kit/http/peer.ts';
import { type CertificateAuthority, issueCertificate, readCertificateIdentity } from '../../kit/pki/certificates.ts';
import type { Queryable, Store } from '../../kit/store/store.ts';

// Certificate lifecycle at the network CA: a PKCS#10 request is signed only for an admitted
// participant (or vendor), whose identity comes from the register, never from the request's
// subject. Renewal issues a successor for the same holder; revocation feeds the status list.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface CertificateRequestInput {
  csrPem: string;
  /** Holder: a participant URA or a vendor KvK (exactly one). */
  ura?: string;
  kvk?: string;
  systemNumber?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  validityDays?: number;
  /** Serial of the certificate this one renews. */
  replaces?: string;
}

export interface IssuedCertificate {
  serial: string;
  thumbprint: string;
  certPem: string;
  notAfter: string;
}

export interface CertificateRecord {
  serial: string;
  thumbprint: string;
  ura: string | null;
  kvk: string | null;
  status: 'valid' | 'revoked';
  notAfter: string;
  revokedAt: string | null;
  replaces: string | null;
}

const MAX_VALIDITY_DAYS = 825;

async function holderStatus(db: Queryable, ura?: string, kvk?: string): Promise<{ name: string; agb: string; status: string } | null> {
  if (ura) {
    const rows = await db.query<{ name: string; agb: string | null; status: string }>('SELECT name, agb, status FROM participants WHERE ura = $1', [ura]);
    return rows.length ? { name: rows[0].name, agb: rows[0].agb ?? '00000000', status: rows[0].status } : null;
  }
  const rows = await db.query<{ name: string; status: string }>('SELECT name, status FROM vendors WHERE kvk = $1', [kvk]);
  return rows.length ? { name: rows[0].name, agb: '', status: rows[0].status } : null;
}

export async function parseCsr(csrPem: string): Promise<{ publicKey: CryptoKey }> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw badRequest('csr is not a PKCS#10 certificate request (PEM)');
  }
  const alg = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') throw badRequest('csr key must be ECDSA P-256 (ES256 is the network algorithm)');
  if (!(await csr.verify())) throw badRequest('csr signature does not verify (proof of possession failed)');
  return { publicKey: await csr.publicKey.export() };
}

/** Signs a CSR for an admitted holder and records the certificate. */
export async function issueFromCsr(store: Store, ca: CertificateAuthority, input: CertificateRequestInput): Promise<IssuedCertificate> {
  if (!!input.ura === !!input.kvk) throw badRequest('name exactly one holder: ura or kvk');
  const holder = await holderStatus(store, input.ura, input.kvk);
  if (!holder) throw forbidden(`${input.ura ? `participant ${input.ura}` : `vendor ${input.kvk}`} was never admitted`);
  if (holder.status !== 'admitted') throw forbidden(`${input.ura ? `participant ${input.ura}` : `vendor ${input.kvk}`} is ${holder.status}`);
  const { publicKey } = await parseCsr(input.csrPem);
  const days = Math.min(input.validityDays ?? 365, MAX_VALIDITY_DAYS);
  const notBefore = new Date(Date.now() - 60_000);
  const leaf = await issueCertificate(ca, {
    commonName: holder.name,
    uzi: input.ura ? { ura: input.ura, systemNumber: input.systemNumber ?? '1', agb: holder.agb } : undefined,
    kvk: input.kvk,
    publicKey,
    dnsNames: input.dnsNames,
    ipAddresses: input.ipAddresses,
    notBefore,
    notAfter: new Date(notBefore.getTime() + days * 86400_000),
  });
  const record = await recordCertificate(store, leaf.certPem, input.replaces);
  return { serial: record.serial, thumbprint: record.thumbprint, certPem: leaf.certPem, notAfter: record.notAfter };
}

/** Records a certificate the CA issued (also for certificates issued before the register existed). */
export async function recordCertificate(db: Queryable, certPem: string, replaces?: string): Promise<CertificateRecord> {
  const cert = new x509.X509Certificate(certPem);
  const der = Buffer.from(cert.rawData);
  const id = readCertificateIdentity(der);
  const thumbprint = thumbprintOf(der);
  await db.query(
    `INSERT INTO certificates (serial, thumbprint, ura, kvk, system_number, not_before, not_after, pem, replaces)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (serial) DO NOTHING`,
    [cert.serialNumber, thumbprint, id.ura || null, id.kvk ?? null, id.systemNumber, cert.notBefore.toISOString(), cert.notAfter.toISOString(), certPem, replaces ?? null],
  );
  return getCertificate(db, cert.serialNumber);
}

export async function getCertificate(db: Queryable, serial: string): Promise<CertificateRecord> {
  const rows = await db.query<{
    serial: string;
    thumbprint: string;
    ura: string | null;
    kvk: string | null;
    status: 'valid' | 'revoked';
    not_after: unknown;
    revoked_at: unknown;
    replaces: string | null;
  }>('SELECT serial, thumbprint, ura, kvk, status, not_after, revoked_at, replaces FROM certificates WHERE serial = $1', [serial]);
  if (!rows.length) throw notFound(`no certificate ${serial}`);
  const r = rows[0];
  return {
    serial: r.serial,
    thumbprint: r.thumbprint,
    ura: r.ura,
    kvk: r.kvk,
    status: r.status,
    notAfter: new Date(String(r.not_after instanceof Date ? r.not_after.toISOString() : r.not_after)).toISOString(),
    revokedAt: r.revoked_at ? new Date(r.revoked_at instanceof Date ? r.revoked_at.toISOString() : String(r.revoked_at)).toISOString() : null,
    replaces: r.replaces,
  };
}

export async function certificateByThumbprint(db: Queryable, thumbprint: string): Promise<CertificateRecord | null> {
  const rows = await db.query<{ serial: string }>('SELECT serial FROM certificates WHERE thumbprint = $1', [thumbprint]);
  return rows.length ? getCertificate(db, rows[0].serial) : null;
}

export async function revokeCertificate(db: Queryable, serial: string, reason: string): Promise<CertificateRecord> {
  const found = await getCertificate(db, serial);
  if (found.status === 'valid') {
    await db.query(`UPDATE certificates SET status = 'revoked', revoked_at = now(), revocation_reason = $2 WHERE serial = $1`, [serial, reason]);
  }
  return getCertificate(db, serial);
}

/** Thumbprints of revoked certificates that would still pass TLS (not yet expired). */
export async function revokedThumbprints(db: Queryable): Promise<string[]> {
  const rows = await db.query<{ thumbprint: string }>(
    `SELECT thumbprint FROM certificates WHERE status = 'revoked' AND not_after > now() ORDER BY thumbprint`,
  );
  return rows.map((r) => r.thumbprint);
}
