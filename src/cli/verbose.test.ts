import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sandboxLogging } from './sandbox-command.ts';

// `ldn sandbox --verbose` promises request logs. Request lines are logged at info; the flag
// used to switch request logging on under a warn-level logger, so nothing appeared.
// (That the service then logs each request is tested in src/kit/http/edge.test.ts.)

describe('ldn sandbox --verbose', () => {
  it('lowers the level to info and turns request logging on', () => {
    assert.deepEqual(sandboxLogging(true, undefined), { level: 'info', logRequests: true });
    assert.deepEqual(sandboxLogging(true, 'warn'), { level: 'info', logRequests: true });
  });
  it('keeps a more detailed level the environment asks for', () => {
    assert.equal(sandboxLogging(true, 'debug').level, 'debug');
  });
  it('stays quiet without the flag', () => {
    assert.equal(sandboxLogging(false, undefined).level, 'warn');
  });
});
