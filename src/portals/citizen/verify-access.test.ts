import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DE_GROOT_ACCESSES, type FakeAccessLog, fakeAccessLog } from '../test-fakes.ts';
import { verifiedAccessLog } from './verify-access.ts';

// An access counts as "in the log" only when its proof is for the position the log listed it at.

let log: FakeAccessLog;
before(async () => {
  log = await fakeAccessLog(DE_GROOT_ACCESSES);
});
after(() => log.close());

test('listed accesses verify against the signed head', async () => {
  const view = await verifiedAccessLog(log, await log.accesses({ bsn: '999990019' }));
  assert.equal(view.headVerified, true);
  assert.ok(view.entries.length > 0 && view.entries.every((e) => e.inLog));
});

test('an access listed at another leaf index than its proof is not marked as in the log', async () => {
  const listed = await log.accesses({ bsn: '999990019' });
  const moved = listed.map((e) => ({ ...e, leafIndex: (e.leafIndex ?? 0) + 1 }));
  const view = await verifiedAccessLog(log, moved);
  assert.equal(view.headVerified, true);
  assert.ok(view.entries.every((e) => !e.inLog));
});
