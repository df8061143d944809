import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { bytesToHex } from '@noble/hashes/utils.js';
import { exportJWK, generateKeyPair } from 'jose';
import { PartClient } from '../../src/kit/http/client.ts';
import type { TlsIdentity } from '../../src/kit/part.ts';
import { openStore } from '../../src/kit/store/open.ts';
import { captureLog } from '../../src/kit/testing/capture-log.ts';
import { postgresReachable } from '../../src/kit/testing/backends.ts';
import { createTestPki } from '../../src/kit/testing/test-pki.ts';
import { PrsClient } from '../../src/pseudonyms/client.ts';
import { decodePseudonymToken } from '../../src/pseudonyms/nvi-identifier.ts';
import { recipientElements } from '../../src/pseudonyms/recipient.ts';
import { CAST_NETWORK, DE_GROOT, OPERATOR, ORGANIZATIONS } from '../../src/sandbox/cast.ts';
import { freePort } from '../../src/sandbox/load-balancer.ts';
import { type SupervisedPart, supervisePart } from '../../src/sandbox/supervisor.ts';
import { seedTrust } from '../../src/trust/seed.ts';
import { createTestDatabase } from './sandbox-helpers.ts';

// Parts as their own OS processes through `ldn serve` on PostgreSQL (one schema each), watched by
// the supervisor: the PRS killed with SIGKILL is started again, logged, and gives the same
// pseudonym as before (its master seed is kept sealed in its own schema under the KEK). A PRS
// started over the same database with another KEK refuses to start instead of making a new seed.

const usable = await postgresReachable();
const LDN_BIN = fileURLToPath(new URL('../../bin/ldn.js', import.meta.url));
const CLIENT_URA = ORGANIZATIONS[0].ura;
const SCOPE = 'procestest';

describe('parts as processes under a supervisor', { skip: usable ? false : 'PostgreSQL unreachable: SKIPPED', timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ldn-procs-'));
  const logged = captureLog('supervisor');
  const supervised: SupervisedPart[] = [];
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let client: PartClient | undefined;
  after(async () => {
    for (const s of supervised) await s.stop();
    await client?.close();
    await db?.drop();
  });

  const files = (name: string, id: TlsIdentity) => {
    writeFileSync(join(dir, `${name}.pem`), id.cert);
    writeFileSync(join(dir, `${name}-key.pem`), id.key, { mode: 0o600 });
    return { LDN_TLS_CERT: join(dir, `${name}.pem`), LDN_TLS_KEY: join(dir, `${name}-key.pem`) };
  };

  const waitReady = async (url: string) => {
    let last = '';
    for (let i = 0; i < 240; i++) {
      try {
        const r = await client!.call(`${url}/health/ready`, { deadlineMs: 3000, retries: 0 });
        if (r.status === 200) return;
        last = `${r.status} ${r.text.slice(0, 200)}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${url} never became ready: ${last}`);
  };

  it('a PRS killed with SIGKILL is restarted by the supervisor and gives the same pseudonym', async () => {
    db = await createTestDatabase();
    const pki = await createTestPki();
    writeFileSync(join(dir, 'ca.pem'), pki.ca.certPem);
    const me = await pki.identity(CLIENT_URA);
    client = new PartClient({ tls: me, maxRetries: 0, defaultDeadlineMs: 20_000 });

    // The operator's bootstrap: the register is filled on the trust part's own store before it runs.
    const { trustPart } = await import('../../src/trust/part.ts');
    const trustStore = await openStore({ schema: 'trust', databaseUrl: db.url }, trustPart.migrations);
    await seedTrust(trustStore, CAST_NETWORK);
    await trustStore.close();

    const [trustPort, prsPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
    const network = { trust: `https://127.0.0.1:${trustPort}`, prs: `https://127.0.0.1:${prsPort}` };
    const common = {
      LDN_TLS_CA: join(dir, 'ca.pem'),
      DATABASE_URL: db.url,
      LDN_HOST: '127.0.0.1',
      LDN_NETWORK: JSON.stringify(network),
      LDN_SETTING_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      LDN_LOG_LEVEL: 'warn',
    };
    const prsEnv = { ...common, ...files('prs', await pki.identity(OPERATOR.ura, { name: 'prs' })), LDN_PORT: String(prsPort), LDN_SETTING_TOKENS: 'off' };
    supervised.push(supervisePart({ part: 'trust', env: { ...common, ...files('trust', await pki.identity(OPERATOR.ura, { name: 'trust' })), LDN_PORT: String(trustPort) }, log: logged.log }));
    await waitReady(network.trust);
    const prs = supervisePart({ part: 'prs', env: prsEnv, log: logged.log });
    supervised.push(prs);
    await waitReady(network.prs);

    const { privateKey, publicKey } = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const prsClient = new PrsClient(client, network.prs);
    await prsClient.registerRecipientKey(CLIENT_URA, SCOPE, await exportJWK(publicKey));
    const pseudonym = async () => {
      const token = decodePseudonymToken(await prsClient.pseudonymise(DE_GROOT.bsn, `ura:${CLIENT_URA}`, SCOPE));
      assert.ok(token);
      const els = await recipientElements(token, privateKey, { audience: `ura:${CLIENT_URA}`, scope: SCOPE });
      return els.map((e) => `${e.version}:${bytesToHex(e.element)}`).join(',');
    };
    const before = await pseudonym();

    const firstPid = prs.pid;
    assert.ok(firstPid);
    process.kill(firstPid, 'SIGKILL');
    for (let i = 0; i < 100 && (prs.restarts === 0 || prs.pid === firstPid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(prs.restarts, 1);
    assert.notEqual(prs.pid, firstPid);
    await waitReady(network.prs);
    assert.equal(await pseudonym(), before, 'the same pseudonym after the restart');
    const restart = logged.lines.find((l) => l.event === 'supervisor.restart');
    assert.equal(restart?.part, 'prs');
    assert.equal(restart?.signal, 'SIGKILL');

    // A PRS over the same store with another key-encryption key refuses to start (exit 2).
    await prs.stop();
    const refused = spawn(process.execPath, [LDN_BIN, 'serve', 'prs'], {
      env: { ...process.env, ...prsEnv, LDN_SETTING_KEY_ENCRYPTION_KEY: randomBytes(32).toString('hex') },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    refused.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => refused.on('exit', resolve));
    assert.equal(code, 2, stderr);
    assert.match(stderr, /key-encryption key/);
  });
});
