import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadServeConfig, settingsView } from './config.ts';

describe('serve configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ldn-config-'));
  const pem = join(dir, 'x.pem');
  writeFileSync(pem, 'x');

  it('reports every problem at once, naming the variable', () => {
    try {
      loadServeConfig('nvi', { env: { LDN_PORT: 'abc', DATABASE_URL: 'mysql://x', LDN_NETWORK: '{' } });
      assert.fail('expected ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      for (const word of ['LDN_PORT', 'LDN_TLS_CERT', 'LDN_TLS_KEY', 'LDN_TLS_CA', 'DATABASE_URL', 'LDN_NETWORK']) {
        assert.match(text, new RegExp(word));
      }
    }
  });

  it('overlays environment on the file and collects part settings', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ port: 9000, network: { trust: 'https://trust.example' }, settings: { a: '1' } }));
    const c = loadServeConfig('nvi', {
      configFile: file,
      env: { LDN_TLS_CERT: pem, LDN_TLS_KEY: pem, LDN_TLS_CA: pem, LDN_PORT: '9001', LDN_SETTING_HMAC_KEY: 'k' },
    });
    assert.equal(c.port, 9001);
    assert.equal(c.network.trust, 'https://trust.example');
    assert.deepEqual(c.settings, { a: '1', hmac_key: 'k' });
  });

  it('lets a part read a setting in any case (LDN_SETTING_NVI_INDEX_KEY is settings.NVI_INDEX_KEY)', () => {
    const c = loadServeConfig('nvi', { env: { LDN_TLS_CERT: pem, LDN_TLS_KEY: pem, LDN_TLS_CA: pem, LDN_SETTING_NVI_INDEX_KEY: 'ab', LDN_NETWORK: '{"trust":"https://t.example"}' } });
    const view = settingsView(c.settings);
    assert.equal(view.NVI_INDEX_KEY, 'ab');
    assert.equal(view.nvi_index_key, 'ab');
    assert.ok('Nvi_Index_Key' in view);
    assert.equal(settingsView({ TOKENS: 'off' }).tokens, 'off');
    assert.equal(view.PRS_MASTER_SEED, undefined);
  });
});
