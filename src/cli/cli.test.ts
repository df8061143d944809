import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

// The CLI as a person meets it: help everywhere, clear errors for unknown flags and bad config.

const ldn = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/ldn.js', ...args], { encoding: 'utf8', env: { ...process.env, LDN_TLS_CERT: '', LDN_TLS_KEY: '', LDN_TLS_CA: '' } });

describe('ldn CLI', () => {
  it('has --help on every command', () => {
    for (const args of [['--help'], ['sandbox', '--help'], ['serve', '--help'], ['audit', 'verify', '--help']]) {
      const r = ldn(...args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Usage: ldn/);
    }
  });

  it('refuses an unknown flag with a suggestion', () => {
    const r = ldn('sandbox', '--manfest', 'x.json');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown option '--manfest'/);
    assert.match(r.stderr, /Did you mean --manifest\?/);
  });

  it('explains what a part needs before serving it', () => {
    const r = ldn('serve', 'nvi');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /LDN_TLS_CERT is required/);
    const unknown = ldn('serve', 'nope');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /unknown part "nope"; available: trust, directory/);
  });
});
