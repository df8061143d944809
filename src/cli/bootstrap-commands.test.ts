import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Command } from 'commander';
import { createDirectoryPart } from '../directory/part.ts';
import { custodianAssignedIdentifier } from '../kit/fhir/profiles/index.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import { SYSTEM } from '../kit/identifiers/index.ts';
import { loadCa, readCertificateIdentity } from '../kit/pki/certificates.ts';
import { createTestPki, staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { createTrustPart } from '../trust/part.ts';
import { adminCommand } from './admin-command.ts';
import { output } from './output.ts';
import { pkiCommand } from './pki-command.ts';
import { publishDirectoryCommand } from './publish-directory-command.ts';

// The bootstrap commands against real parts over mutual TLS: ldn pki makes a CA and signs CSRs;
// ldn admin admits over the trust part's operator API (and only with the operator certificate);
// ldn admin certificate has the trust part sign a CSR; ldn publish-directory publishes a Bundle.

const OPERATOR_URA = '90000001';
const LEIDEN = '90000102';

async function run(cmd: { parseAsync(argv: string[], o: { from: 'user' }): Promise<unknown> }, args: string[]): Promise<string> {
  const writes: string[] = [];
  const original = output.write;
  output.write = (text) => writes.push(text);
  try {
    await cmd.parseAsync(args, { from: 'user' });
  } finally {
    output.write = original;
  }
  return writes.join('');
}

/** A fresh command tree that throws instead of exiting on usage errors (and prints none). */
function fresh(make: () => Command): Command {
  const quiet = (c: Command): Command => {
    c.exitOverride().configureOutput({ writeErr: () => {} });
    for (const sub of c.commands) quiet(sub);
    return c;
  };
  return quiet(make());
}

describe('ldn pki', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ldn-pki-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a CA, a key and CSR, and signs it with the URA, system number and names given', async () => {
    await run(fresh(pkiCommand), ['ca', '--dir', join(dir, 'ca')]);
    assert.equal(statSync(join(dir, 'ca', 'ca-key.pem')).mode & 0o777, 0o600);
    await run(fresh(pkiCommand), ['request', '--name', 'LDN nvi', '--key-out', join(dir, 'nvi-key.pem'), '--csr-out', join(dir, 'nvi.csr')]);
    await run(fresh(pkiCommand), ['issue', '--ca-dir', join(dir, 'ca'), '--csr', join(dir, 'nvi.csr'), '--ura', OPERATOR_URA, '--system-number', '5', '--dns', 'nvi.example.nl', '--out', join(dir, 'nvi.pem')]);
    const id = readCertificateIdentity(readFileSync(join(dir, 'nvi.pem'), 'utf8'));
    assert.equal(id.ura, OPERATOR_URA);
    assert.equal(id.systemNumber, '5');
    assert.equal(id.commonName, 'LDN nvi');
    const ca = await loadCa(readFileSync(join(dir, 'ca', 'ca.pem'), 'utf8'), readFileSync(join(dir, 'ca', 'ca-key.pem'), 'utf8'));
    const { X509Certificate } = await import('node:crypto');
    const leaf = new X509Certificate(readFileSync(join(dir, 'nvi.pem')));
    assert.ok(leaf.verify(new X509Certificate(ca.certPem).publicKey), 'signed by the CA');
    assert.ok(leaf.checkHost('nvi.example.nl'));
    assert.ok(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(readFileSync(join(dir, 'nvi-key.pem')))), 'the certificate is for the CSR\'s key');
  });

  it('never overwrites a CA or key, refuses a forged CSR and needs exactly one holder', async () => {
    await assert.rejects(run(fresh(pkiCommand), ['ca', '--dir', join(dir, 'ca')]), /exists/);
    const csr = readFileSync(join(dir, 'nvi.csr'), 'utf8');
    const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] ^= 1; // inside the signature
    writeFileSync(join(dir, 'forged.csr'), `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    await assert.rejects(run(fresh(pkiCommand), ['issue', '--ca-dir', join(dir, 'ca'), '--csr', join(dir, 'forged.csr'), '--ura', LEIDEN, '--out', join(dir, 'f.pem')]), /csr/i);
    assert.equal(existsSync(join(dir, 'f.pem')), false);
    await assert.rejects(run(fresh(pkiCommand), ['issue', '--ca-dir', join(dir, 'ca'), '--csr', join(dir, 'nvi.csr'), '--out', join(dir, 'g.pem')]), /exactly one holder/);
    await assert.rejects(run(fresh(pkiCommand), ['issue', '--ca-dir', join(dir, 'ca'), '--csr', join(dir, 'nvi.csr'), '--ura', '123', '--out', join(dir, 'g.pem')]));
  });

  it('makes an X25519 recipient key for the NVI or transparency part', async () => {
    await run(fresh(pkiCommand), ['recipient-key', '--out', join(dir, 'nvi.jwk')]);
    const jwk = JSON.parse(readFileSync(join(dir, 'nvi.jwk'), 'utf8'));
    assert.equal(jwk.crv, 'X25519');
    assert.equal(typeof jwk.d, 'string');
    assert.equal(statSync(join(dir, 'nvi.jwk')).mode & 0o777, 0o600);
  });
});

describe('ldn admin and ldn publish-directory against a real trust part and directory', () => {
  let pki: TestPki;
  let trust: RunningService;
  let directory: RunningService;
  const dir = mkdtempSync(join(tmpdir(), 'ldn-admin-'));
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  let op: string[];
  let partArgs: string[];

  before(async () => {
    pki = await createTestPki();
    const network = staticNetwork({});
    trust = await createService(createTrustPart({ ca: pki.ca, operatorUra: OPERATOR_URA, operatorSystemNumber: '1' }), {
      tls: await pki.identity(OPERATOR_URA, { name: 'trust' }),
      network,
    });
    network.set('trust', trust.url);
    directory = await createService(createDirectoryPart(), { tls: await pki.identity(OPERATOR_URA, { name: 'directory' }), network });
    network.set('directory', directory.url);
    const ca = file('ca.pem', pki.ca.certPem);
    const operator = await pki.identity(OPERATOR_URA, { name: 'operator' });
    op = ['--trust', trust.url, '--ca', ca, '--cert', file('op.pem', operator.cert), '--key', file('op-key.pem', operator.key)];
    const participant = await pki.identity('90000199', { name: 'someone else' });
    partArgs = ['--trust', trust.url, '--ca', ca, '--cert', file('p.pem', participant.cert), '--key', file('p-key.pem', participant.key)];
  });
  after(async () => {
    await directory?.close();
    await trust?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admits a participant with its type and qualifications; again is harmless', async () => {
    const args = ['admit', ...op, '--ura', LEIDEN, '--name', 'Ziekenhuis Leiden', '--type', 'V4', '--qualification', 'acute-zorg', '--qualification', 'addressing'];
    const first = JSON.parse(await run(fresh(adminCommand), args));
    assert.equal(first.status, 'admitted');
    assert.equal(first.organizationType, 'V4');
    assert.deepEqual(first.qualifications.map((q: { qualification: string }) => q.qualification).sort(), ['acute-zorg', 'addressing']);
    const again = JSON.parse(await run(fresh(adminCommand), args.slice(0, 15)));
    assert.equal(again.status, 'admitted');
  });

  it('refuses an unknown qualification and a caller that is not the operator (403), changing nothing', async () => {
    await assert.rejects(run(fresh(adminCommand), ['qualify', ...op, '--ura', LEIDEN, '--qualification', 'acute-zrog']), /unknown qualification/);
    await assert.rejects(run(fresh(adminCommand), ['suspend', ...partArgs, '--ura', LEIDEN, '--reason', 'x']), /403/);
    const shown = JSON.parse(await run(fresh(adminCommand), ['show', ...op, '--ura', LEIDEN]));
    assert.equal(shown.status, 'admitted');
  });

  it('has the trust part sign a CSR for the participant; suspend, reinstate and revoke follow the register', async () => {
    await run(fresh(pkiCommand), ['request', '--name', 'Leiden', '--key-out', join(dir, 'l-key.pem'), '--csr-out', join(dir, 'l.csr')]);
    const issued = JSON.parse(await run(fresh(adminCommand), ['certificate', ...op, '--csr', join(dir, 'l.csr'), '--ura', LEIDEN, '--out', join(dir, 'l.pem')]));
    const id = readCertificateIdentity(readFileSync(join(dir, 'l.pem'), 'utf8'));
    assert.equal(id.ura, LEIDEN);
    assert.equal(id.commonName, 'Ziekenhuis Leiden', 'the name comes from the register, not the CSR');
    assert.equal(id.serialNumber, issued.serial);

    const organization = {
      resourceType: 'Organization',
      id: 'org-90000102',
      active: true,
      name: 'Ziekenhuis Leiden',
      identifier: [custodianAssignedIdentifier(SYSTEM.ura, LEIDEN, { system: SYSTEM.kvk, value: '00000000' })],
      type: [{ coding: [{ system: SYSTEM.organizationType, code: 'V4' }] }],
    };
    const bundle = { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: 'Organization/org-90000102' }, resource: organization }] };
    const leidenArgs = ['--trust', trust.url, '--ca', join(dir, 'ca.pem'), '--cert', join(dir, 'l.pem'), '--key', join(dir, 'l-key.pem')];
    const first = await run(fresh(publishDirectoryCommand), [...leidenArgs, '--directory', directory.url, '--file', file('dir.json', JSON.stringify(bundle))]);
    assert.match(first, /^201 /);
    const second = await run(fresh(publishDirectoryCommand), [...leidenArgs, '--directory', directory.url, '--file', join(dir, 'dir.json')]);
    assert.match(second, /^200 /, 're-publishing updates with If-Match');
    await assert.rejects(
      run(fresh(publishDirectoryCommand), [...leidenArgs, '--directory', directory.url, '--file', file('bad.json', JSON.stringify({ ...bundle, entry: [{ ...bundle.entry[0], request: { method: 'POST', url: 'Organization' } }] }))]),
      /not a PUT/,
    );

    assert.equal(JSON.parse(await run(fresh(adminCommand), ['suspend', ...op, '--ura', LEIDEN, '--reason', 'audit'])).status, 'suspended');
    assert.equal(JSON.parse(await run(fresh(adminCommand), ['reinstate', ...op, '--ura', LEIDEN, '--reason', 'resolved'])).status, 'admitted');
    assert.equal(JSON.parse(await run(fresh(adminCommand), ['revoke', ...op, '--ura', LEIDEN, '--reason', 'left the network'])).status, 'revoked');
  });
});
