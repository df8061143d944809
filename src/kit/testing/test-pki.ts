import { type CertificateAuthority, createCa, issueCertificate } from '../pki/certificates.ts';
import type { NetworkView, TlsIdentity } from '../part.ts';

// Test helpers: a throw-away network CA and participant identities, so any test can stand up
// a part over real mutual TLS in a few hundred milliseconds.

export interface TestPki {
  ca: CertificateAuthority;
  /** Identity of a participant (UZI-style certificate) chained to the test CA. */
  identity(ura: string, options?: { name?: string; notBefore?: Date; notAfter?: Date; kvk?: string }): Promise<TlsIdentity>;
  /** Identity of a vendor (KvK, no URA). */
  vendor(kvk: string, name?: string): Promise<TlsIdentity>;
  /** Identity issued by another CA with the same shape (must be refused). */
  foreign(ura: string): Promise<TlsIdentity>;
}

export async function createTestPki(): Promise<TestPki> {
  const ca = await createCa('LDN Test CA');
  let other: CertificateAuthority | null = null;
  const issue = async (authority: CertificateAuthority, ura: string, o: { name?: string; notBefore?: Date; notAfter?: Date; kvk?: string } = {}) => {
    const leaf = await issueCertificate(authority, {
      commonName: o.name ?? `Participant ${ura}`,
      uzi: { ura, systemNumber: '1', agb: '00000000' },
      kvk: o.kvk,
      notBefore: o.notBefore,
      notAfter: o.notAfter,
    });
    return { cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem };
  };
  return {
    ca,
    identity: (ura, o) => issue(ca, ura, o),
    async vendor(kvk, name) {
      const leaf = await issueCertificate(ca, { commonName: name ?? `Vendor ${kvk}`, kvk });
      return { cert: leaf.certPem, key: leaf.keyPem, ca: ca.certPem };
    },
    async foreign(ura) {
      other ??= await createCa('Someone Else CA');
      const id = await issue(other, ura);
      return { ...id, ca: other.certPem };
    },
  };
}

/** A NetworkView over a plain map, for tests. */
export function staticNetwork(urls: Record<string, string>): NetworkView & { set(part: string, url: string): void } {
  return {
    url(part) {
      const u = urls[part];
      if (!u) throw new Error(`unknown part in test network: ${part}`);
      return u;
    },
    has: (part) => part in urls,
    set(part, url) {
      urls[part] = url;
    },
  };
}
