import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captureLog } from './testing/capture-log.ts';

// A BSN must never reach a log, including through error records that quote it.

const BSN = '999911120';

describe('log', () => {
  it('scrubs BSNs from an error message, stack and pg detail', () => {
    const { log, raw, lines } = captureLog();
    const err = Object.assign(new Error(`duplicate patient ${BSN}`), {
      code: '23505',
      detail: `Key (bsn)=(${BSN}) already exists.`,
      cause: new Error(`lookup of ${BSN} failed`),
    });
    log.error({ err }, 'insert failed');
    log.error(err);
    assert.equal(raw.length, 2);
    for (const line of raw) assert.doesNotMatch(line, new RegExp(BSN));
    const rec = lines[0].err as Record<string, unknown>;
    assert.match(String(rec.message), /duplicate patient \*{9}/);
    assert.match(String(rec.detail), /Key \(bsn\)=\(\*{9}\)/);
    assert.match(String(rec.stack), /Error: duplicate patient \*{9}/);
    assert.equal(rec.code, '23505'); // the rest of the record survives
    assert.equal(rec.type, 'Error');
  });

  it('keeps numbers that are not 9-digit runs and non-error values', () => {
    const { log, lines } = captureLog();
    log.warn({ err: { message: `ura 90000101, order 1234567890`, n: 5 } }, 'x');
    const rec = lines[0].err as Record<string, unknown>;
    assert.equal(rec.message, 'ura 90000101, order 1234567890');
    assert.equal(rec.n, 5);
  });

  it('redacts bsn fields and scrubs messages', () => {
    const { log, raw } = captureLog();
    log.info({ bsn: BSN, patient: { bsn: BSN } }, 'lookup');
    log.info(`lookup of ${BSN}`);
    for (const line of raw) assert.doesNotMatch(line, new RegExp(BSN));
  });
});
