import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CertificateAuthority, createCa, issueCertificate, loadCa, type LeafRequest } from '../kit/pki/certificates.ts';
import type { TlsIdentity } from '../kit/part.ts';

// The sandbox's PKI on disk: a network CA and one certificate per holder, as PEM files a
// script (or curl) can use. With --data-dir the files persist and are reused on restart.

export interface IssuedFiles {
  cert: string;
  key: string;
  identity: TlsIdentity;
}

export class SandboxPki {
  private constructor(
    readonly dir: string,
    readonly ca: CertificateAuthority,
  ) {}

  static async open(dir: string): Promise<SandboxPki> {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const certFile = join(dir, 'ca.pem');
    const keyFile = join(dir, 'ca-key.pem');
    let ca: CertificateAuthority;
    if (existsSync(certFile) && existsSync(keyFile)) {
      ca = await loadCa(readFileSync(certFile, 'utf8'), readFileSync(keyFile, 'utf8'));
    } else {
      ca = await createCa('LDN Sandbox Network CA');
      writeFileSync(certFile, ca.certPem);
      writeFileSync(keyFile, ca.keyPem, { mode: 0o600 });
    }
    return new SandboxPki(dir, ca);
  }

  get caFile(): string {
    return join(this.dir, 'ca.pem');
  }

  /** Issues (or reuses from disk) the certificate named `name`. */
  async issue(name: string, req: LeafRequest): Promise<IssuedFiles> {
    const cert = join(this.dir, `${name}.pem`);
    const key = join(this.dir, `${name}-key.pem`);
    if (!(existsSync(cert) && existsSync(key))) {
      const leaf = await issueCertificate(this.ca, req);
      writeFileSync(cert, leaf.certPem);
      writeFileSync(key, leaf.keyPem, { mode: 0o600 });
    }
    return {
      cert,
      key,
      identity: { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8'), ca: this.ca.certPem },
    };
  }
}
