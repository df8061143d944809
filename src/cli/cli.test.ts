import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// The CLI as a person meets it: help everywhere, clear errors for unknown flags and bad config.

const ldnWith = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, ['bin/ldn.js', ...args], { encoding: 'utf8', env: { ...process.env, LDN_TLS_CERT: '', LDN_TLS_KEY: '', LDN_TLS_CA: '', ...env } });
const ldn = (...args: string[]) => ldnWith({}, ...args);

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

  it('refuses to serve a part other than trust without the trust URL (no mTLS-only fallback)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldn-cli-'));
    try {
      // Placeholder files: the refusal must come before any certificate is read or port opened.
      for (const f of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(join(dir, f), 'placeholder');
      const files = { LDN_TLS_CERT: join(dir, 'cert.pem'), LDN_TLS_KEY: join(dir, 'key.pem'), LDN_TLS_CA: join(dir, 'ca.pem'), LDN_PORT: '0' };
      for (const part of ['nvi', 'identity', 'node']) {
        const r = ldnWith({ ...files, LDN_NETWORK: '{"directory":"https://lrza.ldn.example"}' }, 'serve', part);
        assert.equal(r.status, 2, `${part}: ${r.stderr}`);
        assert.match(r.stderr, /network\.trust/);
        assert.match(r.stderr, /LDN_NETWORK/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a sandbox of processes without a store they can share, before starting anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ldn-cli-'));
    try {
      const r = ldn('sandbox', '--processes', '--manifest', join(dir, 'sandbox.json'), '--port-base', '0');
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--processes needs --database-url .* or --data-dir/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
