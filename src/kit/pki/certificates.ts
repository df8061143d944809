import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import { GeneralName, OtherName, SubjectAlternativeName } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { formatKvkUri, formatUziOtherName, OTHER_NAME_TYPE_ID, parseKvkUri, parseUziOtherName, type UziName } from './uzi-san.ts';

// Development PKI: a network CA and participant certificates modelled on UZI server
// certificates. Keys are ECDSA P-256 (TLS and ES256 client assertions share the key).
// Production loads certificates from files; this module only issues for the sandbox and tests.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface Issued {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive INTEGER
  return Buffer.from(bytes).toString('hex');
}

export async function createCa(name = 'LDN Network CA', options: { notBefore?: Date; notAfter?: Date } = {}): Promise<CertificateAuthority> {
  const keys = await generateKeyPair();
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}, O=LDN, C=NL`,
    notBefore,
    notAfter: options.notAfter ?? new Date(notBefore.getTime() + 10 * 365 * 86400_000),
    keys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys, certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
}

/** Loads a CA from PEM files (persisted sandbox, or an operator's own CA). */
export async function loadCa(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), EC, true, ['sign']);
  const publicKey = await cert.publicKey.export(EC, ['verify']);
  return { cert, keys: { privateKey, publicKey }, certPem, keyPem };
}

export interface LeafRequest {
  commonName: string;
  /** UZI identity; omit for vendor certificates, which carry kvk instead. */
  uzi?: UziName;
  kvk?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  notBefore?: Date;
  notAfter?: Date;
  /** Public key from a CSR; when omitted a new key pair is generated and returned. */
  publicKey?: CryptoKey;
  serialNumber?: string;
}

function subjectAltName(req: LeafRequest): x509.Extension {
  const names: GeneralName[] = [];
  if (req.uzi) {
    // The otherName value (inside [0] EXPLICIT) is an IA5String.
    const ia5 = new asn1js.IA5String({ value: formatUziOtherName(req.uzi) }).toBER();
    names.push(new GeneralName({ otherName: new OtherName({ typeId: OTHER_NAME_TYPE_ID, value: ia5 }) }));
  }
  if (req.kvk) names.push(new GeneralName({ uniformResourceIdentifier: formatKvkUri(req.kvk) }));
  for (const dns of req.dnsNames ?? ['localhost']) names.push(new GeneralName({ dNSName: dns }));
  for (const ip of req.ipAddresses ?? ['127.0.0.1']) names.push(new GeneralName({ iPAddress: ip }));
  const der = AsnConvert.serialize(new SubjectAlternativeName(names));
  return new x509.Extension('2.5.29.17', false, der);
}

export async function issueCertificate(ca: CertificateAuthority, req: LeafRequest): Promise<Issued & { cert: x509.X509Certificate }> {
  let keyPem = '';
  let publicKey = req.publicKey;
  if (!publicKey) {
    const keys = await generateKeyPair();
    publicKey = keys.publicKey;
    keyPem = await keyToPem(keys.privateKey);
  }
  const notBefore = req.notBefore ?? new Date(Date.now() - 60_000);
  const o = req.uzi ? `O=URA ${req.uzi.ura}` : `O=KvK ${req.kvk ?? 'unknown'}`;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: req.serialNumber ?? serial(),
    subject: `CN=${req.commonName.replace(/[,=+]/g, ' ')}, ${o}, C=NL`,
    issuer: ca.cert.subject,
    notBefore,
    notAfter: req.notAfter ?? new Date(notBefore.getTime() + 365 * 86400_000),
    signingKey: ca.keys.privateKey,
    publicKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      subjectAltName(req),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { cert, certPem: cert.toString('pem'), keyPem };
}

export interface CertificateIdentity {
  ura: string;
  systemNumber: string;
  agb: string;
  kvk?: string;
  commonName: string;
  serialNumber: string;
  notAfter: Date;
}

/** Reads the network identity from a DER or PEM certificate. Throws when it carries none. */
export function readCertificateIdentity(certificate: Buffer | string): CertificateIdentity {
  const cert = typeof certificate === 'string' ? new x509.X509Certificate(certificate) : new x509.X509Certificate(new Uint8Array(certificate));
  const ext = cert.getExtension('2.5.29.17');
  let uzi: UziName | null = null;
  let kvk: string | undefined;
  if (ext) {
    const san = AsnConvert.parse(ext.value, SubjectAlternativeName);
    for (const gn of san) {
      if (gn.otherName?.typeId === OTHER_NAME_TYPE_ID) {
        const parsed = asn1js.fromBER(new Uint8Array(gn.otherName.value)).result;
        if (parsed instanceof asn1js.IA5String) uzi = parseUziOtherName(parsed.valueBlock.value) ?? uzi;
      }
      if (gn.uniformResourceIdentifier) kvk = parseKvkUri(gn.uniformResourceIdentifier) ?? kvk;
    }
  }
  if (!uzi && !kvk) throw new Error('certificate carries no UZI otherName or KvK');
  const cn = /CN=([^,]+)/.exec(cert.subject)?.[1]?.trim() ?? '';
  return {
    ura: uzi?.ura ?? '',
    systemNumber: uzi?.systemNumber ?? '',
    agb: uzi?.agb ?? '',
    kvk,
    commonName: cn,
    serialNumber: cert.serialNumber,
    notAfter: cert.notAfter,
  };
}

export function pemToDer(pem: string): Buffer {
  return Buffer.from(x509.PemConverter.decodeFirst(pem));
}
