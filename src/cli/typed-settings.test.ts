import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transparencySettingsOf } from '../audit/transparency/serve-settings.ts';
import { consentSettingsOf } from '../consent/serve-settings.ts';
import { citizenIdentitySettingsOf, identitySettingsOf } from '../identity/serve-settings.ts';
import { ConfigError } from '../kit/config.ts';
import { readSettings } from '../kit/part-settings.ts';
import { ncpehSettingsOf } from '../ncpeh/serve-settings.ts';
import { nodeSettingsOf } from '../node/serve-settings.ts';
import { portalSettingsOf } from '../portals/serve-settings.ts';
import { prsSettingsOf } from '../pseudonyms/serve-settings.ts';
import { nviSettingsOf } from '../referral-index/serve-settings.ts';
import { hdabSettingsOf } from '../secondary-use/serve-settings.ts';
import { trustSettingsOf } from '../trust/serve-settings.ts';

// Each part reads its settings typed, through its declaration: absent values take the declared
// default, and one bad value refuses the start with a message naming the part and the variable.

type Reader = (given: Record<string, string | undefined>) => unknown;

const BAD: Array<[string, Reader, Record<string, string>, RegExp]> = [
  ['node', nodeSettingsOf, { overview_deadline_ms: 'soon' }, /LDN_SETTING_OVERVIEW_DEADLINE_MS\) must be a whole number ≥ 1 \(got "soon"\)/],
  ['trust', trustSettingsOf, { identity_issuer: 'identity.example' }, /LDN_SETTING_IDENTITY_ISSUER\) must be an http\(s\) URL/],
  ['hdab', hdabSettingsOf, { expiry_interval_ms: '10' }, /LDN_SETTING_EXPIRY_INTERVAL_MS\) must be a whole number ≥ 1000/],
  ['ncpeh', ncpehSettingsOf, { GATEWAY_PORT: '-1' }, /LDN_SETTING_GATEWAY_PORT\) must be a whole number ≥ 1/],
  ['identity', identitySettingsOf, { require_password: 'yes' }, /LDN_SETTING_REQUIRE_PASSWORD\) must be true or false/],
  ['citizen-identity', citizenIdentitySettingsOf, { clients: '[{' }, /LDN_SETTING_CLIENTS\) must be valid JSON/],
  ['consent', consentSettingsOf, { consent_delivery_interval_ms: '1s' }, /LDN_SETTING_CONSENT_DELIVERY_INTERVAL_MS\) must be a whole number ≥ 50/],
  ['transparency', transparencySettingsOf, { transparency_portal_ura: '123' }, /LDN_SETTING_TRANSPARENCY_PORTAL_URA\) must be an 8-digit URA/],
  ['portal', portalSettingsOf, { certificate_warning_days: 'thirty' }, /LDN_SETTING_CERTIFICATE_WARNING_DAYS\) must be a whole number/],
  ['prs', prsSettingsOf, { prs_token_ttl_seconds: '0' }, /LDN_SETTING_PRS_TOKEN_TTL_SECONDS\) must be a whole number ≥ 1/],
  ['nvi', nviSettingsOf, { nvi_crypto_workers: ' ' }, /LDN_SETTING_NVI_CRYPTO_WORKERS\) must be a non-empty string/],
];

describe('typed part settings', () => {
  for (const [part, read, given, message] of BAD) {
    it(`${part}: a bad value refuses the start, naming part and variable`, () => {
      assert.throws(() => read(given), (err: Error) => err instanceof ConfigError && err.message.includes(`${part}: setting`) && message.test(err.message));
      assert.doesNotThrow(() => read({}));
    });
  }

  it('absent settings take the declared defaults (the ones in --help)', () => {
    const node = nodeSettingsOf({});
    assert.deepEqual(
      [node.nodeName, node.overviewDeadlineMs, node.referralSyncMs, node.fanOut, node.consentCacheMs, node.citizenAudience, node.viewer],
      ['node', 3000, 60_000, { overviews: 8, holders: 16 }, 4000, 'portal', false],
    );
    assert.deepEqual([ncpehSettingsOf({}).gatewayHost, ncpehSettingsOf({}).gatewayPort, ncpehSettingsOf({}).deadlineMs], ['0.0.0.0', 9443, 30_000]);
    assert.deepEqual([portalSettingsOf({}).citizenClientId, portalSettingsOf({}).researchClientId, portalSettingsOf({}).certificateWarningDays], ['portal', 'research-portal', 30]);
    assert.equal(consentSettingsOf({}).deliveryIntervalMs, 1000);
    assert.equal(hdabSettingsOf({}).operatorUra, '90000001');
    assert.equal(identitySettingsOf({}).verklaringTtlSeconds, 28_800);
  });

  it('names are read in any case; a secret is never echoed', () => {
    assert.equal(nodeSettingsOf({ OVERVIEW_DEADLINE_MS: '250' }).overviewDeadlineMs, 250);
    assert.throws(() => portalSettingsOf({ nodes: '["x"]' }), /nodes \(LDN_SETTING_NODES\) must be a JSON object/);
    assert.throws(
      () => readSettings('x', [{ name: 'k', type: 'hex', secret: true, doc: 'a key' }], { k: 'not-a-key' }),
      (err: Error) => !err.message.includes('not-a-key'),
    );
  });

  it('reading a setting the part did not declare, or as another type, is a programming error', () => {
    const s = readSettings('x', [{ name: 'n', type: 'integer', default: '1', doc: 'a number' }], {});
    assert.throws(() => s.integer('m'), /not declared/);
    assert.throws(() => s.boolean('n'), /declared integer, read as boolean/);
    assert.equal(s.integer('n'), 1);
  });
});
