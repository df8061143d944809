import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DECLARED_SETTINGS, serveSettingsHelp, vetSettings } from '../cli/part-settings-registry.ts';
import { checkSettings, type SettingDeclaration, settingProblem, settingsHelp } from './part-settings.ts';

// The settings declarations and their parser: a value is refused exactly when it does not fit
// its declared type; secrets are never echoed; every part's declarations are complete enough to list.

const integer: SettingDeclaration = { name: 'interval_ms', type: 'integer', min: 50, doc: 'x' };
const hex: SettingDeclaration = { name: 'index_key', type: 'hex', secret: true, doc: 'x' };

describe('part settings', () => {
  it('integers: accepted exactly when a whole number ≥ min (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1000, max: 100000 }).map(String), fc.string({ maxLength: 8 })), (v) => {
        const valid = /^-?\d+$/.test(v.trim()) && Number(v) >= 50;
        assert.equal(settingProblem(integer, v) === null, valid, v);
      }),
      { numRuns: 500 },
    );
  });

  it('hex keys: ≥ 32 bytes; a refusal never quotes a secret value (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 80 }), (v) => {
        const p = settingProblem(hex, v);
        if (p) assert.ok(!p.includes('(got'), 'secret echoed');
      }),
      { numRuns: 300 },
    );
    assert.equal(settingProblem(hex, 'ab'.repeat(32)), null);
    assert.match(settingProblem(hex, 'ab'.repeat(31)) ?? '', /LDN_SETTING_INDEX_KEY/);
  });

  it('one-of, boolean, json, ura; names in any case; unknown names get a suggestion; required ones are named', () => {
    const decl: SettingDeclaration[] = [
      { name: 'tokens', type: { oneOf: ['required', 'off'] }, doc: 'x' },
      { name: 'sandbox', type: 'boolean', doc: 'x' },
      { name: 'nodes', type: 'json', doc: 'x' },
      { name: 'portal_ura', type: 'ura', doc: 'x' },
      { name: 'tenants', type: 'string', required: true, doc: 'the tenants file' },
    ];
    const r = checkSettings(decl, { TOKENS: 'maybe', sandbox: 'yes', nodes: '{', portal_ura: '123', tokns: 'off' });
    assert.equal(r.problems.length, 5);
    assert.ok(r.problems.some((p) => /tenants.*required/.test(p)));
    assert.deepEqual(r.unknown, ['tokns (did you mean tokens?)']);
    assert.deepEqual(checkSettings(decl, { TOKENS: 'off', sandbox: 'true', nodes: '{}', portal_ura: '90000001', tenants: 't.json' }), { problems: [], unknown: [] });
  });

  it('every part declares unique, documented settings and lists them all in its help', () => {
    for (const [part, declared] of Object.entries(DECLARED_SETTINGS)) {
      const names = declared.map((d) => d.name);
      assert.equal(new Set(names).size, names.length, `${part}: duplicate names`);
      const help = settingsHelp(part, declared);
      for (const d of declared) {
        assert.ok(d.doc.length > 10, `${part}.${d.name} lacks a doc`);
        assert.ok(help.includes(`LDN_SETTING_${d.name.toUpperCase()}`), `${part}.${d.name} missing from help`);
        if (d.default !== undefined) assert.equal(settingProblem(d, d.default), null, `${part}.${d.name}: its default is not valid`);
      }
    }
    assert.match(serveSettingsHelp(['node', 'ldn', 'serve', 'nvi', '--help']), /LDN_SETTING_NVI_INDEX_KEY/);
    assert.match(serveSettingsHelp(['node', 'ldn', 'serve', '--help']), /ldn serve <part> --help/);
  });

  it('vetting refuses bad values and only warns about unknown names', () => {
    assert.equal(vetSettings('nvi', { nvi_index_key: 'zz' }).refuse, true);
    const unknown = vetSettings('nvi', { nvi_indx_key: 'ab'.repeat(32) });
    assert.equal(unknown.refuse, false);
    assert.match(unknown.lines[0], /did you mean nvi_index_key/);
  });
});
