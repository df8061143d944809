import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { exportJWK } from 'jose';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { poolSizeFrom, startSubjectHashPool, type SubjectHashPool } from './subject-hash-pool.ts';
import { SubjectRefused, subjectHashes } from './subject-hash.ts';
import { inProcessPseudonyms } from './test-support.ts';

// The worker pool must answer exactly what the inline path answers, refusals included.

describe('NVI crypto worker pool', () => {
  let env: Awaited<ReturnType<typeof inProcessPseudonyms>>;
  let pool: SubjectHashPool;

  before(async () => {
    env = await inProcessPseudonyms();
    const privateJwk = await exportJWK(env.keys.decryptionKey as CryptoKey);
    pool = await startSubjectHashPool({ privateJwk, audience: env.keys.audience, scope: env.keys.scope, indexKey: env.keys.indexKey }, 2);
  });
  after(async () => pool.close());

  it('gives the same subject hashes as the inline path', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const token = await env.token(testBsn(seed));
      const [inline, pooled] = await Promise.all([subjectHashes(token, env.keys), pool.hashes(token)]);
      assert.deepEqual(pooled, inline);
    }
  });

  it('refuses what the inline path refuses, with the same message and without the token', async () => {
    const token = await env.token(testBsn(9));
    for (const [value, now] of [['not-a-token', undefined], [token, Date.now() + 301_000]] as const) {
      const inline = await subjectHashes(value, env.keys, now).catch((e: Error) => e);
      const pooled = await pool.hashes(value, now).catch((e: Error) => e);
      assert.ok(inline instanceof SubjectRefused && pooled instanceof SubjectRefused);
      assert.equal(pooled.message, inline.message);
      assert.ok(!pooled.message.includes(token));
    }
  });

  it('spreads concurrent work and stays correct', async () => {
    const tokens = await Promise.all([10, 11, 12, 13].map((s) => env.token(testBsn(s))));
    const results = await Promise.all(tokens.flatMap((t) => [pool.hashes(t), pool.hashes(t)]));
    for (let i = 0; i < results.length; i += 2) assert.deepEqual(results[i], results[i + 1]);
  });

  it('answers each job of one batch on its own: refusals do not spill onto the good tokens beside them', async () => {
    // Queued in the same turn, so they travel to the threads together.
    const good = await Promise.all([20, 21, 22].map((s) => env.token(testBsn(s))));
    const expired = Date.now() + 301_000;
    const jobs: Array<[string, number | undefined]> = [[good[0], undefined], ['not-a-token', undefined], [good[1], undefined], [good[2], expired], [good[2], undefined]];
    const expected = await Promise.all(jobs.map(([v, now]) => subjectHashes(v, env.keys, now).catch((e: Error) => e)));
    const pooled = await Promise.all(jobs.map(([v, now]) => pool.hashes(v, now).catch((e: Error) => e)));
    assert.equal(expected.filter((e) => e instanceof Error).length, 2);
    for (let i = 0; i < jobs.length; i++) {
      if (expected[i] instanceof Error) {
        assert.ok(pooled[i] instanceof SubjectRefused, `job ${i} refused`);
        assert.equal((pooled[i] as Error).message, (expected[i] as Error).message);
      } else assert.deepEqual(pooled[i], expected[i]);
    }
  });

  it('parses the size setting', () => {
    assert.ok(poolSizeFrom(undefined) >= 1);
    assert.equal(poolSizeFrom('off'), 0);
    assert.equal(poolSizeFrom('3'), 3);
    assert.throws(() => poolSizeFrom('-1'));
    assert.throws(() => poolSizeFrom('many'));
  });

  it('rejects work after close', async () => {
    const p = await startSubjectHashPool({ privateJwk: await exportJWK(env.keys.decryptionKey as CryptoKey), audience: 'ura:1', scope: 's', indexKey: new Uint8Array(32) }, 1);
    await p.close();
    await assert.rejects(p.hashes('x'), /closed/);
  });
});
