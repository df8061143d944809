import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { createService, type RunningService } from '../kit/http/service.ts';
import { createCa, issueCertificate } from '../kit/pki/certificates.ts';
import type { TlsIdentity } from '../kit/part.ts';
import { createForeignContactPoint, type ForeignOrganization } from '../ncpeh/foreign/contact-point.ts';
import { createNcpehPart, type NcpehRuntime } from '../ncpeh/part.ts';
import { type AffiliationRuntime, withCountryOfAffiliation } from '../ncpeh/foreign/affiliation.ts';
import { BELGIAN_PATIENTS } from '../ncpeh/foreign/belgian-patients.ts';
import { type SignedTrustList, signTrustList, type TrustListContent, thumbprintOfPem } from '../ncpeh/trust-list.ts';
import { type SandboxContext, startPart } from './context.ts';
import { freePort } from './load-balancer.ts';

// Cross-border care in the sandbox: NCPeH-NL as a part of the Dutch network (composed like any
// other part, with the NCPeH organisation's certificate), and a second, small country (Belgium)
// with its own CA, its own contact point, one hospital with a clinician and one pharmacy. The two
// contact points trust each other only through the trust list both of them signed.

export const BELGIUM = {
  country: 'BE',
  hospital: { id: '71000101', name: 'UZ Brussel', kind: 'hospital' } as ForeignOrganization,
  pharmacy: { id: '71000201', name: 'Pharmacie du Sablon', kind: 'pharmacy' } as ForeignOrganization,
  /** The hospital's emergency physician (ISCO-08 2212, specialist medical practitioner). */
  clinician: { id: 'BE-1001', name: 'Dr. Claire Dubois', role: '2212' },
  pharmacist: { id: 'BE-2001', name: 'Luc Peeters', role: '2262' },
};

export interface SecondCountry {
  ncpeh: RunningService;
  ncpehRuntime: NcpehRuntime;
  belgium: { ncpeh: RunningService; ca: string; hospital: TlsIdentity; pharmacy: TlsIdentity; affiliation?: AffiliationRuntime };
  trustList: SignedTrustList;
  manifest: ManifestCrossBorder;
  stop(): Promise<void>;
}

export interface ManifestCrossBorder {
  ncpehNl: { url: string; gateway: string };
  belgium: {
    ca: string;
    ncpeh: string;
    hospital: { id: string; name: string; cert: string; key: string; clinician: typeof BELGIUM.clinician };
    pharmacy: { id: string; name: string; cert: string; key: string; pharmacist: typeof BELGIUM.pharmacist };
    /** Belgium's own citizens, whose summaries a Dutch clinician can ask for ("patient from abroad"). */
    patients?: Array<{ insz: string; given: string; family: string; birthDate: string }>;
  };
}

async function signingKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
}

export async function startSecondCountry(sb: SandboxContext, input: { ncpehIdentity: TlsIdentity; ncpehUra: string; ncpehNodeUrl: () => string }): Promise<SecondCountry> {
  const stops: Array<() => Promise<void>> = [];
  // Belgium's own trust anchor: nothing Dutch chains to it, nothing Belgian to the Dutch CA.
  const beCa = await createCa('Sandbox eHealth CA (Belgium)');
  const beIssue = async (commonName: string, id: string) => {
    const c = await issueCertificate(beCa, { commonName, uzi: { ura: id, systemNumber: '1', agb: '00000000' } });
    return { cert: c.certPem, key: c.keyPem, ca: beCa.certPem };
  };
  const beNcpehTls = await beIssue('NCPeH Belgium', '71000001');
  const beGatewayTls = await beIssue('NCPeH Belgium gateway', '71000001');
  const hospital = await beIssue(BELGIUM.hospital.name, BELGIUM.hospital.id);
  const pharmacy = await beIssue(BELGIUM.pharmacy.name, BELGIUM.pharmacy.id);
  const nlGateway = await sb.pki.issue('ncpeh-gateway', { commonName: 'NCPeH Nederland gateway', uzi: { ura: input.ncpehUra, systemNumber: '2', agb: '00000190' } });

  const nlKey = await signingKey();
  const beKey = await signingKey();
  const gatewayPort = await freePort(sb.host);
  // Belgium answers for its own citizens too (the Netherlands as country of treatment).
  const beGatewayPort = await freePort(sb.host);
  const content: TrustListContent = {
    version: 1,
    issued: new Date().toISOString(),
    entries: [
      { country: 'NL', name: 'NCPeH Nederland', gatewayUrl: `https://${sb.host}:${gatewayPort}`, caCert: sb.pki.ca.certPem, gatewayThumbprint: thumbprintOfPem(nlGateway.identity.cert), signingKey: nlKey.publicJwk },
      { country: 'BE', name: 'NCPeH België', gatewayUrl: `https://${sb.host}:${beGatewayPort}`, caCert: beCa.certPem, gatewayThumbprint: thumbprintOfPem(beGatewayTls.cert), signingKey: beKey.publicJwk },
    ],
  };
  const trustList: SignedTrustList = {
    content,
    signatures: [
      await signTrustList(content, 'NL', await importJWK(nlKey.privateJwk, 'ES256')),
      await signTrustList(content, 'BE', await importJWK(beKey.privateJwk, 'ES256')),
    ],
  };

  const part = createNcpehPart({
    trustList,
    signingKey: nlKey.privateJwk,
    gateway: { cert: nlGateway.identity.cert, key: nlGateway.identity.key, host: sb.host, port: gatewayPort },
    nodeTenantUrl: input.ncpehNodeUrl,
  });
  const ncpeh = await startPart(sb, part, { identity: input.ncpehIdentity, settings: { agreements_refresh_ms: '2000' } });

  // Belgium's contact point on its own trust anchor: no Dutch peer guard (its callers are Belgian).
  const bePart = withCountryOfAffiliation(
    createForeignContactPoint({
      country: 'BE',
      trustList,
      signingKey: beKey.privateJwk,
      gateway: { cert: beGatewayTls.cert, key: beGatewayTls.key },
      organizations: [BELGIUM.hospital, BELGIUM.pharmacy],
    }),
    // Doctors (ISCO-08 221, 2211, 2212) may see a Belgian citizen's summary from abroad.
    { country: 'BE', trustList, gateway: { cert: beGatewayTls.cert, key: beGatewayTls.key, host: sb.host, port: beGatewayPort }, patients: BELGIAN_PATIENTS, admittedRoles: ['221', '2211', '2212'] },
  );
  const be = await createService(bePart, { tls: beNcpehTls, network: sb.network, host: sb.host, port: sb.nextPort(), databaseUrl: sb.databaseUrl, dataDir: sb.pgDir, keyEncryptionKey: sb.keyEncryptionKey, log: sb.log.child({ part: 'ncpeh-be' }) });
  sb.services.push(be); // closed with the sandbox's services

  const dir = join(sb.pki.dir, 'belgium');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, pem: string) => {
    const f = join(dir, name);
    writeFileSync(f, pem, { mode: 0o600 });
    return f;
  };
  const manifest: ManifestCrossBorder = {
    ncpehNl: { url: ncpeh.url, gateway: part.runtime.gateway?.url ?? '' },
    belgium: {
      ca: write('ca.pem', beCa.certPem),
      ncpeh: be.url,
      hospital: { ...BELGIUM.hospital, cert: write('hospital.pem', hospital.cert), key: write('hospital-key.pem', hospital.key), clinician: BELGIUM.clinician },
      pharmacy: { ...BELGIUM.pharmacy, cert: write('pharmacy.pem', pharmacy.cert), key: write('pharmacy-key.pem', pharmacy.key), pharmacist: BELGIUM.pharmacist },
      patients: BELGIAN_PATIENTS.map((p) => ({ insz: p.insz, given: p.given[0], family: p.family, birthDate: p.birthDate })),
    },
  };
  return {
    ncpeh,
    ncpehRuntime: part.runtime,
    belgium: { ncpeh: be, ca: beCa.certPem, hospital, pharmacy, affiliation: bePart.affiliation },
    trustList,
    manifest,
    async stop() {
      for (const s of stops) await s().catch(() => {});
    },
  };
}
