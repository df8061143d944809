import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readBounded } from './bounded-body.ts';

const streamOf = (parts: Uint8Array[]) => Readable.from(parts.map((p) => Buffer.from(p)));

describe('readBounded', () => {
  it('returns every byte in order when the total is within the limit, and undefined (destroyed) beyond it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 12 }), fc.nat(600), async (parts, limit) => {
        const total = parts.reduce((n, p) => n + p.length, 0);
        const body = streamOf(parts);
        const out = await readBounded(body, limit);
        if (total <= limit) assert.deepEqual(out, Buffer.concat(parts.map((p) => Buffer.from(p))));
        else {
          assert.equal(out, undefined);
          assert.equal(body.destroyed, true);
        }
      }),
    );
  });

  it('lets a read error through to the caller', async () => {
    const body = new Readable({ read() { this.destroy(new Error('connection reset')); } });
    await assert.rejects(readBounded(body, 10), /connection reset/);
  });
});
