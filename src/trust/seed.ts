import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { TlsIdentity } from '../kit/part.ts';
import type { CertificateAuthority } from '../kit/pki/certificates.ts';
import type { Store } from '../kit/store/store.ts';
import { currentAgreements } from './agreements/store.ts';
import { issueFromCsr } from './certificates/lifecycle.ts';
import { getParticipant, holdsQualification, qualify, registerParticipant, registerVendor, setParticipantStatus, setVendorStatus } from './register/participants.ts';

// Admits a given set of organisations (in the sandbox: its cast) the way an operator would: register, admit, qualify, and issue each
// holder's certificate from a CSR through the lifecycle (the private key never leaves the
// holder; here the holder is this function). Idempotent: known participants are left as they are.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** LDN's own organisation-type code for the network operator (not a Vektis code). */
export const OPERATOR_ORGANIZATION_TYPE = 'NB';
/** Generic functions every care organisation of the cast is qualified for. */
export const GENERIC_FUNCTIONS = ['localization', 'addressing', 'consent'];

/** An organisation to admit: what the register and its certificate need. */
export interface SeedOrganization {
  ura: string;
  agb: string;
  name: string;
  type: string;
  city: string;
}

/** A vendor to admit with the organisations it hosts (URAs). */
export interface SeedVendor {
  kvk: string;
  name: string;
  hosts: string[];
}

export interface SeedOptions {
  ca?: CertificateAuthority;
  organizations: readonly SeedOrganization[];
  vendors: readonly SeedVendor[];
  /** The network operator's organisation (its URA is configuration: the sandbox takes it from the cast). */
  operator: { ura: string; name: string };
  /** Issue certificates through the CSR lifecycle (needs `ca`). Default true when ca is given. */
  issueCertificates?: boolean;
}

export interface SeedResult {
  participants: Map<string, TlsIdentity>;
  vendors: Map<string, TlsIdentity>;
}

const ACTOR = 'seed';
const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

async function csrFor(name: string): Promise<{ csrPem: string; keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${name.replace(/[,=+]/g, ' ')}`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { csrPem: csr.toString('pem'), keyPem: x509.PemConverter.encode(der, 'PRIVATE KEY') };
}

async function admitted(store: Store, ura: string): Promise<void> {
  const p = await getParticipant(store, ura);
  if (p.status === 'applied') await setParticipantStatus(store, ura, 'admitted', 'sandbox cast', ACTOR);
}

export async function seedTrust(store: Store, options: SeedOptions): Promise<SeedResult> {
  const { organizations, vendors, operator } = options;
  const agreements = await currentAgreements(store);
  const result: SeedResult = { participants: new Map(), vendors: new Map() };

  await registerParticipant(store, { ura: operator.ura, name: operator.name, organizationType: OPERATOR_ORGANIZATION_TYPE }, ACTOR);
  await admitted(store, operator.ura);
  // The operator's citizen portal asks the referral index where a citizen's own data is (the
  // citizen-access exchange): like any requester, it holds that exchange's qualification.
  if (!holdsQualification(await getParticipant(store, operator.ura), 'citizen-access')) {
    await qualify(store, operator.ura, { qualification: 'citizen-access' }, ACTOR);
  }
  for (const org of organizations) {
    const before = await registerParticipant(
      store,
      { ura: org.ura, name: org.name, organizationType: org.type, agb: org.agb, address: { city: org.city, country: 'NL' } },
      ACTOR,
    );
    await admitted(store, org.ura);
    if (before.qualifications.length === 0) {
      const exchanges = agreements.exchanges
        .filter((e) => e.requesterOrganizationTypes.includes(org.type) || e.holderOrganizationTypes.includes(org.type))
        .map((e) => e.code);
      for (const q of [...GENERIC_FUNCTIONS, ...exchanges]) await qualify(store, org.ura, { qualification: q }, ACTOR);
    }
  }
  for (const v of vendors) {
    const vendor = await registerVendor(store, { kvk: v.kvk, name: v.name, hosts: v.hosts }, ACTOR);
    if (vendor.status === 'applied') await setVendorStatus(store, v.kvk, 'admitted', 'sandbox cast', ACTOR);
  }

  if (options.ca && options.issueCertificates !== false) {
    for (const org of organizations) {
      const { csrPem, keyPem } = await csrFor(org.name);
      const issued = await issueFromCsr(store, options.ca, { csrPem, ura: org.ura });
      result.participants.set(org.ura, { cert: issued.certPem, key: keyPem, ca: options.ca.certPem });
    }
    for (const v of vendors) {
      const { csrPem, keyPem } = await csrFor(v.name);
      const issued = await issueFromCsr(store, options.ca, { csrPem, kvk: v.kvk });
      result.vendors.set(v.kvk, { cert: issued.certPem, key: keyPem, ca: options.ca.certPem });
    }
  }
  return result;
}
