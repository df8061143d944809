import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { generateKeyPair } from './certificates.ts';

// Certificate requests (PKCS#10) for the operator's bootstrap (`ldn pki request`): the holder makes
// its own P-256 key and a CSR; only the CSR travels to the network CA, the key never leaves.

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface CertificateRequest {
  csrPem: string;
  keyPem: string;
}

export async function createCertificateRequest(commonName: string): Promise<CertificateRequest> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName.replace(/[,=+]/g, ' ')}, C=NL`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { csrPem: csr.toString('pem'), keyPem: x509.PemConverter.encode(der, 'PRIVATE KEY') };
}

/** The subject common name a CSR asks for ('' when none). */
export function requestedCommonName(csrPem: string): string {
  return /CN=([^,]+)/.exec(new x509.Pkcs10CertificateRequest(csrPem).subject)?.[1]?.trim() ?? '';
}
