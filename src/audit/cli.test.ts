import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../kit/store/open.ts';
import type { Store } from '../kit/store/store.ts';
import { appendAuditEvents, auditLogMigrations } from './chain.ts';
import { auditVerifyCommand } from './cli.ts';
import { buildAuditEvent } from './event.ts';
import { sampleInput } from './test-fixtures.ts';

describe('auditVerifyCommand (ldn audit verify)', () => {
  let store: Store;
  before(async () => {
    // The shared in-memory PGlite: the command opens its own handle on the same instance.
    store = await openStore({ schema: 'audit_cli_test' }, auditLogMigrations);
    await appendAuditEvents(store, Array.from({ length: 5 }, (_, i) => buildAuditEvent(sampleInput({ id: `c${i}` }))));
  });
  after(() => store.close());

  it('exits 0 on an intact log and 1 naming the first bad record, without event contents', async () => {
    const ok = await auditVerifyCommand({ schema: 'audit_cli_test' });
    assert.equal(ok.exitCode, 0);
    assert.match(ok.message, /intact: 5 records/);
    await store.query(`UPDATE audit_log SET entry = replace(entry, 'TREAT', 'OTHER') WHERE seq = 2`);
    const bad = await auditVerifyCommand({ schema: 'audit_cli_test' });
    assert.equal(bad.exitCode, 1);
    assert.match(bad.message, /record 2: altered/);
    assert.ok(!bad.message.includes('tp-abc'));
  });
});
