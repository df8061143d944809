import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { createLogger } from '../../src/kit/log.ts';
import { postgresReachable } from '../../src/kit/testing/backends.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import { type Sandbox, startSandbox } from '../../src/sandbox/sandbox.ts';
import { apiOverview, clinicianVerklaring, createTestDatabase } from './sandbox-helpers.ts';

// Issue 15 defect 6 / issue 13 build item 2: a sandbox on PostgreSQL without --data-dir, stopped
// and started again over the same database, keeps its PRS seed and NVI keys (kept sealed in the
// parts' own schemas), so the referral index still finds Mr De Groot's holders. Without the
// key-encryption key it sealed them under, it refuses to start instead of making new keys.

const VELUWE = '90000101';
const BAKKER = '900001011';
const usable = await postgresReachable();

/** The allergies of his overview, and what it says it lacks (for the failure message). */
async function overviewHolders(sandbox: Sandbox): Promise<{ allergies: string[]; outcomes: string }> {
  const verklaring = await clinicianVerklaring(sandbox, BAKKER);
  const r = await apiOverview(sandbox, { ura: VELUWE, verklaring, bsn: DE_GROOT.bsn });
  assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
  const all = ((r.body as Bundle).entry ?? []).map((e) => e.resource as Resource);
  assert.ok(
    !all.some((x) => x.resourceType === 'OperationOutcome' && /no holder|no-holders/i.test(JSON.stringify(x))),
    'the referral index still knows his holders',
  );
  const outcomes = all.filter((x) => x.resourceType === 'OperationOutcome').map((x) => JSON.stringify(x).slice(0, 300)).join('\n');
  return { allergies: all.filter((x) => x.resourceType === 'AllergyIntolerance').map((x) => JSON.stringify(x)), outcomes };
}

describe('a PostgreSQL sandbox restarted without a data directory', { skip: usable ? false : 'PostgreSQL unreachable: SKIPPED', timeout: 900_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ldn-restart-'));
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let sandbox: Sandbox | undefined;
  const start = async () =>
    startSandbox({
      manifestPath: join(dir, 'sandbox.json'),
      portBase: 0,
      databaseUrl: db?.url,
      // A functional test, not a timing test: the first overview after a restart is a cold start
      // on a loaded machine (the same bound as the other e2e sandboxes).
      overviewDeadlineMs: 10_000,
      log: createLogger('sandbox', { level: process.env.LDN_LOG_LEVEL ?? 'silent' }),
    });
  after(async () => {
    await sandbox?.stop();
    await db?.drop();
  });

  it('finds De Groot\'s holders after the restart, with the same keys', async () => {
    db = await createTestDatabase();
    sandbox = await start();
    const before = await overviewHolders(sandbox);
    assert.ok(before.allergies.some((a) => /contrast/i.test(a)), `his contrast allergy before the restart:\n${before.outcomes}`);
    await sandbox.stop();
    sandbox = await start();
    const afterRestart = await overviewHolders(sandbox);
    assert.ok(afterRestart.allergies.some((a) => /contrast/i.test(a)), `his contrast allergy after the restart:\n${afterRestart.outcomes}`);
    await sandbox.stop();
    sandbox = undefined;
  });

  it('refuses to start when the key-encryption key its keys were sealed under is gone', async () => {
    rmSync(join(dir, 'sandbox-key-encryption-key'));
    await assert.rejects(start(), /is sealed under key-encryption key .*refusing to start/);
  });
});
