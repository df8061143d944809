import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { output } from './output.ts';
import { Command, InvalidArgumentError } from 'commander';
import { createCa, issueCertificate, loadCa, readCertificateIdentity } from '../kit/pki/certificates.ts';
import { createCertificateRequest, requestedCommonName } from '../kit/pki/requests.ts';
import { generateRecipientJwk } from '../pseudonyms/recipient-jwk.ts';
import { parseCsr } from '../trust/certificates/lifecycle.ts';

// `ldn pki`: the network CA and the certificates the operator issues offline while bootstrapping
// (the trust part's own, the other central parts', the operator's). Participants' certificates
// are better issued by the trust part (`ldn admin certificate`), which records them for the
// status list; `ldn pki issue` is for what must exist before the trust part runs.

const collect = (v: string, all: string[] = []) => [...all, v];

function digits(n: number, label: string) {
  return (v: string) => {
    if (!new RegExp(`^\\d{${n}}$`).test(v)) throw new InvalidArgumentError(`${label} has ${n} digits`);
    return v;
  };
}

function days(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new InvalidArgumentError('a whole number of days, 1..3650');
  return n;
}

/** Writes a file, refusing to replace one (keys and CAs are not overwritten by accident). */
function writeNew(path: string, text: string, secret = false): void {
  if (existsSync(path)) throw new Error(`${path} exists; not overwriting it (move it away first)`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, { mode: secret ? 0o600 : 0o644 });
}

export function pkiCommand(): Command {
  const pki = new Command('pki').description('network CA and certificates for bootstrapping (certificates from CSRs)');
  pki
    .command('ca')
    .description('create the network CA: <dir>/ca.pem (give to every part and participant) and <dir>/ca-key.pem (0600; keep offline or on the trust host only)')
    .requiredOption('--dir <dir>', 'directory for ca.pem and ca-key.pem')
    .option('--name <name>', 'CA common name', 'LDN Network CA')
    .option('--days <n>', 'validity in days', days, 3650)
    .action(async (o: { dir: string; name: string; days: number }) => {
      const notBefore = new Date(Date.now() - 60_000);
      const ca = await createCa(o.name, { notBefore, notAfter: new Date(notBefore.getTime() + o.days * 86400_000) });
      writeNew(join(o.dir, 'ca-key.pem'), ca.keyPem, true);
      writeNew(join(o.dir, 'ca.pem'), ca.certPem);
      output.write(`${join(o.dir, 'ca.pem')}\n`);
    });
  pki
    .command('request')
    .description('make a new P-256 key and a certificate request (CSR) for it; the key stays here, the CSR goes to the CA')
    .requiredOption('--name <name>', 'common name, e.g. the organisation or part name')
    .requiredOption('--key-out <file>', 'where to write the private key (0600)')
    .requiredOption('--csr-out <file>', 'where to write the CSR')
    .action(async (o: { name: string; keyOut: string; csrOut: string }) => {
      const req = await createCertificateRequest(o.name);
      writeNew(o.keyOut, req.keyPem, true);
      writeNew(o.csrOut, req.csrPem);
      output.write(`${o.csrOut}\n`);
    });
  pki
    .command('issue')
    .description('sign a CSR with the network CA key: a UZI-style certificate for a URA (central part, operator, care provider) or a KvK (vendor)')
    .requiredOption('--ca-dir <dir>', 'directory with ca.pem and ca-key.pem')
    .requiredOption('--csr <file>', 'the PKCS#10 request (P-256, signed by its key)')
    .requiredOption('--out <file>', 'where to write the certificate (PEM)')
    .option('--ura <ura>', 'URA of the holder (8 digits)', digits(8, 'a URA'))
    .option('--kvk <kvk>', 'KvK number of a vendor (8 digits), instead of a URA', digits(8, 'a KvK number'))
    .option('--system-number <n>', 'UZI system number (tells a holder\'s systems apart)', '1')
    .option('--agb <agb>', 'AGB code', '00000000')
    .option('--name <name>', 'common name (default: the CSR\'s)')
    .option('--dns <name>', 'DNS name the holder serves (repeatable; default localhost)', collect)
    .option('--ip <address>', 'IP address the holder serves (repeatable; default 127.0.0.1)', collect)
    .option('--days <n>', 'validity in days', days, 365)
    .action(async (o: { caDir: string; csr: string; out: string; ura?: string; kvk?: string; systemNumber: string; agb: string; name?: string; dns?: string[]; ip?: string[]; days: number }) => {
      if (!!o.ura === !!o.kvk) throw new Error('name exactly one holder: --ura or --kvk');
      const ca = await loadCa(readFileSync(join(o.caDir, 'ca.pem'), 'utf8'), readFileSync(join(o.caDir, 'ca-key.pem'), 'utf8'));
      const csrPem = readFileSync(o.csr, 'utf8');
      let publicKey: CryptoKey;
      try {
        ({ publicKey } = await parseCsr(csrPem));
      } catch (err) {
        throw new Error(`${o.csr}: ${(err as Error).message}`);
      }
      const notBefore = new Date(Date.now() - 60_000);
      const leaf = await issueCertificate(ca, {
        commonName: o.name ?? (requestedCommonName(csrPem) || (o.ura ? `URA ${o.ura}` : `KvK ${o.kvk}`)),
        uzi: o.ura ? { ura: o.ura, systemNumber: o.systemNumber, agb: o.agb } : undefined,
        kvk: o.kvk,
        dnsNames: o.dns,
        ipAddresses: o.ip,
        publicKey,
        notBefore,
        notAfter: new Date(notBefore.getTime() + o.days * 86400_000),
      });
      writeNew(o.out, leaf.certPem);
      const id = readCertificateIdentity(leaf.certPem);
      output.write(`${o.out}: ${id.commonName}, ${id.ura ? `URA ${id.ura}` : `KvK ${id.kvk}`}, serial ${id.serialNumber}, until ${id.notAfter.toISOString()}\n`);
    });
  pki
    .command('recipient-key')
    .description('make a PRS recipient\'s private JWE key (X25519, ECDH-ES+A256KW) for the NVI or transparency setting <part>_prs_private_jwk; every instance of that part gets the same file')
    .requiredOption('--out <file>', 'where to write the private JWK (0600)')
    .action((o: { out: string }) => {
      writeNew(o.out, JSON.stringify(generateRecipientJwk()), true);
      output.write(`${o.out}\n`);
    });
  return pki;
}
