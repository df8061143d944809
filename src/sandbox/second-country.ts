import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { createService, type RunningService } from '../kit/http/service.ts';
import { createCa, issueCertificate } from '../kit/pki/certificates.ts';
import type { NetworkView, PartDefinition, TlsIdentity } from '../kit/part.ts';
import { configuredNcpehPart } from '../ncpeh/configured.ts';
import { type AffiliationRuntime, withCountryOfAffiliation } from '../ncpeh/foreign/affiliation.ts';
import { BELGIAN_PATIENTS } from '../ncpeh/foreign/belgian-patients.ts';
import { createForeignContactPoint, type ForeignOrganization } from '../ncpeh/foreign/contact-point.ts';
import type { NcpehRuntime } from '../ncpeh/part.ts';
import { type SignedTrustList, signTrustList, type TrustListContent, thumbprintOfPem } from '../ncpeh/trust-list.ts';
import { type SandboxContext, startPart } from './context.ts';
import { freePort } from './load-balancer.ts';
import type { SandboxPki } from './pki.ts';

// Cross-border care in the sandbox: NCPeH-NL as a part of the Dutch network (composed like any
// other part, with the NCPeH organisation's certificate), and a second, small country (Belgium)
// with its own CA, its own contact point, one hospital with a clinician and one pharmacy. The two
// contact points trust each other only through the trust list both of them signed.
// Everything is first written to files (prepareSecondCountry): NCPeH-NL then starts from its
// `ldn serve ncpeh` settings and Belgium from its configuration file, whether the sandbox runs
// them in its own process or each as a process of its own (`ldn sandbox --processes`).

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
    /** Belgium's contact point's own process (`ldn sandbox --processes`: `ldn sandbox second-country`). */
    pid?: number;
    hospital: { id: string; name: string; cert: string; key: string; clinician: typeof BELGIUM.clinician };
    pharmacy: { id: string; name: string; cert: string; key: string; pharmacist: typeof BELGIUM.pharmacist };
    /** Belgium's own citizens, whose summaries a Dutch clinician can ask for ("patient from abroad"). */
    patients?: Array<{ insz: string; given: string; family: string; birthDate: string }>;
  };
}

/** Belgium's contact point as a file: what `ldn sandbox second-country <file>` starts from. */
export interface BelgianContactPointConfig {
  country: string;
  trustList: string;
  signingKey: string;
  gateway: { cert: string; key: string };
  tls: { cert: string; key: string; ca: string };
  organizations: ForeignOrganization[];
  /** Belgium as country of affiliation for its own citizens (foreign/affiliation.ts): where its gateway listens, whom it admits. */
  affiliation?: { host: string; port: number; admittedRoles: string[] };
}

/** The second country written to disk, before anything of it runs. */
export interface SecondCountryMaterial {
  /** NCPeH-NL's `ldn serve ncpeh` settings but the node's URL (file paths, the gateway's port). */
  ncpehSettings: Record<string, string>;
  gatewayUrl: string;
  /** Belgium's configuration file (BelgianContactPointConfig). */
  belgiumConfig: string;
  belgium: { ca: string; caFile: string; hospital: TlsIdentity; pharmacy: TlsIdentity; files: { hospital: { cert: string; key: string }; pharmacy: { cert: string; key: string } } };
  trustList: SignedTrustList;
}

async function signingKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
}

/**
 * Belgium's CA and certificates, both contact points' signing keys, NCPeH-NL's gateway certificate
 * and the trust list both sign, as files under the sandbox PKI (new each sandbox run: the keys that
 * must outlast a restart, such as the contact points' patient keys, are sealed in their stores).
 */
export async function prepareSecondCountry(input: { pki: SandboxPki; host: string; ncpehUra: string; gatewayPort: number; belgiumGatewayPort?: number }): Promise<SecondCountryMaterial> {
  const dir = join(input.pki.dir, 'belgium');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const write = (name: string, text: string, secret = false) => {
    const f = join(dir, name);
    writeFileSync(f, text, secret ? { mode: 0o600 } : {});
    return f;
  };
  // Belgium's own trust anchor: nothing Dutch chains to it, nothing Belgian to the Dutch CA.
  const beCa = await createCa('Sandbox eHealth CA (Belgium)');
  const beIssue = async (file: string, commonName: string, id: string) => {
    const c = await issueCertificate(beCa, { commonName, uzi: { ura: id, systemNumber: '1', agb: '00000000' } });
    return { cert: c.certPem, key: c.keyPem, ca: beCa.certPem, files: { cert: write(`${file}.pem`, c.certPem), key: write(`${file}-key.pem`, c.keyPem, true) } };
  };
  const beNcpehTls = await beIssue('contact-point', 'NCPeH Belgium', '71000001');
  const beGatewayTls = await beIssue('gateway', 'NCPeH Belgium gateway', '71000001');
  const hospital = await beIssue('hospital', BELGIUM.hospital.name, BELGIUM.hospital.id);
  const pharmacy = await beIssue('pharmacy', BELGIUM.pharmacy.name, BELGIUM.pharmacy.id);
  const nlGateway = await input.pki.issue('ncpeh-gateway', { commonName: 'NCPeH Nederland gateway', uzi: { ura: input.ncpehUra, systemNumber: '2', agb: '00000190' } });

  const nlKey = await signingKey();
  const beKey = await signingKey();
  const gatewayUrl = `https://${input.host}:${input.gatewayPort}`;
  const content: TrustListContent = {
    version: 1,
    issued: new Date().toISOString(),
    entries: [
      { country: 'NL', name: 'NCPeH Nederland', gatewayUrl, caCert: input.pki.ca.certPem, gatewayThumbprint: thumbprintOfPem(nlGateway.identity.cert), signingKey: nlKey.publicJwk },
      // With a port of its own Belgium answers for its own citizens too (the Netherlands as country of treatment).
      { country: 'BE', name: 'NCPeH België', gatewayUrl: `https://${input.host}:${input.belgiumGatewayPort ?? 1}`, caCert: beCa.certPem, gatewayThumbprint: thumbprintOfPem(beGatewayTls.cert), signingKey: beKey.publicJwk },
    ],
  };
  const trustList: SignedTrustList = {
    content,
    signatures: [
      await signTrustList(content, 'NL', await importJWK(nlKey.privateJwk, 'ES256')),
      await signTrustList(content, 'BE', await importJWK(beKey.privateJwk, 'ES256')),
    ],
  };
  const trustListFile = write('trust-list.json', JSON.stringify(trustList));
  const caFile = write('ca.pem', beCa.certPem);
  const belgiumConfig: BelgianContactPointConfig = {
    country: BELGIUM.country,
    trustList: trustListFile,
    signingKey: write('signing-key.json', JSON.stringify(beKey.privateJwk), true),
    gateway: beGatewayTls.files,
    tls: { ...beNcpehTls.files, ca: caFile },
    organizations: [BELGIUM.hospital, BELGIUM.pharmacy],
    // Doctors (ISCO-08 221, 2211, 2212) may see a Belgian citizen's summary from abroad.
    ...(input.belgiumGatewayPort ? { affiliation: { host: input.host, port: input.belgiumGatewayPort, admittedRoles: ['221', '2211', '2212'] } } : {}),
  };
  const nlSigningKeyFile = join(input.pki.dir, 'ncpeh-signing-key.json');
  writeFileSync(nlSigningKeyFile, JSON.stringify(nlKey.privateJwk), { mode: 0o600 });
  return {
    ncpehSettings: {
      trust_list: trustListFile,
      signing_key: nlSigningKeyFile,
      gateway_cert: nlGateway.cert,
      gateway_key: nlGateway.key,
      gateway_host: input.host,
      gateway_port: String(input.gatewayPort),
      agreements_refresh_ms: '2000',
    },
    gatewayUrl,
    belgiumConfig: write('contact-point.json', JSON.stringify(belgiumConfig, null, 2)),
    belgium: {
      ca: beCa.certPem,
      caFile,
      hospital: { cert: hospital.cert, key: hospital.key, ca: beCa.certPem },
      pharmacy: { cert: pharmacy.cert, key: pharmacy.key, ca: beCa.certPem },
      files: { hospital: hospital.files, pharmacy: pharmacy.files },
    },
    trustList,
  };
}

/** Belgium's contact point and its certificate, from its configuration file (both run modes). */
export function belgianContactPoint(configFile: string): { part: PartDefinition; tls: TlsIdentity; affiliation?: AffiliationRuntime } {
  const c = JSON.parse(readFileSync(configFile, 'utf8')) as BelgianContactPointConfig;
  const read = (f: string) => readFileSync(f, 'utf8');
  const trustList = JSON.parse(read(c.trustList));
  const gateway = { cert: read(c.gateway.cert), key: read(c.gateway.key) };
  const treatment = createForeignContactPoint({
    country: c.country,
    trustList,
    signingKey: JSON.parse(read(c.signingKey)),
    gateway,
    organizations: c.organizations,
  });
  const tls = { cert: read(c.tls.cert), key: read(c.tls.key), ca: read(c.tls.ca) };
  if (!c.affiliation) return { part: treatment, tls };
  const part = withCountryOfAffiliation(treatment, {
    country: c.country,
    trustList,
    gateway: { ...gateway, host: c.affiliation.host, port: c.affiliation.port },
    patients: BELGIAN_PATIENTS,
    admittedRoles: c.affiliation.admittedRoles,
  });
  return { part, tls, affiliation: part.affiliation };
}

/** Belgium is no part of the Dutch network: it knows none of its parts. */
export const NO_DUTCH_NETWORK: NetworkView = {
  url: (p) => {
    throw new Error(`the second country has no URL for the Dutch part "${p}"`);
  },
  has: () => false,
};

/** The manifest's view of both contact points. */
export function crossBorderManifest(material: SecondCountryMaterial, urls: { ncpehNl: string; belgium: string }): ManifestCrossBorder {
  return {
    ncpehNl: { url: urls.ncpehNl, gateway: material.gatewayUrl },
    belgium: {
      ca: material.belgium.caFile,
      ncpeh: urls.belgium,
      hospital: { ...BELGIUM.hospital, ...material.belgium.files.hospital, clinician: BELGIUM.clinician },
      pharmacy: { ...BELGIUM.pharmacy, ...material.belgium.files.pharmacy, pharmacist: BELGIUM.pharmacist },
      patients: BELGIAN_PATIENTS.map((p) => ({ insz: p.insz, given: p.given[0], family: p.family, birthDate: p.birthDate })),
    },
  };
}

export async function startSecondCountry(sb: SandboxContext, input: { ncpehIdentity: TlsIdentity; ncpehUra: string; ncpehNodeUrl: string }): Promise<SecondCountry> {
  const material = await prepareSecondCountry({ pki: sb.pki, host: sb.host, ncpehUra: input.ncpehUra, gatewayPort: await freePort(sb.host), belgiumGatewayPort: await freePort(sb.host) });
  // NCPeH-NL from the settings `ldn serve ncpeh` reads.
  const settings = { ...material.ncpehSettings, node_tenant_url: input.ncpehNodeUrl };
  const part = configuredNcpehPart(settings);
  const ncpeh = await startPart(sb, part, { identity: input.ncpehIdentity, settings });

  // Belgium's contact point on its own trust anchor: no Dutch peer guard (its callers are Belgian).
  const belgian = belgianContactPoint(material.belgiumConfig);
  const be = await createService(belgian.part, {
    tls: belgian.tls,
    network: NO_DUTCH_NETWORK,
    host: sb.host,
    port: sb.nextPort(),
    databaseUrl: sb.databaseUrl,
    dataDir: sb.pgDir,
    keyEncryptionKey: sb.keyEncryptionKey,
    log: sb.log.child({ part: 'ncpeh-be' }),
  });
  sb.services.push(be); // closed with the sandbox's services

  return {
    ncpeh,
    ncpehRuntime: part.runtime,
    belgium: { ncpeh: be, ca: material.belgium.ca, hospital: material.belgium.hospital, pharmacy: material.belgium.pharmacy, affiliation: belgian.affiliation },
    trustList: material.trustList,
    manifest: crossBorderManifest(material, { ncpehNl: ncpeh.url, belgium: be.url }),
    async stop() {},
  };
}
